package threepc

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// Coordinator drives three-phase commit for the transactions begun on it:
// prepare and votes, pre-commit and acknowledgements, then the outcome. It
// is a pure state machine.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	txns map[txn.ID]*coordTxn // at most MaxActiveTxns
	out  txn.Ready[Message]
	st   CoordinatorStats
}

type coordPhase uint8

const (
	phaseVoting coordPhase = iota + 1
	phasePreCommit
	phaseDecided
)

// coordTxn is a transaction between Begin and End (or abdication).
// Invariant: votes and acked are indexed like participants; acked holds
// pre-commit acknowledgements in phasePreCommit and outcome
// acknowledgements in phaseDecided.
type coordTxn struct {
	participants []txn.NodeID
	votes        []txn.Vote
	acked        []bool
	phase        coordPhase
	outcome      txn.Outcome
	ticks        int
}

// CoordinatorStats counts what a coordinator did; a driver exports them as
// metrics.
type CoordinatorStats struct {
	// Begun, Committed and Aborted count transactions.
	Begun, Committed, Aborted uint64
	// VoteTimeouts counts aborts because a vote did not come in time.
	VoteTimeouts uint64
	// AckTimeouts counts commits without every pre-commit acknowledgement.
	AckTimeouts uint64
	// Abdicated counts transactions handed to a termination round: a
	// participant rejected the coordinator because it promised a higher
	// ballot.
	Abdicated uint64
	// Ended counts transactions every participant acknowledged.
	Ended uint64
	// Forgotten counts undecided transactions found in the log at start:
	// the coordinator leaves them to the participants' termination
	// protocol.
	Forgotten uint64
}

// NewCoordinator builds a coordinator from its log (empty on first start).
// Decided transactions are announced again; undecided ones are forgotten,
// since participants may already be deciding them in a termination round,
// and a coordinator that restarts is no longer their leader.
func NewCoordinator(cfg Config, log []txn.Record) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger, txns: map[txn.ID]*coordTxn{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	for i, rec := range log {
		if err := c.replay(rec); err != nil {
			return nil, fmt.Errorf("threepc: coordinator record %d: %w", i, err)
		}
	}
	for _, t := range c.sortedTxns() {
		ct := c.txns[t]
		if ct.phase != phaseDecided {
			c.st.Forgotten++
			delete(c.txns, t)
			continue
		}
		c.sendDecision(t, ct)
	}
	if c.st.Forgotten > 0 || len(c.txns) > 0 {
		c.log.Info("threepc: coordinator recovered", "node", cfg.ID, "forgotten", c.st.Forgotten, "announcing", len(c.txns))
	}
	return c, nil
}

func (c *Coordinator) replay(rec txn.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	switch rec.Kind {
	case txn.RecordBegin:
		if _, ok := c.txns[rec.Txn]; !ok {
			c.txns[rec.Txn] = newCoordTxn(rec.Participants)
		}
	case txn.RecordDecision:
		ct, ok := c.txns[rec.Txn]
		if !ok {
			if len(rec.Participants) == 0 {
				return fmt.Errorf("%w: decision of t%d without participants", txn.ErrCorruptRecord, rec.Txn)
			}
			ct = newCoordTxn(rec.Participants)
			c.txns[rec.Txn] = ct
		}
		ct.phase, ct.outcome = phaseDecided, rec.Outcome
	case txn.RecordEnd:
		delete(c.txns, rec.Txn)
	default:
		return fmt.Errorf("%w: a coordinator log holds no %s records", txn.ErrCorruptRecord, rec.Kind)
	}
	return nil
}

func newCoordTxn(participants []txn.NodeID) *coordTxn {
	ps := slices.Clone(participants)
	slices.Sort(ps)
	return &coordTxn{participants: ps, votes: make([]txn.Vote, len(ps)), acked: make([]bool, len(ps)), phase: phaseVoting}
}

// Begin starts transaction t over participants.
func (c *Coordinator) Begin(t txn.ID, participants []txn.NodeID) error {
	if t == 0 {
		return fmt.Errorf("%w: transaction 0", txn.ErrBadParticipants)
	}
	if err := txn.CheckParticipants(participants, c.cfg.MaxParticipants); err != nil {
		return err
	}
	if _, ok := c.txns[t]; ok {
		return fmt.Errorf("%w: t%d", txn.ErrDuplicateTxn, t)
	}
	if len(c.txns) >= c.cfg.MaxActiveTxns {
		return fmt.Errorf("%w: %d active", txn.ErrTooManyTxns, len(c.txns))
	}
	ct := newCoordTxn(participants)
	c.txns[t] = ct
	c.st.Begun++
	c.out.Persist(txn.Record{Kind: txn.RecordBegin, Txn: t, Participants: ct.participants}, false)
	c.broadcast(t, ct)
	return nil
}

