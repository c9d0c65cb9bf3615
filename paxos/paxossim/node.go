package paxossim

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// accFilePrefix names the files of a node's simulated disk that hold the
// acceptor state of one key each ("acc/" and the key in hex).
const accFilePrefix = "acc/"

func accFile(key string) string { return accFilePrefix + hex.EncodeToString([]byte(key)) }

// simEpoch puts simulated physical clocks near real wall times, so HLC
// ballots look like a production node's.
const simEpoch = int64(1_700_000_000_000_000_000)

// physical is a node's simulated physical clock: simulated time plus the
// node's fixed skew.
type physical struct {
	h    *sim.Host[paxos.Message]
	skew time.Duration
}

func (p physical) Now() int64 { return simEpoch + int64(p.h.Now()) + int64(p.skew) }

// Node is one simulated node: the acceptor of every key whose replica list
// names it, and a proposer (coordinator) for the clients that reach it.
type Node struct {
	h    *sim.Host[paxos.Message]
	c    *cluster
	acc  map[string]paxos.AcceptorState
	prop *paxos.Proposer
	// clock is the node's ballot clock, shared by its acceptor (which
	// witnesses the ballots it is sent) and its proposer.
	clock paxos.BallotClock
	// ticks counts this incarnation's ticks: the watchdog measures an
	// operation's age in them.
	ticks int
	calls map[uint64]*call
	last  paxos.Stats // proposer stats already added to the cluster's
	// recovering holds, for a replaced node, the keys it has not caught up
	// on yet and the replicas merged so far.
	recovering map[string]map[sim.NodeID]bool
}

// call is a client operation this node coordinates.
type call struct {
	submitted int
	reply     func(paxos.Outcome)
}

// start builds a node incarnation from its disk.
func (c *cluster) start(h *sim.Host[paxos.Message]) sim.Node[paxos.Message] {
	n := &Node{h: h, c: c, acc: map[string]paxos.AcceptorState{}, calls: map[uint64]*call{}}
	d := h.Disk()
	if c.opts.ReplacePercent > 0 && h.Incarnation() > 1 && h.Rand().IntN(100) < c.opts.ReplacePercent && c.mayReplace(h.ID()) {
		c.replace(h)
	}
	if d.Exists(replacedFile) && !c.opts.Bugs.NoRecovery {
		n.recovering = map[string]map[sim.NodeID]bool{}
		for _, k := range c.keys {
			if slices.Contains(c.replicas[k], paxos.NodeID(h.ID())) && !d.Exists(recoveredFile(k)) {
				n.recovering[k] = map[sim.NodeID]bool{}
			}
		}
	}
	for _, name := range d.Names() {
		key, ok := strings.CutPrefix(name, accFilePrefix)
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(key)
		rec, _ := d.ReadFile(name)
		s, derr := paxos.DecodeAcceptorState(rec)
		if err != nil || derr != nil {
			c.check.failf("node %d: acceptor file %s: %v %v", h.ID(), name, err, derr)
			return n
		}
		n.acc[string(raw)] = s
	}
	c.check.restarted(h.ID(), n.acc)
	var bc paxos.BallotClock
	if c.opts.Lamport {
		bc = paxos.LamportBallots(new(clock.Lamport)) // volatile: restarts at 0
	} else {
		bc = paxos.HLCBallots(clock.NewHLC(physical{h, c.skew[h.ID()-1]}, clock.DefaultMaxOffset))
	}
	cfg := paxos.DefaultConfig(paxos.NodeID(h.ID()), h.Incarnation(), bc, h.Rand())
	cfg.RoundTicks = c.opts.RoundTicks
	cfg.BackoffTicks = c.opts.BackoffTicks
	cfg.MaxBackoffTicks = c.opts.MaxBackoffTicks
	cfg.MaxAttempts = c.opts.MaxAttempts
	cfg.FenceReads = c.opts.FenceReads
	cfg.Limits = limits
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := paxos.NewProposer(cfg)
	if err != nil {
		c.check.failf("node %d: %v", h.ID(), err)
		return n
	}
	n.prop, n.clock = p, bc
	return n
}

// limits are the simulated cluster's key and value bounds.
var limits = paxos.Limits{MaxKeyBytes: 64, MaxValueBytes: 256}

