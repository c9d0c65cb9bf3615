package threepc

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// Participant is a resource manager's side of three-phase commit: it
// votes, pre-commits, records the outcome, and, when its leader falls
// silent, runs the termination protocol (termination.go). It is a pure
// state machine.
type Participant struct {
	cfg  Config
	log  *slog.Logger
	txns map[txn.ID]*partTxn // at most MaxKnownTxns
	// timed indexes the transactions with a running timer (uncertain,
	// pre-committed, or with a round this participant leads), so that Tick
	// does not visit every transaction ever seen. See retime.
	timed map[txn.ID]*partTxn
	out   txn.Ready[Message]
	st    ParticipantStats
}

type partState uint8

const (
	stateVoting       partState = iota + 1 // asked to prepare; the application has not voted
	stateUncertain                         // voted yes
	statePreCommitted                      // accepted a pre-commit at preCommit
	stateDecided
)

// partTxn is what a participant knows of one transaction. Invariants:
// outcome != 0 iff state is stateDecided; preCommit <= promised once
// pre-committed; round != nil only while this participant leads a
// termination round (or announces the round's outcome).
type partTxn struct {
	coordinator  txn.NodeID
	participants []txn.NodeID // sorted
	state        partState
	outcome      txn.Outcome
	// promised is the highest ballot this participant promised (durable
	// through RecordPromise and RecordPreCommit): it rejects leaders below.
	promised  txn.Ballot
	preCommit txn.Ballot
	// recovering is set when this incarnation found the transaction
	// undecided in its log: it voted before a crash, so its state may be
	// stale and a partial termination round must not rely on it.
	recovering bool
	leader     txn.NodeID // the node whose silence it watches
	quiet      int        // ticks since it last heard from leader
	seenRound  uint64     // highest termination round seen
	round      *round
}

// ParticipantStats counts what a participant did; a driver exports them as
// metrics.
type ParticipantStats struct {
	// Prepared counts prepare requests handed to the application.
	Prepared uint64
	// VotedYes and VotedNo count the application's votes.
	VotedYes, VotedNo uint64
	// PreCommitted counts pre-commits accepted.
	PreCommitted uint64
	// Committed and Aborted count outcomes recorded in this incarnation.
	Committed, Aborted uint64
	// Unilateral counts aborts of transactions this participant had not
	// voted yes for, decided because a termination leader asked.
	Unilateral uint64
	// Rounds counts termination rounds this participant started, and
	// RoundsAbandoned those that ended without a decision (a higher round
	// overtook it, or no usable state answered).
	Rounds, RoundsAbandoned uint64
	// Refused counts prepares answered no at the MaxKnownTxns bound.
	Refused uint64
	// Recovered counts undecided transactions found in the log at start.
	Recovered uint64
}