// Step handles a message from a participant.
func (c *Coordinator) Step(from txn.NodeID, m Message) error {
	if err := m.validate(0, c.cfg.MaxParticipants); err != nil {
		return err
	}
	ct, ok := c.txns[m.Txn]
	if !ok {
		return nil // forgotten or abdicated: the participants decide without us
	}
	idx := slices.Index(ct.participants, from)
	if idx < 0 {
		return fmt.Errorf("%w: %s from n%d, not a participant of t%d", txn.ErrInvalidMessage, m, from, m.Txn)
	}
	switch m.Type {
	case MsgVote:
		c.vote(m.Txn, ct, idx, m.Vote, from)
	case MsgPreCommitAck:
		if ct.phase == phasePreCommit && m.Ballot == coordinatorBallot(c.cfg.ID) {
			ct.acked[idx] = true
			if !slices.Contains(ct.acked, false) {
				c.decide(m.Txn, ct, txn.Commit)
			}
		}
	case MsgAck:
		if ct.phase == phaseDecided {
			ct.acked[idx] = true
			c.maybeEnd(m.Txn, ct)
		}
	case MsgDecision:
		// A participant already knows the outcome (a termination round
		// decided while this coordinator was cut off): adopt it.
		switch {
		case ct.phase != phaseDecided:
			c.decide(m.Txn, ct, m.Outcome)
		case ct.outcome != m.Outcome:
			return fmt.Errorf("%w: t%d is %s here, n%d says %s", txn.ErrConflictingOutcome, m.Txn, ct.outcome, from, m.Outcome)
		}
	case MsgReject:
		if ct.phase != phaseDecided && coordinatorBallot(c.cfg.ID).Less(m.Ballot) {
			// A termination round is under way: its leader decides now.
			c.st.Abdicated++
			c.log.Debug("threepc: coordinator abdicates", "node", c.cfg.ID, "txn", m.Txn, "ballot", m.Ballot)
			delete(c.txns, m.Txn)
		}
	default:
		return fmt.Errorf("%w: a coordinator does not take %s", txn.ErrInvalidMessage, m)
	}
	return nil
}

func (c *Coordinator) vote(t txn.ID, ct *coordTxn, idx int, v txn.Vote, from txn.NodeID) {
	switch ct.phase {
	case phaseDecided:
		c.out.Send(from, Message{Type: MsgDecision, Txn: t, Outcome: ct.outcome})
		return
	case phasePreCommit:
		return
	}
	if ct.votes[idx] == 0 {
		ct.votes[idx] = v
	}
	if v == txn.VoteNo {
		c.decide(t, ct, txn.Abort)
		return
	}
	for _, got := range ct.votes {
		if got != txn.VoteYes {
			return
		}
	}
	ct.phase, ct.ticks = phasePreCommit, 0
	c.broadcast(t, ct)
}

// decide forces the outcome to the log and announces it.
func (c *Coordinator) decide(t txn.ID, ct *coordTxn, o txn.Outcome) {
	ct.phase, ct.outcome, ct.ticks = phaseDecided, o, 0
	clear(ct.acked)
	if o == txn.Commit {
		c.st.Committed++
	} else {
		c.st.Aborted++
	}
	c.out.Persist(txn.Record{Kind: txn.RecordDecision, Txn: t, Outcome: o, Participants: ct.participants}, true)
	c.out.Decided = append(c.out.Decided, txn.Decided{Txn: t, Outcome: o})
	c.sendDecision(t, ct)
}

// broadcast sends the current phase's request to every participant: it is
// both the retransmission and the heartbeat of the participants' failure
// detector.
func (c *Coordinator) broadcast(t txn.ID, ct *coordTxn) {
	m := Message{Type: MsgPrepare, Txn: t, Participants: ct.participants}
	if ct.phase == phasePreCommit {
		m = Message{Type: MsgPreCommit, Txn: t, Ballot: coordinatorBallot(c.cfg.ID), Participants: ct.participants}
	}
	for _, p := range ct.participants {
		c.out.Send(p, m)
	}
}

func (c *Coordinator) sendDecision(t txn.ID, ct *coordTxn) {
	for i, p := range ct.participants {
		if !ct.acked[i] {
			c.out.Send(p, Message{Type: MsgDecision, Txn: t, Outcome: ct.outcome})
		}
	}
}

func (c *Coordinator) maybeEnd(t txn.ID, ct *coordTxn) {
	if slices.Contains(ct.acked, false) {
		return
	}
	delete(c.txns, t)
	c.st.Ended++
	c.out.Persist(txn.Record{Kind: txn.RecordEnd, Txn: t}, false)
}

// Tick advances the timers: vote and acknowledgement timeouts, resends and
// heartbeats.
func (c *Coordinator) Tick() {
	for _, t := range c.sortedTxns() {
		ct := c.txns[t]
		ct.ticks++
		switch ct.phase {
		case phaseVoting:
			if ct.ticks >= c.cfg.VoteTimeoutTicks {
				c.st.VoteTimeouts++
				c.decide(t, ct, txn.Abort)
				continue
			}
		case phasePreCommit:
			// Skeen's rule: a participant that does not acknowledge in
			// time is taken for crashed, and will learn the outcome when
			// it recovers. At least one acknowledgement is required, so
			// that a durable pre-commit record exists somewhere for a
			// termination round to find (see the package doc).
			if ct.ticks >= c.cfg.AckTimeoutTicks && slices.Contains(ct.acked, true) {
				c.st.AckTimeouts++
				c.decide(t, ct, txn.Commit)
				continue
			}
		}
		if ct.ticks%c.cfg.RetryTicks != 0 {
			continue
		}
		if ct.phase == phaseDecided {
			c.sendDecision(t, ct)
		} else {
			c.broadcast(t, ct)
		}
	}
}

func (c *Coordinator) sortedTxns() []txn.ID { return slices.Sorted(maps.Keys(c.txns)) }

// HasReady reports whether Ready has something to hand out.
func (c *Coordinator) HasReady() bool { return !c.out.IsEmpty() }

// Ready hands out the pending output and starts a new one.
func (c *Coordinator) Ready() txn.Ready[Message] {
	rd := c.out
	c.out = txn.Ready[Message]{}
	return rd
}

// Active returns the transactions the coordinator still drives, sorted.
func (c *Coordinator) Active() []txn.ID { return c.sortedTxns() }

// Outcome returns t's outcome if this coordinator has decided it and still
// tracks it.
func (c *Coordinator) Outcome(t txn.ID) (txn.Outcome, bool) {
	if ct, ok := c.txns[t]; ok && ct.phase == phaseDecided {
		return ct.outcome, true
	}
	return 0, false
}

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() CoordinatorStats { return c.st }
