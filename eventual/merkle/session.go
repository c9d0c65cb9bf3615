package merkle

import (
	"fmt"
	"math/bits"
)

// Session is the initiator's side of one exchange: a pure state machine
// that finds, with a peer's tree of the same shape, the ranges where the
// two trees differ. It sends the root; then, level by level, the nodes it
// found differing, for the responder (Respond) to answer with their
// children's hashes; and it compares those with its own. It never touches
// the network or a clock: the driver sends what Poll returns, hands every
// reply to Handle, and calls Tick at a steady interval so that lost
// requests are resent.
//
// The session reads its tree live at each step. Writes to it between steps
// are harmless: a difference that appears after its subtree was compared is
// found at the next exchange, and one that vanishes may still be reported
// (the caller then streams a range with nothing to repair). A caller that
// wants a fixed snapshot passes a Clone.
//
// A Session is not safe for concurrent use, and its tree's lock must be
// held across each call.
type Session struct {
	cfg ExchangeConfig
	t   *Tree
	id  uint64

	nextID uint32
	// frontier[head:] are the nodes found differing and still to be sent.
	frontier []uint32
	head     int
	// inflight are the requests sent and not answered, in send order; at
	// most cfg.MaxInFlight. inflightNodes counts their nodes.
	inflight      []*pending
	inflightNodes int
	// found are the nodes whose whole range is reported.
	found []int
	// Invariant: len(found) + len(frontier[head:]) + inflightNodes <=
	// cfg.MaxRanges, and each of those nodes will end as at least one
	// range, so the result never exceeds MaxRanges.

	done   bool
	err    error
	ranges []Range
	stats  Stats
}

// pending is a request in flight.
type pending struct {
	q Request
	// age counts the ticks since it was last sent; sends counts the sends.
	age, sends int
	// resend is set by Tick when it is due again; Poll sends it.
	resend bool
}

// NewSession starts an exchange of tree t with a peer. id is the caller's
// session id (unique among its sessions with that peer), echoed in replies.
func NewSession(t *Tree, id uint64, cfg ExchangeConfig) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Session{cfg: cfg, t: t, id: id, frontier: []uint32{1}}, nil
}

// ID returns the session id.
func (s *Session) ID() uint64 { return s.id }

// Poll returns the requests to send now: requests due for a resend, then
// new ones while fewer than MaxInFlight are unanswered, each naming at most
// MaxNodesPerRequest nodes. The driver must send them all (a request lost
// on the way is resent after RetryTicks). It returns nil when there is
// nothing to send.
func (s *Session) Poll() []Request {
	if s.done {
		return nil
	}
	var out []Request
	for _, p := range s.inflight {
		if p.resend {
			p.resend, p.age = false, 0
			out = append(out, s.sent(p))
			s.stats.Resends++
		}
	}
	if s.head < len(s.frontier) && len(s.inflight) < s.cfg.MaxInFlight {
		s.t.flush()
	}
	for s.head < len(s.frontier) && len(s.inflight) < s.cfg.MaxInFlight {
		k := min(len(s.frontier)-s.head, s.cfg.MaxNodesPerRequest)
		q := Request{Session: s.id, ID: s.nextID, Range: s.t.Range(), Depth: s.t.Depth(), Nodes: make([]NodeHash, k)}
		s.nextID++
		for i, n := range s.frontier[s.head : s.head+k] {
			q.Nodes[i] = NodeHash{Node: n, Hash: s.t.node(int(n))}
		}
		s.head += k
		p := &pending{q: q}
		s.inflight = append(s.inflight, p)
		s.inflightNodes += k
		out = append(out, s.sent(p))
	}
	s.compactFrontier()
	return out
}

// sent counts one send of p and returns its request.
func (s *Session) sent(p *pending) Request {
	p.sends++
	s.stats.Requests++
	s.stats.BytesSent += p.q.EncodedLen()
	return p.q
}

// compactFrontier drops the sent prefix of the frontier once it is at
// least half of it, so that the slice stays within twice the pending nodes.
func (s *Session) compactFrontier() {
	if s.head > 0 && s.head*2 >= len(s.frontier) {
		s.frontier = s.frontier[:copy(s.frontier, s.frontier[s.head:])]
		s.head = 0
	}
}

// Tick advances the session's clock by one tick: a request unanswered for
// RetryTicks ticks is marked for resending (by the next Poll), and one
// already sent 1+MaxRetries times ends the session with ErrTimeout.
func (s *Session) Tick() {
	if s.done {
		return
	}
	for _, p := range s.inflight {
		if p.resend {
			continue
		}
		p.age++
		if p.age < s.cfg.RetryTicks {
			continue
		}
		if p.sends > s.cfg.MaxRetries {
			s.fail(fmt.Errorf("%w: request %d of session %d unanswered after %d sends", ErrTimeout, p.q.ID, s.id, p.sends))
			return
		}
		p.resend = true
	}
}

