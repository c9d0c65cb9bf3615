package txnsim

import (
	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/threepc"
)

func (c *cluster) threePCConfig(id txn.NodeID) threepc.Config {
	cfg := threepc.DefaultConfig(id)
	cfg.Logger = c.logger
	return cfg
}

// threePCCoordinator adapts threepc.Coordinator to the simulator.
type threePCCoordinator struct {
	h    *sim.Host[msg]
	c    *cluster
	core *threepc.Coordinator
}

func (c *cluster) startThreePCCoordinator(h *sim.Host[msg], recs []txn.Record) sim.Node[msg] {
	core, err := threepc.NewCoordinator(c.threePCConfig(txn.NodeID(h.ID())), recs)
	if err != nil {
		c.check.failf("coordinator restart: %v", err)
		return inert{}
	}
	n := &threePCCoordinator{h: h, c: c, core: core}
	n.process()
	return n
}

func (n *threePCCoordinator) Deliver(from sim.NodeID, m msg) {
	if err := n.core.Step(txn.NodeID(from), m.threePC); err != nil {
		n.c.check.failf("coordinator: %v", err)
	}
	n.process()
}

func (n *threePCCoordinator) Tick() {
	n.core.Tick()
	n.process()
}

func (n *threePCCoordinator) begin(t txn.ID, parts []txn.NodeID) error {
	defer n.process()
	return n.core.Begin(t, parts)
}

func (n *threePCCoordinator) active() []txn.ID { return n.core.Active() }

func (n *threePCCoordinator) process() {
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
			n.h.Send(sim.NodeID(e.To), msg{kind: kindThreePC, threePC: e.Msg})
		}
	}
}

// threePCParticipant adapts threepc.Participant to the simulator; it votes
// like twoPCParticipant.
type threePCParticipant struct {
	h       *sim.Host[msg]
	c       *cluster
	core    *threepc.Participant
	pending []txn.ID
}

func (c *cluster) startThreePCParticipant(h *sim.Host[msg], recs []txn.Record) sim.Node[msg] {
	core, err := threepc.NewParticipant(c.threePCConfig(txn.NodeID(h.ID())), recs)
	if err != nil {
		c.check.failf("participant restart: %v", err)
		return inert{}
	}
	c.check.recovered(h.ID(), core.Outcome)
	return &threePCParticipant{h: h, c: c, core: core}
}

func (n *threePCParticipant) Deliver(from sim.NodeID, m msg) {
	if err := n.core.Step(txn.NodeID(from), m.threePC); err != nil {
		n.c.check.failf("participant n%d: %v", n.h.ID(), err)
	}
	n.process()
}

func (n *threePCParticipant) Tick() {
	for _, t := range n.pending {
		if err := n.core.Vote(t, drawVote(n.h, n.c.opts.NoVoteProb)); err != nil {
			n.c.check.failf("participant n%d: vote: %v", n.h.ID(), err)
		}
	}
	n.pending = n.pending[:0]
	n.core.Tick()
	n.process()
}

func (n *threePCParticipant) undecided() []txn.ID { return n.core.Undecided() }

func (n *threePCParticipant) process() {
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
			case threepc.MsgVote:
				n.c.check.vote(n.h.ID(), e.Msg.Txn, e.Msg.Vote)
			case threepc.MsgStateRequest:
				n.c.terminations[e.Msg.Txn] = true
			}
			n.h.Send(sim.NodeID(e.To), msg{kind: kindThreePC, threePC: e.Msg})
		}
		n.pending = append(n.pending, rd.VoteRequests...)
	}
}
