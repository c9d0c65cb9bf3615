package txnsim

import (
	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/decision"
	"github.com/cairndb/cairn/txn/twopc"
)

func (c *cluster) twoPCConfig(id txn.NodeID) twopc.Config {
	cfg := twopc.DefaultConfig(id)
	cfg.Registers = c.registers
	cfg.Logger = c.logger
	return cfg
}

// twoPCCoordinator adapts twopc.Coordinator to the simulator.
type twoPCCoordinator struct {
	h    *sim.Host[msg]
	c    *cluster
	core *twopc.Coordinator
}

func (c *cluster) startTwoPCCoordinator(h *sim.Host[msg], recs []txn.Record) sim.Node[msg] {
	core, err := twopc.NewCoordinator(c.twoPCConfig(txn.NodeID(h.ID())), recs)
	if err != nil {
		c.check.failf("coordinator restart: %v", err)
		return inert{}
	}
	n := &twoPCCoordinator{h: h, c: c, core: core}
	n.process()
	return n
}

func (n *twoPCCoordinator) Deliver(from sim.NodeID, m msg) {
	var err error
	if m.kind == kindRegister {
		err = n.core.StepRegister(txn.NodeID(from), m.reg)
	} else {
		err = n.core.Step(txn.NodeID(from), m.twoPC)
	}
	if err != nil {
		n.c.check.failf("coordinator: %v", err)
	}
	n.process()
}

func (n *twoPCCoordinator) Tick() {
	n.core.Tick()
	n.process()
}

func (n *twoPCCoordinator) begin(t txn.ID, parts []txn.NodeID) error {
	defer n.process()
	return n.core.Begin(t, parts)
}

func (n *twoPCCoordinator) active() []txn.ID { return n.core.Active() }

// process carries out every Ready: persist (and sync), report the
// decisions, then send.
func (n *twoPCCoordinator) process() {
	for n.core.HasReady() && n.h.Alive() {
		rd := n.core.Ready()
		sync := rd.MustSync && !(n.c.opts.Bugs.SkipDecisionSync && hasDecision(rd.Records))
		if err := persist(n.h, rd.Records, sync); err != nil {
			n.c.check.failf("%v", err)
			return
		}
		commit := false
		for _, d := range rd.Decided {
			n.c.check.decided(n.h.ID(), "coordinator", d.Txn, d.Outcome)
			commit = commit || d.Outcome == txn.Commit
		}
		if commit && n.c.onCoordinatorCommit() {
			return
		}
		for _, e := range rd.Messages {
			n.h.Send(sim.NodeID(e.To), msg{kind: kindTwoPC, twoPC: e.Msg})
		}
		sendRegister(n.h, rd.Register)
	}
}

func sendRegister(h *sim.Host[msg], envs []txn.Envelope[decision.Message]) {
	for _, e := range envs {
		h.Send(sim.NodeID(e.To), msg{kind: kindRegister, reg: e.Msg})
	}
}

// twoPCParticipant adapts twopc.Participant to the simulator. It answers
// vote requests at its next tick (preparing takes a moment), yes unless a
// draw below Options.NoVoteProb says no.
type twoPCParticipant struct {
	h       *sim.Host[msg]
	c       *cluster
	core    *twopc.Participant
	pending []txn.ID // vote requests to answer at the next tick
}

func (c *cluster) startTwoPCParticipant(h *sim.Host[msg], recs []txn.Record) sim.Node[msg] {
	core, err := twopc.NewParticipant(c.twoPCConfig(txn.NodeID(h.ID())), recs)
	if err != nil {
		c.check.failf("participant restart: %v", err)
		return inert{}
	}
	c.check.recovered(h.ID(), core.Outcome)
	return &twoPCParticipant{h: h, c: c, core: core}
}

func (n *twoPCParticipant) Deliver(from sim.NodeID, m msg) {
	var err error
	if m.kind == kindRegister {
		err = n.core.StepRegister(txn.NodeID(from), m.reg)
	} else {
		err = n.core.Step(txn.NodeID(from), m.twoPC)
	}
	if err != nil {
		n.c.check.failf("participant n%d: %v", n.h.ID(), err)
	}
	n.process()
}

