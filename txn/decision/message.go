package decision

import (
	"fmt"

	"github.com/cairndb/cairn/txn"
)

// MsgType is a register message's type.
type MsgType uint8

const (
	// MsgPropose (client to replica): decide Txn, proposing Value unless a
	// value is already chosen.
	MsgPropose MsgType = iota + 1
	// MsgDecided (replica to client): Txn's chosen Value.
	MsgDecided
	// MsgPrepare (replica to replica): Paxos phase 1a at Ballot.
	MsgPrepare
	// MsgPromise (phase 1b): the acceptor promised Ballot; Accepted and
	// Value are its highest accepted proposal (zero if none).
	MsgPromise
	// MsgAccept (phase 2a): accept Value at Ballot.
	MsgAccept
	// MsgAccepted (phase 2b): the acceptor accepted Ballot.
	MsgAccepted
	// MsgReject: the acceptor promised Ballot, which is above the one it
	// was asked for.
	MsgReject
	// MsgLearn (replica to replica): Value is chosen for Txn.
	MsgLearn
)

// String returns the type's name.
func (t MsgType) String() string {
	switch t {
	case MsgPropose:
		return "Propose"
	case MsgDecided:
		return "Decided"
	case MsgPrepare:
		return "Prepare"
	case MsgPromise:
		return "Promise"
	case MsgAccept:
		return "Accept"
	case MsgAccepted:
		return "Accepted"
	case MsgReject:
		return "Reject"
	case MsgLearn:
		return "Learn"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is a decision register message. Which fields a type uses is
// listed at each type.
type Message struct {
	Type     MsgType
	Txn      txn.ID
	Ballot   txn.Ballot
	Accepted txn.Ballot
	Value    txn.Outcome
}

// String formats m canonically (it goes into simulator traces).
func (m Message) String() string {
	switch m.Type {
	case MsgPropose, MsgDecided, MsgLearn:
		return fmt.Sprintf("reg.%s t%d %s", m.Type, m.Txn, m.Value)
	case MsgPromise:
		return fmt.Sprintf("reg.%s t%d b=%s acc=%s %s", m.Type, m.Txn, m.Ballot, m.Accepted, m.Value)
	case MsgAccept:
		return fmt.Sprintf("reg.%s t%d b=%s %s", m.Type, m.Txn, m.Ballot, m.Value)
	}
	return fmt.Sprintf("reg.%s t%d b=%s", m.Type, m.Txn, m.Ballot)
}

func (m Message) validate() error {
	if m.Txn == 0 {
		return fmt.Errorf("%w: %s: zero transaction", txn.ErrInvalidMessage, m)
	}
	switch m.Type {
	case MsgPropose, MsgDecided, MsgLearn, MsgAccept:
		if !m.Value.Valid() {
			return fmt.Errorf("%w: %s: no value", txn.ErrInvalidMessage, m)
		}
	case MsgPrepare, MsgPromise, MsgAccepted, MsgReject:
	default:
		return fmt.Errorf("%w: unknown type %d", txn.ErrInvalidMessage, uint8(m.Type))
	}
	switch m.Type {
	case MsgPrepare, MsgPromise, MsgAccept, MsgAccepted, MsgReject:
		if m.Ballot.IsZero() {
			return fmt.Errorf("%w: %s: zero ballot", txn.ErrInvalidMessage, m)
		}
	}
	if m.Type == MsgPromise && !m.Accepted.IsZero() && !m.Value.Valid() {
		return fmt.Errorf("%w: %s: accepted ballot without a value", txn.ErrInvalidMessage, m)
	}
	return nil
}

// fromReplica reports whether a message of this type only comes from a
// replica.
func (t MsgType) fromReplica() bool { return t != MsgPropose && t != MsgDecided }
