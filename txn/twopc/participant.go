package twopc

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/decision"
)

// Participant is a resource manager's side of two-phase commit: it votes,
// records the outcome, and, when it voted yes and hears nothing, runs the
// cooperative termination protocol. It is a pure state machine.
type Participant struct {
	cfg  Config
	log  *slog.Logger
	txns map[txn.ID]*partTxn // at most MaxKnownTxns
	// uncertain indexes the transactions in stateUncertain, the only ones
	// with a timer, so that Tick does not visit every transaction ever
	// seen.
	uncertain map[txn.ID]*partTxn
	reg       *decision.Client // nil in classic mode
	out       Ready
	st        ParticipantStats
}

type partState uint8

const (
	stateVoting    partState = iota + 1 // asked to prepare; the application has not voted
	stateUncertain                      // voted yes, no outcome known
	stateDecided
)

// partTxn is what a participant knows of one transaction. Invariant:
// outcome != 0 iff state is stateDecided.
type partTxn struct {
	coordinator  txn.NodeID // 0 if only a peer has asked about it
	participants []txn.NodeID
	state        partState
	outcome      txn.Outcome
	quiet        int // ticks spent uncertain without an outcome
}

// ParticipantStats counts what a participant did; a driver exports them as
// metrics.
type ParticipantStats struct {
	// Prepared counts prepare requests handed to the application.
	Prepared uint64
	// VotedYes and VotedNo count the application's votes.
	VotedYes, VotedNo uint64
	// Committed and Aborted count outcomes recorded in this incarnation.
	Committed, Aborted uint64
	// Unilateral counts aborts of transactions this participant had not
	// voted yes for, decided because a peer asked (cooperative
	// termination).
	Unilateral uint64
	// Terminations counts transactions for which the participant started
	// asking its peers (or the register) for the outcome.
	Terminations uint64
	// Refused counts prepares answered no at the MaxKnownTxns bound.
	Refused uint64
	// Recovered counts uncertain transactions found in the log at start.
	Recovered uint64
}

