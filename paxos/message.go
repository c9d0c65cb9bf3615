package paxos

import (
	"errors"
	"fmt"
)

// MsgType is a Paxos message's type.
type MsgType uint8

const (
	// MsgPrepare (proposer to acceptor, phase 1a): promise Ballot for Key.
	MsgPrepare MsgType = iota + 1
	// MsgPromise (acceptor to proposer, phase 1b): the acceptor promised
	// Ballot. It carries the acceptor's proposal in progress (Accepted,
	// zero if none newer than its commit) and its most recent commit
	// (Committed), so the prepare round also reads the current value.
	MsgPromise
	// MsgAccept (proposer to acceptor, phase 2a): accept Proposal.
	MsgAccept
	// MsgAccepted (acceptor to proposer, phase 2b): the acceptor accepted
	// the proposal of Ballot.
	MsgAccepted
	// MsgCommit (proposer to acceptor): Proposal is chosen; make it the
	// most recent commit if it is newer. Not answered.
	MsgCommit
	// MsgReject (acceptor to proposer): the Prepare or Accept of Ballot was
	// refused because the acceptor promised, or committed, Promised.
	MsgReject
)

// String returns the type's name.
func (t MsgType) String() string {
	switch t {
	case MsgPrepare:
		return "Prepare"
	case MsgPromise:
		return "Promise"
	case MsgAccept:
		return "Accept"
	case MsgAccepted:
		return "Accepted"
	case MsgCommit:
		return "Commit"
	case MsgReject:
		return "Reject"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// toAcceptor reports whether an acceptor handles t (StepAcceptor); the
// others go to a proposer (Proposer.Step).
func (t MsgType) toAcceptor() bool { return t == MsgPrepare || t == MsgAccept || t == MsgCommit }

// Message is a Paxos message about one key. Which fields a type uses is
// listed at each MsgType; the others must be zero (Validate checks).
type Message struct {
	Type MsgType
	Key  string
	// Ballot is the round of a Prepare, Promise, Accepted or Reject.
	Ballot Ballot
	// Proposal is what an Accept offers or a Commit announces; its Ballot
	// is the round.
	Proposal Proposal
	// Accepted, Committed and Recent are a Promise's acceptor state.
	Accepted, Committed Proposal
	Recent              []Link
	// Promised is a Reject's reason: the acceptor's promise or commit,
	// at or above Ballot.
	Promised Ballot
}

// Round returns the ballot the message is about.
func (m Message) Round() Ballot {
	if m.Type == MsgAccept || m.Type == MsgCommit {
		return m.Proposal.Ballot
	}
	return m.Ballot
}

// String formats m canonically (no pointers, no map order) for traces.
func (m Message) String() string {
	switch m.Type {
	case MsgPrepare, MsgAccepted:
		return fmt.Sprintf("%s k=%q b=%s", m.Type, m.Key, m.Ballot)
	case MsgPromise:
		return fmt.Sprintf("%s k=%q b=%s acc=%s com=%s recent=%d", m.Type, m.Key, m.Ballot, m.Accepted, m.Committed, len(m.Recent))
	case MsgAccept, MsgCommit:
		return fmt.Sprintf("%s k=%q %s", m.Type, m.Key, m.Proposal)
	case MsgReject:
		return fmt.Sprintf("%s k=%q b=%s promised=%s", m.Type, m.Key, m.Ballot, m.Promised)
	}
	return fmt.Sprintf("%s k=%q", m.Type, m.Key)
}

// Limits bound what a message or an operation may carry.
type Limits struct {
	// MaxKeyBytes bounds a key's length. Default 1 KiB (DefaultLimits);
	// at most KeyBytesLimit.
	MaxKeyBytes int
	// MaxValueBytes bounds a value's length, and an operation's expected
	// value. Default 1 MiB: a value travels whole in Accept, Promise and
	// Commit messages and sits in the acceptor state. At most
	// ValueBytesLimit.
	MaxValueBytes int
}

// Hard bounds on Limits, which the decoders enforce whatever the
// configuration says.
const (
	// KeyBytesLimit bounds Limits.MaxKeyBytes.
	KeyBytesLimit = 64 << 10
	// ValueBytesLimit bounds Limits.MaxValueBytes.
	ValueBytesLimit = 16 << 20
)

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits { return Limits{MaxKeyBytes: 1 << 10, MaxValueBytes: 1 << 20} }

// Validate reports the first field out of range.
func (l Limits) Validate() error {
	switch {
	case l.MaxKeyBytes < 1 || l.MaxKeyBytes > KeyBytesLimit:
		return fmt.Errorf("%w: MaxKeyBytes = %d, want 1..%d", ErrInvalidConfig, l.MaxKeyBytes, KeyBytesLimit)
	case l.MaxValueBytes < 1 || l.MaxValueBytes > ValueBytesLimit:
		return fmt.Errorf("%w: MaxValueBytes = %d, want 1..%d", ErrInvalidConfig, l.MaxValueBytes, ValueBytesLimit)
	}
	return nil
}

// Validate checks that m is well formed and within lim: a known type, the
// fields of its type set and valid, the others zero. A driver calls it on
// every message it receives (DecodeMessage checks only the hard bounds);
// StepAcceptor and Proposer.Step check the shape again but not lim.
func (m Message) Validate(lim Limits) error {
	if err := m.validateShape(); err != nil {
		return err
	}
	if len(m.Key) > lim.MaxKeyBytes {
		return fmt.Errorf("%w: %s: key of %d bytes, limit %d", ErrInvalidMessage, m.Type, len(m.Key), lim.MaxKeyBytes)
	}
	for _, p := range []Proposal{m.Proposal, m.Accepted, m.Committed} {
		if len(p.Value.Data) > lim.MaxValueBytes {
			return fmt.Errorf("%w: %s: value of %d bytes, limit %d", ErrInvalidMessage, m.Type, len(p.Value.Data), lim.MaxValueBytes)
		}
	}
	return nil
}

func (m Message) validateShape() error {
	if err := m.shapeErr(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidMessage, m.Type, err)
	}
	return nil
}

func (m Message) shapeErr() error {
	for _, b := range []Ballot{m.Ballot, m.Promised} {
		if err := b.validate(); err != nil {
			return err
		}
	}
	for _, p := range []Proposal{m.Proposal, m.Accepted, m.Committed} {
		if err := p.validate(); err != nil {
			return err
		}
	}
	usesBallot := m.Type == MsgPrepare || m.Type == MsgPromise || m.Type == MsgAccepted || m.Type == MsgReject
	usesProposal := m.Type == MsgAccept || m.Type == MsgCommit
	switch {
	case m.Type < MsgPrepare || m.Type > MsgReject:
		return errors.New("unknown type")
	case usesBallot && m.Ballot.IsZero():
		return errors.New("no ballot")
	case !usesBallot && !m.Ballot.IsZero():
		return errors.New("unexpected ballot")
	case usesProposal && m.Proposal.Ballot.IsZero():
		return errors.New("no proposal")
	case !usesProposal && !m.Proposal.IsZero():
		return errors.New("unexpected proposal")
	case m.Type != MsgPromise && (!m.Accepted.IsZero() || !m.Committed.IsZero() || m.Recent != nil):
		return errors.New("unexpected acceptor state")
	case m.Type != MsgReject && !m.Promised.IsZero():
		return errors.New("unexpected promised ballot")
	case m.Type == MsgReject && m.Promised.Less(m.Ballot):
		return fmt.Errorf("rejects %s for %s, which is below it", m.Ballot, m.Promised)
	}
	if m.Type == MsgPromise {
		// What a correct acceptor that promised Ballot can hold.
		switch {
		case !m.Accepted.IsZero() && m.Ballot.Less(m.Accepted.Ballot):
			return fmt.Errorf("accepted %s above the promise %s", m.Accepted.Ballot, m.Ballot)
		case !m.Accepted.IsZero() && !m.Committed.Ballot.Less(m.Accepted.Ballot):
			return fmt.Errorf("in-progress %s not above the commit %s", m.Accepted.Ballot, m.Committed.Ballot)
		case !m.Committed.Ballot.Less(m.Ballot):
			return fmt.Errorf("commit %s at or above the promise %s", m.Committed.Ballot, m.Ballot)
		}
		return validateLinks(m.Recent, m.Committed)
	}
	return nil
}