func (n *twoPCParticipant) Tick() {
	for _, t := range n.pending {
		if err := n.core.Vote(t, drawVote(n.h, n.c.opts.NoVoteProb)); err != nil {
			n.c.check.failf("participant n%d: vote: %v", n.h.ID(), err)
		}
	}
	n.pending = n.pending[:0]
	n.core.Tick()
	n.process()
}

func (n *twoPCParticipant) undecided() []txn.ID { return n.core.Undecided() }

func (n *twoPCParticipant) process() {
	for n.core.HasReady() {
		rd := n.core.Ready()
		sync := rd.MustSync && !(n.c.opts.Bugs.SkipVoteSync && onlyVotes(rd.Records))
		if err := persist(n.h, rd.Records, sync); err != nil {
			n.c.check.failf("%v", err)
			return
		}
		for _, d := range rd.Decided {
			n.c.check.apply(n.h.ID(), d.Txn, d.Outcome)
		}
		for _, e := range rd.Messages {
			switch e.Msg.Type {
			case twopc.MsgVote:
				n.c.check.vote(n.h.ID(), e.Msg.Txn, e.Msg.Vote)
			case twopc.MsgDecisionRequest:
				n.c.terminations[e.Msg.Txn] = true
			}
			n.h.Send(sim.NodeID(e.To), msg{kind: kindTwoPC, twoPC: e.Msg})
		}
		for _, e := range rd.Register {
			n.c.terminations[e.Msg.Txn] = true
		}
		sendRegister(n.h, rd.Register)
		n.pending = append(n.pending, rd.VoteRequests...)
	}
}

func drawVote(h *sim.Host[msg], noProb float64) txn.Vote {
	if h.Rand().Float64() < noProb {
		return txn.VoteNo
	}
	return txn.VoteYes
}

// onlyVotes reports whether recs hold vote records and nothing else (the
// records Bugs.SkipVoteSync leaves unsynced).
func onlyVotes(recs []txn.Record) bool {
	for _, r := range recs {
		if r.Kind != txn.RecordVote {
			return false
		}
	}
	return len(recs) > 0
}

// hasDecision reports whether recs hold a decision record (the records
// Bugs.SkipDecisionSync leaves unsynced).
func hasDecision(recs []txn.Record) bool {
	for _, r := range recs {
		if r.Kind == txn.RecordDecision {
			return true
		}
	}
	return false
}

// registerNode adapts a decision.Replica to the simulator.
type registerNode struct {
	h    *sim.Host[msg]
	c    *cluster
	core *decision.Replica
}

func (c *cluster) startRegister(h *sim.Host[msg], recs []txn.Record) sim.Node[msg] {
	cfg := decision.DefaultConfig(txn.NodeID(h.ID()), c.registers, h.Rand())
	cfg.Logger = c.logger
	core, err := decision.NewReplica(cfg, recs)
	if err != nil {
		c.check.failf("register restart: %v", err)
		return inert{}
	}
	return &registerNode{h: h, c: c, core: core}
}

func (n *registerNode) Deliver(from sim.NodeID, m msg) {
	if m.kind != kindRegister {
		n.c.check.failf("register n%d got %s", n.h.ID(), describe(m))
		return
	}
	if err := n.core.Step(txn.NodeID(from), m.reg); err != nil {
		n.c.check.failf("register n%d: %v", n.h.ID(), err)
	}
	n.process()
}

func (n *registerNode) Tick() {
	n.core.Tick()
	n.process()
}

func (n *registerNode) process() {
	for n.core.HasReady() {
		rd := n.core.Ready()
		if err := persist(n.h, rd.Records, rd.MustSync); err != nil {
			n.c.check.failf("%v", err)
			return
		}
		for _, d := range rd.Decided {
			n.c.check.decided(n.h.ID(), "register", d.Txn, d.Outcome)
		}
		sendRegister(n.h, rd.Messages)
	}
}
