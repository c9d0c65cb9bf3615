package twopc

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/decision"
)

// Coordinator drives two-phase commit for the transactions begun on it. It
// is a pure state machine: Begin, Step, StepRegister and Tick are its
// inputs, Ready its output.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	txns map[txn.ID]*coordTxn // at most MaxActiveTxns
	reg  *decision.Client     // nil in classic mode
	out  Ready
	st   CoordinatorStats
}

type coordPhase uint8

const (
	phaseVoting   coordPhase = iota + 1
	phaseDeciding            // register mode: the register has not answered yet
	phaseDecided
)

// coordTxn is a transaction between Begin and End. Invariant: votes and
// acked are indexed like participants; outcome != 0 iff phase is
// phaseDecided.
type coordTxn struct {
	participants []txn.NodeID
	votes        []txn.Vote
	acked        []bool
	phase        coordPhase
	outcome      txn.Outcome
	ticks        int // since the phase began
}

// CoordinatorStats counts what a coordinator did; a driver exports them as
// metrics.
type CoordinatorStats struct {
	// Begun, Committed and Aborted count transactions (Committed and
	// Aborted count decisions taken in this incarnation).
	Begun, Committed, Aborted uint64
	// VoteTimeouts counts aborts because a vote did not come in time.
	VoteTimeouts uint64
	// Ended counts transactions every participant acknowledged.
	Ended uint64
	// Recovered counts undecided transactions found in the log at start,
	// which the coordinator aborts.
	Recovered uint64
}

// NewCoordinator builds a coordinator from its log (empty on first start).
// Transactions the log shows undecided are aborted (presumed abort: no
// participant can have been told to commit); decided ones are announced
// again until every participant acknowledges. Both show up in the first
// Ready.
func NewCoordinator(cfg Config, log []txn.Record) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger, txns: map[txn.ID]*coordTxn{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	if len(cfg.Registers) > 0 {
		var err error
		c.reg, err = decision.NewClient(decision.ClientConfig{Replicas: cfg.Registers, RetryTicks: cfg.RetryTicks, MaxPending: cfg.MaxRegisterPending})
		if err != nil {
			return nil, err
		}
	}
	for i, rec := range log {
		if err := c.replay(rec); err != nil {
			return nil, fmt.Errorf("twopc: coordinator record %d: %w", i, err)
		}
	}
	for _, t := range c.sortedTxns() {
		ct := c.txns[t]
		if ct.phase == phaseVoting {
			c.st.Recovered++
			c.decide(t, ct, txn.Abort)
			continue
		}
		c.broadcastDecision(t, ct) // phaseDecided: every ack was lost with the crash
	}
	if len(c.txns) > 0 {
		c.log.Info("twopc: coordinator recovered", "node", cfg.ID, "aborted", c.st.Recovered, "announcing", len(c.txns)-int(c.st.Recovered))
	}
	c.collect()
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

// Begin starts transaction t over participants: it logs the transaction
// (not forced) and asks every participant to prepare.
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
	for _, p := range ct.participants {
		c.out.Send(p, Message{Type: MsgPrepare, Txn: t, Participants: ct.participants})
	}
	return nil
}

// Step handles a message from a participant.
func (c *Coordinator) Step(from txn.NodeID, m Message) error {
	if err := m.validate(0, c.cfg.MaxParticipants); err != nil {
		return err
	}
	defer c.collect()
	ct, known := c.txns[m.Txn]
	idx := -1
	if known {
		idx = slices.Index(ct.participants, from)
		if idx < 0 {
			return fmt.Errorf("%w: %s from n%d, not a participant of t%d", txn.ErrInvalidMessage, m, from, m.Txn)
		}
	}
	switch m.Type {
	case MsgVote:
		if !known {
			c.presumeAbort(from, m.Txn)
			return nil
		}
		c.vote(m.Txn, ct, idx, m.Vote, from)
	case MsgAck:
		if known && ct.phase == phaseDecided {
			ct.acked[idx] = true
			c.maybeEnd(m.Txn, ct)
		}
	case MsgDecisionRequest:
		switch {
		case !known:
			c.presumeAbort(from, m.Txn)
		case ct.phase == phaseDecided:
			c.out.Send(from, Message{Type: MsgDecision, Txn: m.Txn, Outcome: ct.outcome})
		}
	default:
		return fmt.Errorf("%w: a coordinator does not take %s", txn.ErrInvalidMessage, m)
	}
	return nil
}

