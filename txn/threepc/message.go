package threepc

import (
	"fmt"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// MsgType is a three-phase commit message's type.
type MsgType uint8

const (
	// MsgPrepare (coordinator to participant): prepare Txn and vote. The
	// coordinator resends it to everyone while it collects votes, as a
	// heartbeat.
	MsgPrepare MsgType = iota + 1
	// MsgVote (participant to coordinator): Vote for Txn.
	MsgVote
	// MsgPreCommit (leader to participant): every participant voted yes;
	// move to pre-committed at Ballot.
	MsgPreCommit
	// MsgPreCommitAck (participant to leader): pre-committed at Ballot.
	MsgPreCommitAck
	// MsgDecision (leader or anyone who knows): Txn's Outcome.
	MsgDecision
	// MsgAck (participant to leader): the outcome is durable here.
	MsgAck
	// MsgStateRequest (termination leader to participant): report your
	// state for Txn and promise to ignore leaders below Ballot.
	MsgStateRequest
	// MsgState (participant to termination leader): its State at Ballot,
	// and whether it is Recovering (restarted since it voted).
	MsgState
	// MsgReject (participant to a leader): it promised Ballot, above the
	// leader's; the leader stands down.
	MsgReject
)

// String returns the type's name.
func (t MsgType) String() string {
	switch t {
	case MsgPrepare:
		return "Prepare"
	case MsgVote:
		return "Vote"
	case MsgPreCommit:
		return "PreCommit"
	case MsgPreCommitAck:
		return "PreCommitAck"
	case MsgDecision:
		return "Decision"
	case MsgAck:
		return "Ack"
	case MsgStateRequest:
		return "StateRequest"
	case MsgState:
		return "State"
	case MsgReject:
		return "Reject"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// State is what a participant reports about a transaction in a termination
// round.
type State uint8

const (
	// StateUncertain: voted yes, not pre-committed, no outcome.
	StateUncertain State = iota + 1
	// StatePreCommitted: accepted a pre-commit; commit is the only outcome
	// it expects.
	StatePreCommitted
	// StateCommitted: the outcome is commit.
	StateCommitted
	// StateAborted: the outcome is abort (including a participant that had
	// not voted yes and aborted when asked).
	StateAborted
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateUncertain:
		return "uncertain"
	case StatePreCommitted:
		return "precommitted"
	case StateCommitted:
		return "committed"
	case StateAborted:
		return "aborted"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

func (s State) valid() bool { return s >= StateUncertain && s <= StateAborted }

// Message is a three-phase commit message. Which fields a type uses is
// listed at each type; Participants travels with Prepare, PreCommit and
// StateRequest so that a receiver that lost track can act.
type Message struct {
	Type         MsgType
	Txn          txn.ID
	Ballot       txn.Ballot
	Vote         txn.Vote
	Outcome      txn.Outcome
	State        State
	Recovering   bool
	Participants []txn.NodeID
}

// String formats m canonically (it goes into simulator traces).
func (m Message) String() string {
	switch m.Type {
	case MsgPrepare:
		return fmt.Sprintf("3pc.Prepare t%d parts=%v", m.Txn, m.Participants)
	case MsgVote:
		return fmt.Sprintf("3pc.Vote t%d %s", m.Txn, m.Vote)
	case MsgPreCommit, MsgStateRequest:
		return fmt.Sprintf("3pc.%s t%d b=%s parts=%v", m.Type, m.Txn, m.Ballot, m.Participants)
	case MsgDecision:
		return fmt.Sprintf("3pc.Decision t%d %s", m.Txn, m.Outcome)
	case MsgState:
		return fmt.Sprintf("3pc.State t%d b=%s %s recovering=%t", m.Txn, m.Ballot, m.State, m.Recovering)
	case MsgAck:
		return fmt.Sprintf("3pc.Ack t%d", m.Txn)
	}
	return fmt.Sprintf("3pc.%s t%d b=%s", m.Type, m.Txn, m.Ballot)
}

// validate checks m's fields for its type; a participant list must name
// self, the receiver, unless self is 0 (a coordinator).
func (m Message) validate(self txn.NodeID, maxParticipants int) error {
	if m.Txn == 0 {
		return fmt.Errorf("%w: %s: zero transaction", txn.ErrInvalidMessage, m)
	}
	switch m.Type {
	case MsgPrepare, MsgPreCommit, MsgStateRequest:
		if err := txn.CheckParticipants(m.Participants, maxParticipants); err != nil {
			return fmt.Errorf("%w: %s: %v", txn.ErrInvalidMessage, m, err)
		}
		if self != 0 && !slices.Contains(m.Participants, self) {
			return fmt.Errorf("%w: %s: n%d is not a participant", txn.ErrInvalidMessage, m, self)
		}
	case MsgVote:
		if !m.Vote.Valid() {
			return fmt.Errorf("%w: %s: no vote", txn.ErrInvalidMessage, m)
		}
	case MsgDecision:
		if !m.Outcome.Valid() {
			return fmt.Errorf("%w: %s: no outcome", txn.ErrInvalidMessage, m)
		}
	case MsgState:
		if !m.State.valid() {
			return fmt.Errorf("%w: %s: no state", txn.ErrInvalidMessage, m)
		}
	case MsgPreCommitAck, MsgAck, MsgReject:
	default:
		return fmt.Errorf("%w: unknown type %d", txn.ErrInvalidMessage, uint8(m.Type))
	}
	switch m.Type {
	case MsgPreCommit, MsgPreCommitAck, MsgStateRequest, MsgState, MsgReject:
		if m.Ballot.IsZero() {
			return fmt.Errorf("%w: %s: zero ballot", txn.ErrInvalidMessage, m)
		}
	}
	return nil
}

// coordinatorBallot is the ballot of the original coordinator's
// pre-commit: round 0, below every termination round.
func coordinatorBallot(coordinator txn.NodeID) txn.Ballot {
	return txn.Ballot{Round: 0, Node: coordinator}
}
