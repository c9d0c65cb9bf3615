package twopc

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/decision"
)

// net is a deterministic in-memory network for scenario tests: node 1 is
// the coordinator, 2..n+1 the participants, and, with registers, three
// decision register replicas after them. Messages are delivered in FIFO
// order unless a drop rule says otherwise. Each node's log keeps what a
// crash keeps: records written with a sync, or before one.
type net struct {
	t        *testing.T
	coord    *Coordinator
	parts    map[txn.NodeID]*Participant
	regs     map[txn.NodeID]*decision.Replica
	regIDs   []txn.NodeID
	durable  map[txn.NodeID][]txn.Record
	unsynced map[txn.NodeID][]txn.Record
	queue    []wire
	down     map[txn.NodeID]bool
	decided  map[txn.NodeID]map[txn.ID]txn.Outcome
	readys   map[txn.NodeID][]Ready
	// vote answers every vote request at once; default yes.
	vote func(p txn.NodeID, t txn.ID) txn.Vote
	// drop, if set, loses the messages it returns true for.
	drop func(w wire) bool
}

type wire struct {
	from, to txn.NodeID
	m        Message
	reg      *decision.Message
}

const coordID txn.NodeID = 1

func newNet(t *testing.T, participants int, registers bool) *net {
	n := &net{
		t: t, parts: map[txn.NodeID]*Participant{}, regs: map[txn.NodeID]*decision.Replica{},
		durable: map[txn.NodeID][]txn.Record{}, unsynced: map[txn.NodeID][]txn.Record{},
		down: map[txn.NodeID]bool{}, decided: map[txn.NodeID]map[txn.ID]txn.Outcome{}, readys: map[txn.NodeID][]Ready{},
		vote: func(txn.NodeID, txn.ID) txn.Vote { return txn.VoteYes },
	}
	if registers {
		for i := range 3 {
			n.regIDs = append(n.regIDs, txn.NodeID(participants+2+i))
		}
	}
	n.restart(coordID)
	for i := range participants {
		n.restart(txn.NodeID(2 + i))
	}
	for _, id := range n.regIDs {
		n.restart(id)
	}
	return n
}

func (n *net) config(id txn.NodeID) Config {
	cfg := DefaultConfig(id)
	cfg.Registers = n.regIDs
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func (n *net) participantIDs() []txn.NodeID {
	var ids []txn.NodeID
	for id := range n.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// restart builds node id from its durable log.
func (n *net) restart(id txn.NodeID) {
	n.t.Helper()
	n.down[id] = false
	n.unsynced[id] = nil
	var err error
	switch {
	case id == coordID:
		n.coord, err = NewCoordinator(n.config(id), n.durable[id])
	case slices.Contains(n.regIDs, id):
		n.regs[id], err = decision.NewReplica(decision.DefaultConfig(id, n.regIDs, rand.New(rand.NewPCG(uint64(id), 0))), n.durable[id])
	default:
		n.parts[id], err = NewParticipant(n.config(id), n.durable[id])
	}
	if err != nil {
		n.t.Fatalf("restart n%d: %v", id, err)
	}
	n.flush()
}

// crash stops node id; its unsynced records are lost.
func (n *net) crash(id txn.NodeID) {
	n.down[id] = true
	n.unsynced[id] = nil
}

func (n *net) persist(id txn.NodeID, recs []txn.Record, sync bool) {
	n.unsynced[id] = append(n.unsynced[id], recs...)
	if sync {
		n.durable[id] = append(n.durable[id], n.unsynced[id]...)
		n.unsynced[id] = nil
	}
}

// log returns what node id has written, synced or not.
func (n *net) log(id txn.NodeID) []txn.Record {
	return append(slices.Clone(n.durable[id]), n.unsynced[id]...)
}

// flush carries out every Ready of every running node.
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
		for _, id := range n.regIDs {
			r := n.regs[id]
			for r != nil && !n.down[id] && r.HasReady() {
				progress = true
				rd := r.Ready()
				n.persist(id, rd.Records, rd.MustSync)
				for _, e := range rd.Messages {
					m := e.Msg
					n.queue = append(n.queue, wire{from: id, to: e.To, reg: &m})
				}
			}
		}
	}
}

func (n *net) handle(id txn.NodeID, rd Ready) {
	n.readys[id] = append(n.readys[id], rd)
	n.persist(id, rd.Records, rd.MustSync)
	for _, e := range rd.Messages {
		n.queue = append(n.queue, wire{from: id, to: e.To, m: e.Msg})
	}
	for _, e := range rd.Register {
		m := e.Msg
		n.queue = append(n.queue, wire{from: id, to: e.To, reg: &m})
	}
	for _, d := range rd.Decided {
		if n.decided[id] == nil {
			n.decided[id] = map[txn.ID]txn.Outcome{}
		}
		if old, ok := n.decided[id][d.Txn]; ok && old != d.Outcome {
			n.t.Fatalf("n%d decided t%d %s after %s", id, d.Txn, d.Outcome, old)
		}
		n.decided[id][d.Txn] = d.Outcome
	}
}

// deliver hands out queued messages until none is left.
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
		switch {
		case w.reg != nil && slices.Contains(n.regIDs, w.to):
			err = n.regs[w.to].Step(w.from, *w.reg)
		case w.reg != nil && w.to == coordID:
			err = n.coord.StepRegister(w.from, *w.reg)
		case w.reg != nil:
			err = n.parts[w.to].StepRegister(w.from, *w.reg)
		case w.to == coordID:
			err = n.coord.Step(w.from, w.m)
		default:
			err = n.parts[w.to].Step(w.from, w.m)
		}
		if err != nil {
			n.t.Fatalf("n%d <- n%d %v: %v", w.to, w.from, w.m, err)
		}
		n.flush()
	}
}

// run ticks every running node ticks times, delivering messages after each
// tick.
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
		for _, id := range n.regIDs {
			if !n.down[id] {
				n.regs[id].Tick()
			}
		}
		n.flush()
		n.deliver()
	}
}

// outcomes returns what each participant decided for t (0: undecided).
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