// NewParticipant builds a participant from its log (empty on first start).
// Undecided transactions come back recovering: the participant waits to
// hear from a leader, and leads a termination round itself if none speaks.
func NewParticipant(cfg Config, log []txn.Record) (*Participant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Participant{cfg: cfg, log: cfg.Logger, txns: map[txn.ID]*partTxn{}, timed: map[txn.ID]*partTxn{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	for i, rec := range log {
		if err := p.replay(rec); err != nil {
			return nil, fmt.Errorf("threepc: participant record %d: %w", i, err)
		}
	}
	for t, pt := range p.txns {
		if pt.state == stateUncertain || pt.state == statePreCommitted {
			p.st.Recovered++
			pt.recovering = true
		}
		p.retime(t, pt)
	}
	if p.st.Recovered > 0 {
		p.log.Info("threepc: participant recovered undecided transactions", "node", cfg.ID, "recovering", p.st.Recovered)
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
			return fmt.Errorf("%w: vote for t%d recorded twice", txn.ErrCorruptRecord, rec.Txn)
		}
		ps := slices.Sorted(slices.Values(rec.Participants))
		p.txns[rec.Txn] = &partTxn{coordinator: rec.Coordinator, participants: ps, state: stateUncertain, leader: rec.Coordinator}
	case txn.RecordPromise, txn.RecordPreCommit:
		if !ok || pt.state == stateDecided {
			return fmt.Errorf("%w: %s without an undecided vote", txn.ErrCorruptRecord, rec)
		}
		if pt.promised.Less(rec.Ballot) {
			pt.promised = rec.Ballot
		}
		pt.seenRound = max(pt.seenRound, rec.Ballot.Round)
		if rec.Kind == txn.RecordPreCommit {
			pt.state, pt.preCommit = statePreCommitted, rec.Ballot
		}
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

// Step handles a message from the coordinator, a termination leader or a
// peer.
func (p *Participant) Step(from txn.NodeID, m Message) error {
	if err := m.validate(p.cfg.ID, p.cfg.MaxParticipants); err != nil {
		return err
	}
	defer func() {
		if pt, ok := p.txns[m.Txn]; ok {
			p.retime(m.Txn, pt)
		}
	}()
	pt := p.txns[m.Txn]
	switch m.Type {
	case MsgPrepare:
		p.prepare(from, m, pt)
	case MsgPreCommit:
		return p.preCommitMsg(from, m, pt)
	case MsgDecision:
		return p.decision(from, m.Txn, m.Outcome, pt)
	case MsgStateRequest:
		p.stateRequest(from, m, pt)
	case MsgState, MsgPreCommitAck, MsgAck, MsgReject:
		if pt != nil && pt.round != nil {
			p.stepRound(from, m, pt)
		}
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
		ps := slices.Sorted(slices.Values(m.Participants))
		p.txns[m.Txn] = &partTxn{coordinator: from, participants: ps, state: stateVoting, leader: from}
		p.st.Prepared++
		p.out.VoteRequests = append(p.out.VoteRequests, m.Txn)
		return
	}
	if pt.state == stateDecided {
		return // as in twopc: a stale prepare needs no answer
	}
	if coordinatorBallot(from).Less(pt.promised) {
		// A termination round has begun: the coordinator is no longer
		// the leader.
		p.out.Send(from, Message{Type: MsgReject, Txn: m.Txn, Ballot: pt.promised})
		return
	}
	p.heard(pt, from)
	if pt.state == stateUncertain {
		p.out.Send(from, Message{Type: MsgVote, Txn: m.Txn, Vote: txn.VoteYes})
	}
}

// heard resets the failure detector's timer if from is the leader.
func (p *Participant) heard(pt *partTxn, from txn.NodeID) {
	if from == pt.leader {
		pt.quiet = 0
	}
}

// follow makes from the leader of pt after this participant promised it
// ballot b, abandoning a round of its own that b overtakes.
func (p *Participant) follow(t txn.ID, pt *partTxn, from txn.NodeID, b txn.Ballot) {
	pt.seenRound = max(pt.seenRound, b.Round)
	if pt.round != nil && pt.round.ballot.Less(b) && pt.state != stateDecided {
		p.abandonRound(t, pt, "overtaken by "+b.String())
	}
	pt.leader, pt.quiet = from, 0
}

func (p *Participant) preCommitMsg(from txn.NodeID, m Message, pt *partTxn) error {
	switch {
	case pt == nil || pt.state == stateVoting:
		return fmt.Errorf("%w: pre-commit of t%d, which n%d has not voted yes for", txn.ErrConflictingOutcome, m.Txn, p.cfg.ID)
	case pt.state == stateDecided && pt.outcome == txn.Commit:
		p.out.Send(from, Message{Type: MsgPreCommitAck, Txn: m.Txn, Ballot: m.Ballot})
		return nil
	case pt.state == stateDecided:
		p.out.Send(from, Message{Type: MsgDecision, Txn: m.Txn, Outcome: txn.Abort})
		return nil
	case m.Ballot.Less(pt.promised):
		p.out.Send(from, Message{Type: MsgReject, Txn: m.Txn, Ballot: pt.promised})
		return nil
	}
	pt.promised = m.Ballot
	p.follow(m.Txn, pt, from, m.Ballot)
	if pt.state != statePreCommitted || pt.preCommit != m.Ballot {
		pt.state, pt.preCommit = statePreCommitted, m.Ballot
		p.st.PreCommitted++
		p.out.Persist(txn.Record{Kind: txn.RecordPreCommit, Txn: m.Txn, Ballot: m.Ballot}, true)
	}
	p.out.Send(from, Message{Type: MsgPreCommitAck, Txn: m.Txn, Ballot: m.Ballot})
	return nil
}

// decision takes an outcome someone announced. Outcomes are facts, not
// proposals: they are accepted whatever the ballots, including abort by a
// pre-committed participant, which a round that rightly ignored this
// participant's stale state may have decided.
func (p *Participant) decision(from txn.NodeID, t txn.ID, o txn.Outcome, pt *partTxn) error {
	switch {
	case pt == nil && o == txn.Commit, pt != nil && pt.state == stateVoting && o == txn.Commit:
		return fmt.Errorf("%w: commit of t%d, which n%d has not voted yes for", txn.ErrConflictingOutcome, t, p.cfg.ID)
	case pt == nil:
		if len(p.txns) >= p.cfg.MaxKnownTxns {
			return nil
		}
		pt = &partTxn{coordinator: from, state: stateVoting}
		p.txns[t] = pt
	case pt.state == stateDecided && pt.outcome != o:
		return fmt.Errorf("%w: t%d is %s at n%d, n%d says %s", txn.ErrConflictingOutcome, t, pt.outcome, p.cfg.ID, from, o)
	}
	if pt.state != stateDecided {
		p.settle(t, pt, o)
		pt.round = nil // whoever decided announces it
	}
	p.out.Send(from, Message{Type: MsgAck, Txn: t})
	return nil
}

func (p *Participant) settle(t txn.ID, pt *partTxn, o txn.Outcome) {
	pt.state, pt.outcome = stateDecided, o
	if o == txn.Commit {
		p.st.Committed++
	} else {
		p.st.Aborted++
	}
	p.out.Persist(txn.Record{Kind: txn.RecordDecision, Txn: t, Outcome: o, Coordinator: pt.coordinator, Participants: pt.participants}, true)
	p.out.Decided = append(p.out.Decided, txn.Decided{Txn: t, Outcome: o})
}

// stateRequest answers a termination leader. A participant that has not
// voted yes aborts unilaterally first (forced before the answer), so that
// it can never vote yes later.
func (p *Participant) stateRequest(from txn.NodeID, m Message, pt *partTxn) {
	if pt == nil {
		if len(p.txns) >= p.cfg.MaxKnownTxns {
			return
		}
		pt = &partTxn{participants: slices.Sorted(slices.Values(m.Participants)), state: stateVoting}
		p.txns[m.Txn] = pt
	}
	switch pt.state {
	case stateVoting:
		p.st.Unilateral++
		p.settle(m.Txn, pt, txn.Abort)
		if pt.coordinator != 0 {
			p.out.Send(pt.coordinator, Message{Type: MsgVote, Txn: m.Txn, Vote: txn.VoteNo})
		}
	case stateUncertain, statePreCommitted:
		if m.Ballot.Less(pt.promised) {
			p.out.Send(from, Message{Type: MsgReject, Txn: m.Txn, Ballot: pt.promised})
			return
		}
		if pt.promised != m.Ballot {
			pt.promised = m.Ballot
			p.out.Persist(txn.Record{Kind: txn.RecordPromise, Txn: m.Txn, Ballot: m.Ballot}, true)
		}
		p.follow(m.Txn, pt, from, m.Ballot)
	}
	p.out.Send(from, Message{Type: MsgState, Txn: m.Txn, Ballot: m.Ballot, State: pt.report(), Recovering: pt.recovering})
}

// report is the State this participant reports.
func (pt *partTxn) report() State {
	switch {
	case pt.state == statePreCommitted:
		return StatePreCommitted
	case pt.state == stateDecided && pt.outcome == txn.Commit:
		return StateCommitted
	case pt.state == stateDecided:
		return StateAborted
	}
	return StateUncertain
}

// Vote records the application's vote on t, which a Ready's VoteRequests
// named. A yes is forced to the log before it is sent; a no aborts t here
// at once. Voting on a transaction that is no longer waiting for a vote
// does nothing.
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
	if v == txn.VoteNo {
		p.st.VotedNo++
		p.settle(t, pt, txn.Abort)
	} else {
		p.st.VotedYes++
		pt.state, pt.quiet, pt.leader = stateUncertain, 0, pt.coordinator
		p.out.Persist(txn.Record{Kind: txn.RecordVote, Txn: t, Coordinator: pt.coordinator, Participants: pt.participants}, true)
	}
	p.retime(t, pt)
	p.out.Send(pt.coordinator, Message{Type: MsgVote, Txn: t, Vote: v})
	return nil
}

// Tick advances the failure detector of every undecided transaction and
// the timers of the rounds this participant leads.
func (p *Participant) Tick() {
	for _, t := range slices.Sorted(maps.Keys(p.timed)) {
		pt := p.timed[t]
		if pt.round != nil {
			p.tickRound(t, pt)
		} else {
			pt.quiet++
			// Staggered by rank: the lowest ID speaks first.
			if pt.quiet >= p.cfg.SuspectTicks+p.rank(pt)*p.cfg.StaggerTicks {
				p.startRound(t, pt)
			}
		}
		p.retime(t, pt)
	}
}

// retime keeps t in the timed index exactly when it needs a timer. Every
// path that changes a transaction's state or round ends in a call to it
// (directly, or through Step and Vote).
func (p *Participant) retime(t txn.ID, pt *partTxn) {
	if pt.round != nil || pt.state == stateUncertain || pt.state == statePreCommitted {
		p.timed[t] = pt
	} else {
		delete(p.timed, t)
	}
}

// HasReady reports whether Ready has something to hand out.
func (p *Participant) HasReady() bool { return !p.out.IsEmpty() }

// Ready hands out the pending output and starts a new one. Ready.Decided
// lists outcomes to apply to the local resource.
func (p *Participant) Ready() txn.Ready[Message] {
	rd := p.out
	p.out = txn.Ready[Message]{}
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