// NewParticipant builds a participant from its log (empty on first start).
// Transactions it voted yes for and knows no outcome of start asking for
// it at the first Tick.
func NewParticipant(cfg Config, log []txn.Record) (*Participant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Participant{cfg: cfg, log: cfg.Logger, txns: map[txn.ID]*partTxn{}, uncertain: map[txn.ID]*partTxn{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	if len(cfg.Registers) > 0 {
		var err error
		p.reg, err = decision.NewClient(decision.ClientConfig{Replicas: cfg.Registers, RetryTicks: cfg.RetryTicks, MaxPending: cfg.MaxRegisterPending})
		if err != nil {
			return nil, err
		}
	}
	for i, rec := range log {
		if err := p.replay(rec); err != nil {
			return nil, fmt.Errorf("twopc: participant record %d: %w", i, err)
		}
	}
	for t, pt := range p.txns {
		if pt.state == stateUncertain {
			p.st.Recovered++
			pt.quiet = cfg.DecisionTimeoutTicks - 1
			p.uncertain[t] = pt
		}
	}
	if p.st.Recovered > 0 {
		p.log.Info("twopc: participant recovered uncertain transactions", "node", cfg.ID, "uncertain", p.st.Recovered)
	}
	return p, nil
}

func (p *Participant) replay(rec txn.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	pt, ok := p.txns[rec.Txn]
	switch rec.Kind {
	case txn.RecordVote:
		if ok {
			return fmt.Errorf("%w: vote for t%d after %s", txn.ErrCorruptRecord, rec.Txn, describeState(pt))
		}
		p.txns[rec.Txn] = &partTxn{coordinator: rec.Coordinator, participants: rec.Participants, state: stateUncertain}
	case txn.RecordDecision:
		if !ok {
			pt = &partTxn{coordinator: rec.Coordinator, participants: rec.Participants}
			p.txns[rec.Txn] = pt
		}
		if pt.state == stateDecided && pt.outcome != rec.Outcome {
			return fmt.Errorf("%w: t%d decided %s then %s", txn.ErrCorruptRecord, rec.Txn, pt.outcome, rec.Outcome)
		}
		pt.state, pt.outcome = stateDecided, rec.Outcome
	default:
		return fmt.Errorf("%w: a participant log holds no %s records", txn.ErrCorruptRecord, rec.Kind)
	}
	return nil
}

func describeState(pt *partTxn) string {
	switch pt.state {
	case stateVoting:
		return "voting"
	case stateUncertain:
		return "uncertain"
	}
	return pt.outcome.String()
}

// Step handles a message from the coordinator or a peer participant.
func (p *Participant) Step(from txn.NodeID, m Message) error {
	if err := m.validate(p.cfg.ID, p.cfg.MaxParticipants); err != nil {
		return err
	}
	defer p.collect()
	pt := p.txns[m.Txn]
	switch m.Type {
	case MsgPrepare:
		p.prepare(from, m, pt)
	case MsgDecision:
		if m.Presumed && pt != nil && pt.state == stateDecided {
			return nil // a late duplicate: see Message.Presumed
		}
		return p.decision(from, m.Txn, m.Outcome, pt)
	case MsgDecisionRequest:
		p.decisionRequest(from, m, pt)
	default:
		return fmt.Errorf("%w: a participant does not take %s", txn.ErrInvalidMessage, m)
	}
	return nil
}

func (p *Participant) prepare(from txn.NodeID, m Message, pt *partTxn) {
	if pt == nil {
		if len(p.txns) >= p.cfg.MaxKnownTxns {
			p.st.Refused++
			p.out.Send(from, Message{Type: MsgVote, Txn: m.Txn, Vote: txn.VoteNo})
			return
		}
		p.txns[m.Txn] = &partTxn{coordinator: from, participants: slices.Clone(m.Participants), state: stateVoting}
		p.st.Prepared++
		p.out.VoteRequests = append(p.out.VoteRequests, m.Txn)
		return
	}
	if pt.coordinator == 0 {
		pt.coordinator = from
	}
	if pt.state == stateUncertain {
		p.out.Send(from, Message{Type: MsgVote, Txn: m.Txn, Vote: txn.VoteYes}) // our vote was lost
	}
	// A decided participant does not answer: a stale duplicate of the
	// prepare needs none, and a coordinator still waiting for the vote of
	// a participant that aborted unilaterally times out and aborts.
}

func (p *Participant) decision(from txn.NodeID, t txn.ID, o txn.Outcome, pt *partTxn) error {
	switch {
	case pt == nil && o == txn.Commit:
		return fmt.Errorf("%w: commit of t%d, which n%d never voted for", txn.ErrConflictingOutcome, t, p.cfg.ID)
	case pt == nil:
		if len(p.txns) >= p.cfg.MaxKnownTxns {
			return nil
		}
		// The prepare was lost and the coordinator aborted: remember it,
		// so that a late prepare does not start a vote.
		pt = &partTxn{coordinator: from, state: stateVoting}
		p.txns[t] = pt
	case pt.state == stateDecided && pt.outcome != o:
		return fmt.Errorf("%w: t%d is %s at n%d, n%d says %s", txn.ErrConflictingOutcome, t, pt.outcome, p.cfg.ID, from, o)
	case pt.state == stateVoting && o == txn.Commit:
		return fmt.Errorf("%w: commit of t%d, which n%d has not voted for", txn.ErrConflictingOutcome, t, p.cfg.ID)
	}
	if pt.coordinator == 0 {
		// Known only from a peer's question: only the coordinator sends
		// an outcome to a participant that did not ask for it.
		pt.coordinator = from
	}
	if pt.state != stateDecided {
		p.settle(t, pt, o)
	}
	if from != 0 && from == pt.coordinator {
		p.out.Send(from, Message{Type: MsgAck, Txn: t})
	}
	return nil
}

// decisionRequest answers a peer's question. A participant that has not
// voted yes may abort unilaterally, and must then answer abort forever:
// the abort is forced to the log before the answer leaves.
func (p *Participant) decisionRequest(from txn.NodeID, m Message, pt *partTxn) {
	if pt == nil {
		if len(p.txns) >= p.cfg.MaxKnownTxns {
			return
		}
		pt = &partTxn{participants: slices.Clone(m.Participants), state: stateVoting}
		p.txns[m.Txn] = pt
	}
	switch pt.state {
	case stateVoting:
		p.st.Unilateral++
		p.settle(m.Txn, pt, txn.Abort)
		if pt.coordinator != 0 {
			p.out.Send(pt.coordinator, Message{Type: MsgVote, Txn: m.Txn, Vote: txn.VoteNo})
		}
	case stateUncertain:
		return // it knows as little as the asker
	}
	p.out.Send(from, Message{Type: MsgDecision, Txn: m.Txn, Outcome: pt.outcome})
}

func (p *Participant) settle(t txn.ID, pt *partTxn, o txn.Outcome) {
	pt.state, pt.outcome = stateDecided, o
	delete(p.uncertain, t)
	if o == txn.Commit {
		p.st.Committed++
	} else {
		p.st.Aborted++
	}
	p.out.Persist(txn.Record{Kind: txn.RecordDecision, Txn: t, Outcome: o, Coordinator: pt.coordinator, Participants: pt.participants}, true)
	p.out.Decided = append(p.out.Decided, txn.Decided{Txn: t, Outcome: o})
}

// Vote records the application's vote on t, which a Ready's VoteRequests
// named. A yes is forced to the log before it is sent; a no aborts t here
// at once. Voting on a transaction that is no longer waiting for a vote (a
// peer's question aborted it meanwhile) does nothing.
func (p *Participant) Vote(t txn.ID, v txn.Vote) error {
	if !v.Valid() {
		return fmt.Errorf("%w: vote %d", txn.ErrInvalidMessage, uint8(v))
	}
	pt, ok := p.txns[t]
	if !ok {
		return fmt.Errorf("%w: t%d", txn.ErrUnknownTxn, t)
	}
	if pt.state != stateVoting {
		return nil
	}
	defer p.collect()
	if v == txn.VoteNo {
		p.st.VotedNo++
		p.settle(t, pt, txn.Abort)
	} else {
		p.st.VotedYes++
		pt.state, pt.quiet = stateUncertain, 0
		p.uncertain[t] = pt
		p.out.Persist(txn.Record{Kind: txn.RecordVote, Txn: t, Coordinator: pt.coordinator, Participants: pt.participants}, true)
	}
	p.out.Send(pt.coordinator, Message{Type: MsgVote, Txn: t, Vote: v})
	return nil
}

// StepRegister handles the decision register's answer to this
// participant's proposal.
func (p *Participant) StepRegister(_ txn.NodeID, m decision.Message) error {
	if p.reg == nil {
		return fmt.Errorf("%w: %s: no register configured", txn.ErrInvalidMessage, m)
	}
	d, err := p.reg.Step(m)
	if err != nil {
		return err
	}
	pt, ok := p.txns[d.Txn]
	if !ok {
		return nil
	}
	defer p.collect()
	return p.decision(0, d.Txn, d.Outcome, pt)
}

// Tick advances the timers of uncertain transactions: after
// DecisionTimeoutTicks without an outcome the participant asks its
// coordinator and its peers (or the register) every RetryTicks.
func (p *Participant) Tick() {
	for _, t := range slices.Sorted(maps.Keys(p.uncertain)) {
		pt := p.uncertain[t]
		pt.quiet++
		late := pt.quiet - p.cfg.DecisionTimeoutTicks
		if late < 0 || late%p.cfg.RetryTicks != 0 {
			continue
		}
		if late == 0 {
			p.st.Terminations++
			p.log.Debug("twopc: no outcome, asking", "node", p.cfg.ID, "txn", t, "register", p.reg != nil)
		}
		p.ask(t, pt)
	}
	if p.reg != nil {
		p.reg.Tick()
	}
	p.collect()
}

func (p *Participant) ask(t txn.ID, pt *partTxn) {
	req := Message{Type: MsgDecisionRequest, Txn: t, Participants: pt.participants}
	p.out.Send(pt.coordinator, req)
	if p.reg != nil {
		// The register decides for everybody: abort, unless the
		// coordinator's commit got there first.
		if err := p.reg.Propose(t, txn.Abort); err != nil && !errors.Is(err, txn.ErrTooManyTxns) {
			panic(fmt.Sprintf("twopc: register proposal of t%d: %v", t, err))
		}
		return
	}
	for _, q := range pt.participants {
		if q != p.cfg.ID {
			p.out.Send(q, req)
		}
	}
}

func (p *Participant) collect() {
	if p.reg != nil {
		p.out.Register = append(p.out.Register, p.reg.TakeMessages()...)
	}
}

// HasReady reports whether Ready has something to hand out.
func (p *Participant) HasReady() bool { return !p.out.IsEmpty() }

// Ready hands out the pending output and starts a new one. Ready.Decided
// lists outcomes to apply to the local resource.
func (p *Participant) Ready() Ready {
	rd := p.out
	p.out = Ready{}
	return rd
}

// Outcome returns t's outcome if this participant has recorded one.
func (p *Participant) Outcome(t txn.ID) (txn.Outcome, bool) {
	if pt, ok := p.txns[t]; ok && pt.state == stateDecided {
		return pt.outcome, true
	}
	return 0, false
}

// Undecided returns the transactions waiting for a vote or an outcome,
// sorted.
func (p *Participant) Undecided() []txn.ID {
	var out []txn.ID
	for _, t := range slices.Sorted(maps.Keys(p.txns)) {
		if p.txns[t].state != stateDecided {
			out = append(out, t)
		}
	}
	return out
}

// Stats returns the participant's counters.
func (p *Participant) Stats() ParticipantStats { return p.st }
