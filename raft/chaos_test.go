package raft

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

var long = flag.Bool("long", false, "run the long randomized tests")

// TestChaos runs 5-node clusters under random partitions, message loss,
// restarts (from persisted state only) and proposals, and checks the
// safety properties of the paper (figure 3): Election Safety (at most one
// leader per term), and State Machine Safety (applied sequences never
// diverge), plus liveness once the network heals. Each seed replays exactly.
func TestChaos(t *testing.T) {
	seeds := 12
	if *long {
		seeds = 500
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runChaos(t, seed, 600)
		})
	}
}

func runChaos(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0xC4A05))
	nw := &network{t: t, nodes: map[uint64]*testNode{}, cut: map[[2]uint64]bool{}, sent: map[pb.MessageType]int{}, seed: seed}
	voters := []uint64{1, 2, 3, 4, 5}
	for _, id := range voters {
		c := testConfig(id, bootstrapped(voters), seed)
		c.PreVote = rng.IntN(2) == 0
		c.CheckQuorum = rng.IntN(2) == 0
		if c.CheckQuorum && seed%2 == 0 {
			c.ReadOnlyOption = ReadOnlyLeaseBased
		}
		c.MaxInflightMsgs = 1 + rng.IntN(4)
		c.MaxSizePerMsg = 256
		c.MaxInflightBytes = 1 << 12
		nw.add(newTestNode(t, c))
	}
	lossPct := rng.IntN(20)
	nw.filter = func(m pb.Message) bool { return rng.IntN(100) >= lossPct }
	leaders := map[uint64]uint64{} // term -> leader
	checkLeaders := func() {
		for _, id := range nw.ids {
			r := nw.node(id).raft()
			if r.state != StateLeader {
				continue
			}
			if l, ok := leaders[r.Term]; ok && l != id {
				t.Fatalf("seed %d: two leaders in term %d: %d and %d", seed, r.Term, l, id)
			}
			leaders[r.Term] = id
		}
	}
	proposals := 0
	// Linearizable reads: a read must observe every entry committed
	// anywhere before it was issued.
	readFloor := map[string]uint64{}
	served := 0
	maxCommit := func() uint64 {
		var c uint64
		for _, id := range nw.ids {
			c = max(c, nw.node(id).raft().raftLog.committed)
		}
		return c
	}
	checkReads := func() {
		for _, id := range nw.ids {
			n := nw.node(id)
			for _, rs := range n.readStates {
				if floor := readFloor[string(rs.RequestCtx)]; rs.Index < floor {
					t.Fatalf("seed %d: read %s at index %d misses writes committed up to %d", seed, rs.RequestCtx, rs.Index, floor)
				}
				served++
			}
			n.readStates = nil
		}
	}
	for step := range steps {
		switch k := rng.IntN(100); {
		case k < 50:
			for _, id := range nw.ids {
				nw.node(id).rn.Tick()
			}
		case k < 55:
			id := voters[rng.IntN(5)]
			ctx := fmt.Sprintf("r%d", step)
			readFloor[ctx] = maxCommit()
			_ = nw.node(id).rn.ReadIndex([]byte(ctx))
		case k < 75:
			if l := nw.leader(); l != 0 {
				if err := nw.node(l).rn.Propose(fmt.Appendf(nil, "s%d-p%d", seed, step)); err == nil {
					proposals++
				}
			}
		case k < 85:
			nw.heal()
			a := voters[rng.IntN(5)]
			b := voters[rng.IntN(5)]
			nw.partition([]uint64{a}, []uint64{b})
			if rng.IntN(2) == 0 {
				nw.isolate(voters[rng.IntN(5)])
			}
		case k < 89:
			if l := nw.leader(); l != 0 {
				nw.isolate(l)
			}
		case k < 92:
			nw.heal()
		case k < 95:
			nw.restart(voters[rng.IntN(5)])
		default:
			// Deliver only part of the queue: reordering between steps.
			nw.processReady()
			rng.Shuffle(len(nw.queue), func(i, j int) { nw.queue[i], nw.queue[j] = nw.queue[j], nw.queue[i] })
		}
		nw.processReady()
		nw.deliver()
		checkLeaders()
		checkReads()
		nw.checkLogsAgree()
	}
	// Heal everything and let the cluster converge.
	nw.heal()
	nw.filter = nil
	for i := 0; i < 50*nw.node(1).cfg.ElectionTick; i++ {
		nw.tickAll(1)
		checkLeaders()
		if l := nw.leader(); l != 0 && converged(nw) {
			break
		}
	}
	l := nw.leader()
	if l == 0 {
		t.Fatalf("seed %d: no leader after healing\n%s", seed, nw)
	}
	if err := nw.node(l).rn.Propose([]byte("final")); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	nw.tickAll(3)
	if !converged(nw) {
		t.Fatalf("seed %d: not converged\n%s", seed, nw)
	}
	nw.checkLogsAgree()
	t.Logf("seed %d: %d reads (%d served), %d proposals accepted, %d entries applied, %d terms with a leader, loss %d%%",
		seed, len(readFloor), served, proposals, len(nw.node(l).applied), len(leaders), lossPct)
	for _, id := range nw.ids {
		a := nw.node(id).applied
		if string(a[len(a)-1]) != "final" {
			t.Fatalf("seed %d: node %d last applied %q", seed, id, a[len(a)-1])
		}
	}
}

func converged(nw *network) bool {
	c := nw.node(nw.ids[0]).raft().raftLog.committed
	for _, id := range nw.ids {
		r := nw.node(id).raft()
		if r.raftLog.committed != c || r.raftLog.applied != c {
			return false
		}
	}
	return true
}
