package twopc

import (
	"fmt"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// MsgType is a two-phase commit message's type.
type MsgType uint8

const (
	// MsgPrepare (coordinator to participant): prepare Txn, whose
	// participants are Participants, and vote.
	MsgPrepare MsgType = iota + 1
	// MsgVote (participant to coordinator): Vote for Txn.
	MsgVote
	// MsgDecision (coordinator or peer to participant): Txn's Outcome.
	MsgDecision
	// MsgAck (participant to coordinator): the decision of Txn is durable
	// here; the coordinator stops resending it.
	MsgAck
	// MsgDecisionRequest (participant to its peers and coordinator): I
	// voted yes for Txn and know no outcome; tell me, or, if you have not
	// voted yes, abort it and tell me so.
	MsgDecisionRequest
)

// String returns the type's name.
func (t MsgType) String() string {
	switch t {
	case MsgPrepare:
		return "Prepare"
	case MsgVote:
		return "Vote"
	case MsgDecision:
		return "Decision"
	case MsgAck:
		return "Ack"
	case MsgDecisionRequest:
		return "DecisionRequest"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is a two-phase commit message. Which fields a type uses is
// listed at each type.
type Message struct {
	Type         MsgType
	Txn          txn.ID
	Vote         txn.Vote
	Outcome      txn.Outcome
	Participants []txn.NodeID
	// Presumed marks a coordinator's abort decision for a transaction it
	// does not know (presumed abort). A participant that has already
	// recorded an outcome ignores it: the coordinator forgets a
	// transaction only after every participant acknowledged its outcome,
	// so such an answer can only reach a participant late, as a duplicate.
	Presumed bool
}

// String formats m canonically (it goes into simulator traces).
func (m Message) String() string {
	switch m.Type {
	case MsgPrepare, MsgDecisionRequest:
		return fmt.Sprintf("2pc.%s t%d parts=%v", m.Type, m.Txn, m.Participants)
	case MsgVote:
		return fmt.Sprintf("2pc.Vote t%d %s", m.Txn, m.Vote)
	case MsgDecision:
		if m.Presumed {
			return fmt.Sprintf("2pc.Decision t%d %s (presumed)", m.Txn, m.Outcome)
		}
		return fmt.Sprintf("2pc.Decision t%d %s", m.Txn, m.Outcome)
	}
	return fmt.Sprintf("2pc.%s t%d", m.Type, m.Txn)
}

// validate checks m's fields for its type; a participant list must name
// self, the receiver, unless self is 0 (a coordinator).
func (m Message) validate(self txn.NodeID, maxParticipants int) error {
	if m.Txn == 0 {
		return fmt.Errorf("%w: %s: zero transaction", txn.ErrInvalidMessage, m)
	}
	switch m.Type {
	case MsgPrepare, MsgDecisionRequest:
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
		if !m.Outcome.Valid() || (m.Presumed && m.Outcome != txn.Abort) {
			return fmt.Errorf("%w: %s: bad outcome", txn.ErrInvalidMessage, m)
		}
	case MsgAck:
	default:
		return fmt.Errorf("%w: unknown type %d", txn.ErrInvalidMessage, uint8(m.Type))
	}
	return nil
}
