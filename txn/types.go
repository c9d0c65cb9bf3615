package txn

import "fmt"

// ID identifies a transaction. The caller of Begin chooses it and must never
// reuse it (see the HAZARD in the package doc); 0 is never a transaction.
type ID uint64

// NodeID identifies a node: a coordinator, a participant or a decision
// register replica. 0 is never a node.
type NodeID uint64

// Outcome is the fate of a transaction.
type Outcome uint8

const (
	// Commit makes the transaction's writes visible at every participant.
	Commit Outcome = iota + 1
	// Abort discards them everywhere.
	Abort
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Commit:
		return "commit"
	case Abort:
		return "abort"
	case 0:
		return "none"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Valid reports whether o is Commit or Abort.
func (o Outcome) Valid() bool { return o == Commit || o == Abort }

// Vote is a participant's answer to a prepare request.
type Vote uint8

const (
	// VoteYes promises that the participant can commit: its writes are
	// durable and locked, and it will abide by the decision.
	VoteYes Vote = iota + 1
	// VoteNo refuses; the transaction must abort.
	VoteNo
)

// String returns the vote's name.
func (v Vote) String() string {
	switch v {
	case VoteYes:
		return "yes"
	case VoteNo:
		return "no"
	case 0:
		return "none"
	}
	return fmt.Sprintf("Vote(%d)", uint8(v))
}

// Valid reports whether v is VoteYes or VoteNo.
func (v Vote) Valid() bool { return v == VoteYes || v == VoteNo }

// Ballot orders the attempts to decide one transaction: three-phase
// commit's termination rounds and the decision register's Paxos ballots.
// Ballots compare by Round, then by Node, so two nodes never pick the same
// ballot. The zero Ballot is below every other.
type Ballot struct {
	// Round grows with each new attempt.
	Round uint64
	// Node is the node that leads the attempt.
	Node NodeID
}

// Less reports whether b orders before o.
func (b Ballot) Less(o Ballot) bool {
	if b.Round != o.Round {
		return b.Round < o.Round
	}
	return b.Node < o.Node
}

// IsZero reports whether b is the zero Ballot.
func (b Ballot) IsZero() bool { return b == Ballot{} }

// String formats b as round.node, e.g. "3.n2".
func (b Ballot) String() string { return fmt.Sprintf("%d.n%d", b.Round, b.Node) }