// Handle takes a reply from the peer. A reply of another session, or to a
// request already answered, is ignored (Stats.Ignored). A reply that is not
// StatusOK, or that does not fit its request, ends the session with an
// error (Err).
func (s *Session) Handle(r *Reply) {
	s.stats.BytesReceived += r.EncodedLen()
	if s.done || r.Session != s.id {
		s.stats.Ignored++
		return
	}
	i := s.inflightIndex(r.ID)
	if i < 0 {
		s.stats.Ignored++
		return
	}
	p := s.inflight[i]
	s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
	s.stats.Replies++
	switch r.Status {
	case StatusOK:
	case StatusMismatch:
		s.fail(&MismatchError{LocalRange: s.t.Range(), LocalDepth: s.t.Depth(), RemoteRange: r.Range, RemoteDepth: r.Depth})
		return
	case StatusNoTree:
		s.fail(fmt.Errorf("%w: %v", ErrNoTree, s.t.Range()))
		return
	case StatusRefused:
		s.fail(fmt.Errorf("%w: request %d of %d nodes", ErrRefused, p.q.ID, len(p.q.Nodes)))
		return
	default:
		s.fail(fmt.Errorf("%w: status %v", ErrProtocol, r.Status))
		return
	}
	if len(r.Nodes) != len(p.q.Nodes) {
		s.fail(fmt.Errorf("%w: %d answers to %d nodes", ErrProtocol, len(r.Nodes), len(p.q.Nodes)))
		return
	}
	s.t.flush()
	// The request's nodes are counted in inflightNodes; each in turn moves
	// to what it becomes (nothing, found, or frontier).
	for j, nr := range r.Nodes {
		s.inflightNodes--
		if err := s.answer(int(p.q.Nodes[j].Node), &nr); err != nil {
			s.fail(err)
			return
		}
	}
	if len(s.inflight) == 0 && s.head == len(s.frontier) {
		s.finish()
	}
}

// answer applies the peer's verdict on node n.
func (s *Session) answer(n int, nr *NodeReply) error {
	lay := &s.t.lay
	level := bits.Len(uint(n)) - 1
	s.stats.Levels = max(s.stats.Levels, level)
	switch nr.Kind {
	case NodeSame:
		return nil
	case NodeDiffers:
		s.found = append(s.found, n)
		return nil
	case NodeChildren:
	default:
		return fmt.Errorf("%w: node kind %v", ErrProtocol, nr.Kind)
	}
	if lay.height(n) == 0 {
		return fmt.Errorf("%w: children for leaf node %d", ErrProtocol, n)
	}
	s.stats.Levels = max(s.stats.Levels, level+1)
	s.stats.NodesCompared += 2
	l, r := 2*n, 2*n+1
	vl := classify(lay, l, s.t.node(l), nr.Left)
	vr := classify(lay, r, s.t.node(r), nr.Right)
	if vl != same && vr != same && s.potential()+2 > s.cfg.MaxRanges {
		// Both children would count; there is room for one: report the
		// parent whole.
		s.found = append(s.found, n)
		s.stats.Truncated = true
		return nil
	}
	s.push(l, vl)
	s.push(r, vr)
	return nil
}

// push records a child's verdict.
func (s *Session) push(n int, v verdict) {
	switch v {
	case report:
		s.found = append(s.found, n)
	case descend:
		s.frontier = append(s.frontier, uint32(n))
	}
}

// potential is the least number of ranges the session will report.
func (s *Session) potential() int {
	return len(s.found) + len(s.frontier) - s.head + s.inflightNodes
}

func (s *Session) inflightIndex(id uint32) int {
	for i, p := range s.inflight {
		if p.q.ID == id {
			return i
		}
	}
	return -1
}

func (s *Session) fail(err error) {
	s.done, s.err = true, err
	s.inflight, s.inflightNodes = nil, 0
	s.frontier, s.head = nil, 0
	s.found = nil
}

func (s *Session) finish() {
	s.done = true
	s.ranges = nodeRanges(&s.t.lay, s.found)
	s.stats.Ranges = len(s.found)
	for _, n := range s.found {
		_, count := s.t.lay.nodeSpan(n)
		s.stats.LeavesCovered += count
		if count == 1 {
			s.stats.DifferingLeaves++
		}
	}
	s.found = nil
}

// Done reports whether the session has ended, with a result or an error.
func (s *Session) Done() bool { return s.done }

// Err returns the error that ended the session, or nil.
func (s *Session) Err() error { return s.err }

// Ranges returns, once the session is done without error, the ranges where
// the trees differ, in ring order, at most MaxRanges of them: every range
// Diff would return, except that past MaxRanges a range may cover a whole
// subtree (Stats.Truncated). No ranges means the trees are equal. The
// caller owns the slice.
func (s *Session) Ranges() []Range {
	if !s.done || s.err != nil {
		return nil
	}
	return append([]Range(nil), s.ranges...)
}

// Stats returns the session's counters so far.
func (s *Session) Stats() Stats { return s.stats }