// Deliver implements sim.Node. Every message crosses the codec, as it
// would cross the transport.
func (n *Node) Deliver(from sim.NodeID, msg paxos.Message) {
	if n.prop == nil {
		return
	}
	m, err := paxos.DecodeMessage(paxos.EncodeMessage(msg))
	if err == nil {
		err = m.Validate(limits)
	}
	if err != nil {
		n.c.check.failf("node %d: message %s from %d: %v", n.h.ID(), msg, from, err)
		return
	}
	switch m.Type {
	case paxos.MsgPrepare, paxos.MsgAccept, paxos.MsgCommit:
		// A node's clock follows the ballots its acceptor sees, so that
		// its own proposals start above them (the driver's HLC does the
		// same with every message's timestamp).
		n.clock.Witness(m.Round().Time)
		n.acceptorStep(from, m)
	default:
		if err := n.prop.Step(paxos.NodeID(from), m); err != nil {
			n.c.check.failf("node %d: proposer: %s: %v", n.h.ID(), m, err)
		}
		n.flush()
	}
}

// acceptorStep runs the acceptor on m, persists as the output says (the
// durability contract), then replies; Bugs break this on purpose.
func (n *Node) acceptorStep(from sim.NodeID, m paxos.Message) {
	if _, ok := n.recovering[m.Key]; ok && m.Type != paxos.MsgCommit {
		n.c.res.RefusedRecovering++
		return // not caught up: silence, as if the message were lost
	}
	s := n.acc[m.Key]
	in := s
	bugs := n.c.opts.Bugs
	if bugs.AcceptBelowPromise && m.Type == paxos.MsgAccept {
		in.Promised = paxos.Ballot{} // forget the promise while deciding
	}
	out, err := paxos.StepAcceptor(in, m)
	if err != nil {
		n.c.check.failf("node %d: acceptor: %s: %v", n.h.ID(), m, err)
		return
	}
	if bugs.AcceptBelowPromise && s.Promised.Compare(out.State.Promised) > 0 {
		out.State.Promised = s.Promised // ...and keep it afterwards, so no local check sees the bug
		out.Persist = true
	}
	n.c.check.transition(n.h.ID(), m.Key, s, out.State)
	if out.Persist {
		d := n.h.Disk()
		name := accFile(m.Key)
		d.WriteFile(name, paxos.EncodeAcceptorState(out.State))
		if out.MustSync && !bugs.SkipSync {
			d.Sync(name)
		}
	}
	n.acc[m.Key] = out.State
	if m.Type == paxos.MsgCommit && out.State.Committed.Ballot != s.Committed.Ballot {
		n.c.check.committed(n.h.ID(), m.Key, out.State.Committed)
	}
	switch out.Reply.Type {
	case 0:
		return
	case paxos.MsgPromise:
		n.c.check.promised(n.h.ID(), m.Key, m.Ballot)
	case paxos.MsgAccepted:
		n.c.check.acked(n.h.ID(), m.Key, m.Proposal)
	}
	n.c.count(out.Reply.Type)
	n.h.Send(from, out.Reply)
}

// Tick implements sim.Node: it ticks the proposer and checks that every
// operation it coordinates is answered within the proposer's bound.
func (n *Node) Tick() {
	if n.prop == nil {
		return
	}
	n.ticks++
	n.recover()
	n.prop.Tick()
	n.flush()
	bound := n.c.opBoundTicks()
	for _, id := range slices.Sorted(maps.Keys(n.calls)) {
		if age := n.ticks - n.calls[id].submitted; age > bound {
			n.c.check.failf("liveness: node %d has not answered request %d after %d ticks (bound %d)", n.h.ID(), id, age, bound)
		}
	}
}

// flush carries out the proposer's Ready: messages to the network,
// outcomes to the clients.
func (n *Node) flush() {
	for n.prop.HasReady() {
		rd := n.prop.Ready()
		for _, e := range rd.Messages {
			if e.Msg.Type == paxos.MsgAccept || e.Msg.Type == paxos.MsgCommit {
				n.c.check.offered(e.Msg.Key, e.Msg.Proposal)
			}
			n.c.count(e.Msg.Type)
			n.h.Send(sim.NodeID(e.To), e.Msg)
		}
		for _, o := range rd.Outcomes {
			cl, ok := n.calls[o.ID]
			if !ok {
				n.c.check.failf("node %d: outcome for unknown request %d", n.h.ID(), o.ID)
				continue
			}
			delete(n.calls, o.ID)
			cl.reply(o)
		}
	}
	st := n.prop.Stats()
	n.c.addStats(st, n.last)
	n.last = st
}

// Submit starts a client operation on this node as coordinator. An error
// means the operation was refused and had no effect.
func (n *Node) Submit(key string, op paxos.Op, reply func(paxos.Outcome)) error {
	if n.prop == nil {
		return fmt.Errorf("node %d failed to start", n.h.ID())
	}
	n.c.nextID++
	id := n.c.nextID
	if err := n.prop.Propose(id, key, n.c.replicas[key], op); err != nil {
		return err
	}
	n.calls[id] = &call{submitted: n.ticks, reply: reply}
	n.flush()
	return nil
}
