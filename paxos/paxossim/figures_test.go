package paxossim

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// quietNet is a network without loss, duplication or reordering, for
// measuring the protocol's own costs.
func quietNet() *sim.NetConfig {
	n := sim.DefaultNetConfig()
	n.DropProb, n.DupProb, n.ReorderProb = 0, 0, 0
	return &n
}

func calmOptions(nodes, repl, clients int, ops ...paxos.OpKind) Options {
	o := OptionsForSeed(1, 20000)
	o.Nodes, o.Replication, o.Keys, o.Clients = nodes, repl, 1, clients
	o.Calm, o.Net, o.OnlyOps = true, quietNet(), ops
	o.Lamport, o.FenceReads = false, false
	o.RoundTicks, o.BackoffTicks, o.MaxBackoffTicks, o.MaxAttempts = 5, 2, 20, 8
	o.ThinkTime = 50 * time.Millisecond
	return o
}

func perOp(r Result, n uint64) string {
	msgs := 0
	for _, c := range r.ClientMessages {
		msgs += c
	}
	if n == 0 {
		return "no ops"
	}
	s := r.ClientStats
	f := func(x uint64) float64 { return float64(x) / float64(n) }
	return fmt.Sprintf("%d ops: %.2f msgs, %.2f prepare + %.2f accept rounds, %.3f contention retries, %.3f finishes, %.3f repairs per op; %d failed (%d unknown)",
		n, float64(msgs)/float64(n), f(s.Rounds), f(s.AcceptRounds), f(s.ContentionRetries), f(s.Finished), f(s.Repairs), s.Failed, s.Unknown)
}

// TestFastPathCost measures the fast path: one client, one coordinator, a
// network that loses nothing, and a pause between operations longer than
// the network's delay. A write that applies costs 2 round trips before its
// answer and 5N messages (prepare, promise, accept, accepted and commit for
// each of N replicas; an Accept that arrives after its Commit, which the
// network's jitter allows, is not answered); a read, or a CAS whose
// condition fails, 1 round trip and 2N messages.
func TestFastPathCost(t *testing.T) {
	for _, n := range []int{3, 5} {
		for _, ops := range [][]paxos.OpKind{{paxos.OpSet}, {paxos.OpGet}, {paxos.OpSetNX, paxos.OpCAS}} {
			o := calmOptions(5, n, 1, ops...)
			o.Coordinator = 1
			o.MinThink = 20 * time.Millisecond // above the network's delay: the previous commit has landed
			r, err := Run(7, o)
			if err != nil {
				t.Fatal(err)
			}
			done, applied := int(r.ClientStats.Succeeded), r.Applied
			m := r.ClientMessages
			trips := int(r.ClientStats.Rounds + r.ClientStats.AcceptRounds)
			writeMsgs := 0
			for _, c := range m {
				writeMsgs += c
			}
			writeMsgs -= 2 * n * (done - applied) // what the operations that did not write cost
			perWrite := "-"
			if applied > 0 {
				perWrite = fmt.Sprintf("%.2f", float64(writeMsgs)/float64(applied))
			}
			t.Logf("N=%d %v: %d ops, %d writes applied: %s msgs per applied write, %.2f round trips per op",
				n, ops, done, applied, perWrite, float64(trips)/float64(done))
			want := map[paxos.MsgType]int{
				paxos.MsgPrepare: n * done, paxos.MsgPromise: n * done, paxos.MsgAccept: n * applied, paxos.MsgCommit: n * applied,
			}
			bad := done < 50 || r.ClientStats.Failed > 0 || trips != done+applied || m[paxos.MsgReject] != 0 ||
				m[paxos.MsgAccepted] > n*applied || m[paxos.MsgAccepted] < n*applied*98/100
			for typ, w := range want {
				bad = bad || m[typ] != w
			}
			if bad {
				t.Errorf("N=%d %v: %d ops, %d applied: messages %v, rounds %d; want %v and %d (stats %+v)",
					n, ops, done, applied, m, trips, want, done+applied, r.ClientStats)
			}
		}
	}
}

// TestContentionFigures logs what contention costs: 1 to 8 clients writing
// one key (CAS and SET) through random coordinators on a quiet network,
// with HLC and with Lamport ballots. It checks only that every run is
// correct; the figures go to the log (go test -run ContentionFigures -v).
func TestContentionFigures(t *testing.T) {
	for _, lamport := range []bool{false, true} {
		for _, clients := range []int{1, 2, 4, 8} {
			o := calmOptions(5, 3, clients, paxos.OpCAS, paxos.OpSet)
			o.Lamport = lamport
			o.ThinkTime = 10 * time.Millisecond
			r, err := Run(11, o)
			if err != nil {
				t.Fatal(err)
			}
			clock := "HLC"
			if lamport {
				clock = "Lamport"
			}
			t.Logf("%s ballots, %d clients: %s", clock, clients, perOp(r, r.ClientStats.Proposals))
		}
	}
}
