package threepc

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/cairndb/cairn/txn"
)

// net is a deterministic in-memory network for scenario tests, like the
// one in package twopc: node 1 is the coordinator, 2..n+1 the
// participants; FIFO delivery unless drop says otherwise; a crash keeps
// the records written with or before a sync.
type net struct {
	t        *testing.T
	coord    *Coordinator
	parts    map[txn.NodeID]*Participant
	durable  map[txn.NodeID][]txn.Record
	unsynced map[txn.NodeID][]txn.Record
	queue    []wire
	down     map[txn.NodeID]bool
	readys   map[txn.NodeID][]txn.Ready[Message]
	vote     func(p txn.NodeID, t txn.ID) txn.Vote
	drop     func(w wire) bool
}

type wire struct {
	from, to txn.NodeID
	m        Message
}

const coordID txn.NodeID = 1

func newNet(t *testing.T, participants int) *net {
	n := &net{
		t: t, parts: map[txn.NodeID]*Participant{},
		durable: map[txn.NodeID][]txn.Record{}, unsynced: map[txn.NodeID][]txn.Record{},
		down: map[txn.NodeID]bool{}, readys: map[txn.NodeID][]txn.Ready[Message]{},
		vote: func(txn.NodeID, txn.ID) txn.Vote { return txn.VoteYes },
	}
	n.restart(coordID)
	for i := range participants {
		n.restart(txn.NodeID(2 + i))
	}
	return n
}

func (n *net) participantIDs() []txn.NodeID {
	var ids []txn.NodeID
	for id := range n.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (n *net) restart(id txn.NodeID) {
	n.t.Helper()
	n.down[id] = false
	n.unsynced[id] = nil
	cfg := DefaultConfig(id)
	cfg.Logger = slog.New(slog.DiscardHandler)
	var err error
	if id == coordID {
		n.coord, err = NewCoordinator(cfg, n.durable[id])
	} else {
		n.parts[id], err = NewParticipant(cfg, n.durable[id])
	}
	if err != nil {
		n.t.Fatalf("restart n%d: %v", id, err)
	}
	n.flush()
}

func (n *net) crash(id txn.NodeID) {
	n.down[id] = true
	n.unsynced[id] = nil
}

func (n *net) log(id txn.NodeID) []txn.Record {
	return append(slices.Clone(n.durable[id]), n.unsynced[id]...)
}

func (n *net) handle(id txn.NodeID, rd txn.Ready[Message]) {
	n.readys[id] = append(n.readys[id], rd)
	n.unsynced[id] = append(n.unsynced[id], rd.Records...)
	if rd.MustSync {
		n.durable[id] = append(n.durable[id], n.unsynced[id]...)
		n.unsynced[id] = nil
	}
	for _, e := range rd.Messages {
		n.queue = append(n.queue, wire{from: id, to: e.To, m: e.Msg})
	}
}

func (n *net) flush() {
	for progress := true; progress; {
		progress = false
		if n.coord != nil && !n.down[coordID] {
			for n.coord.HasReady() {
				progress = true
				n.handle(coordID, n.coord.Ready())
			}
		}
		for _, id := range n.participantIDs() {
			p := n.parts[id]
			for !n.down[id] && p.HasReady() {
				progress = true
				rd := p.Ready()
				n.handle(id, rd)
				for _, t := range rd.VoteRequests {
					if err := p.Vote(t, n.vote(id, t)); err != nil {
						n.t.Fatalf("n%d vote: %v", id, err)
					}
				}
			}
		}
	}
}

func (n *net) deliver() {
	n.t.Helper()
	for i := 0; len(n.queue) > 0; i++ {
		if i > 100000 {
			n.t.Fatal("messages never stop")
		}
		w := n.queue[0]
		n.queue = n.queue[1:]
		if n.down[w.to] || (n.drop != nil && n.drop(w)) {
			continue
		}
		var err error
		if w.to == coordID {
			err = n.coord.Step(w.from, w.m)
		} else {
			err = n.parts[w.to].Step(w.from, w.m)
		}
		if err != nil {
			n.t.Fatalf("n%d <- n%d %v: %v", w.to, w.from, w.m, err)
		}
		n.flush()
	}
}

func (n *net) run(ticks int) {
	for range ticks {
		if !n.down[coordID] {
			n.coord.Tick()
		}
		for _, id := range n.participantIDs() {
			if !n.down[id] {
				n.parts[id].Tick()
			}
		}
		n.flush()
		n.deliver()
	}
}

func (n *net) outcomes(t txn.ID) map[txn.NodeID]txn.Outcome {
	out := map[txn.NodeID]txn.Outcome{}
	for _, id := range n.participantIDs() {
		o, _ := n.parts[id].Outcome(t)
		out[id] = o
	}
	return out
}

func (n *net) wantOutcomes(t txn.ID, want map[txn.NodeID]txn.Outcome) {
	n.t.Helper()
	got := n.outcomes(t)
	for id, o := range want {
		if got[id] != o {
			n.t.Fatalf("t%d: outcomes %v, want %v", t, got, want)
		}
	}
}

func all(ids []txn.NodeID, o txn.Outcome) map[txn.NodeID]txn.Outcome {
	m := map[txn.NodeID]txn.Outcome{}
	for _, id := range ids {
		m[id] = o
	}
	return m
}

func kinds(recs []txn.Record) []txn.RecordKind {
	var ks []txn.RecordKind
	for _, r := range recs {
		ks = append(ks, r.Kind)
	}
	return ks
}

// isType returns a drop rule for the messages of type mt from from.
func isType(from txn.NodeID, mt MsgType) func(w wire) bool {
	return func(w wire) bool { return w.from == from && w.m.Type == mt }
}