// presumeAbort answers a participant about a transaction this coordinator
// does not know: it was never decided here (a commit decision is forced to
// the log before it is sent, and a transaction is forgotten only after
// every participant acknowledged its outcome), so it is aborted. With a
// decision register the coordinator cannot presume anything: the decision
// lives in the register, and the participant asks it.
func (c *Coordinator) presumeAbort(to txn.NodeID, t txn.ID) {
	if c.reg == nil {
		c.out.Send(to, Message{Type: MsgDecision, Txn: t, Outcome: txn.Abort, Presumed: true})
	}
}

func (c *Coordinator) vote(t txn.ID, ct *coordTxn, idx int, v txn.Vote, from txn.NodeID) {
	switch ct.phase {
	case phaseDecided:
		c.out.Send(from, Message{Type: MsgDecision, Txn: t, Outcome: ct.outcome})
		return
	case phaseDeciding:
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
	c.decide(t, ct, txn.Commit)
}

// decide settles t on o: in classic mode the decision is forced to the log
// and sent; with a register it is proposed there first, and the register's
// answer (which may be abort if a participant got there first) is what
// counts.
func (c *Coordinator) decide(t txn.ID, ct *coordTxn, o txn.Outcome) {
	if c.reg == nil {
		c.settle(t, ct, o, true)
		return
	}
	ct.phase, ct.ticks = phaseDeciding, 0
	if err := c.reg.Propose(t, o); err != nil {
		// MaxRegisterPending >= MaxActiveTxns (Validate), so the client
		// cannot be full: this is a programming error.
		panic(fmt.Sprintf("twopc: register proposal of t%d: %v", t, err))
	}
}

func (c *Coordinator) settle(t txn.ID, ct *coordTxn, o txn.Outcome, force bool) {
	ct.phase, ct.outcome, ct.ticks = phaseDecided, o, 0
	if o == txn.Commit {
		c.st.Committed++
	} else {
		c.st.Aborted++
	}
	c.out.Persist(txn.Record{Kind: txn.RecordDecision, Txn: t, Outcome: o, Participants: ct.participants}, force)
	c.out.Decided = append(c.out.Decided, txn.Decided{Txn: t, Outcome: o})
	c.broadcastDecision(t, ct)
}

func (c *Coordinator) broadcastDecision(t txn.ID, ct *coordTxn) {
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

// StepRegister handles a message from the decision register.
func (c *Coordinator) StepRegister(_ txn.NodeID, m decision.Message) error {
	if c.reg == nil {
		return fmt.Errorf("%w: %s: no register configured", txn.ErrInvalidMessage, m)
	}
	d, err := c.reg.Step(m)
	if err != nil {
		return err
	}
	defer c.collect()
	ct, ok := c.txns[d.Txn]
	switch {
	case !ok:
	case ct.phase == phaseDeciding:
		// Not forced: the register holds the decision; this record only
		// saves a question to it after a restart.
		c.settle(d.Txn, ct, d.Outcome, false)
	case ct.phase == phaseDecided && ct.outcome != d.Outcome:
		return fmt.Errorf("%w: t%d is %s here, the register says %s", txn.ErrConflictingOutcome, d.Txn, ct.outcome, d.Outcome)
	}
	return nil
}

// Tick advances the timers: vote timeouts, and resends of prepares and
// decisions to participants that have not answered.
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
			if ct.ticks%c.cfg.RetryTicks == 0 {
				for i, p := range ct.participants {
					if ct.votes[i] == 0 {
						c.out.Send(p, Message{Type: MsgPrepare, Txn: t, Participants: ct.participants})
					}
				}
			}
		case phaseDecided:
			if ct.ticks%c.cfg.RetryTicks == 0 {
				c.broadcastDecision(t, ct)
			}
		}
	}
	if c.reg != nil {
		c.reg.Tick()
	}
	c.collect()
}

// collect moves the register client's messages into the Ready.
func (c *Coordinator) collect() {
	if c.reg != nil {
		c.out.Register = append(c.out.Register, c.reg.TakeMessages()...)
	}
}

func (c *Coordinator) sortedTxns() []txn.ID { return slices.Sorted(maps.Keys(c.txns)) }

// HasReady reports whether Ready has something to hand out.
func (c *Coordinator) HasReady() bool { return !c.out.IsEmpty() }

// Ready hands out the pending output and starts a new one. Ready.Decided
// answers the clients; VoteRequests is always empty.
func (c *Coordinator) Ready() Ready {
	rd := c.out
	c.out = Ready{}
	return rd
}

// Active returns the transactions begun and not yet ended, sorted.
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
