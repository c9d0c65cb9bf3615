package paxos

import (
	"errors"
	"fmt"
)

// Errors a proposal can end with; match them with errors.Is on an *Error.
var (
	// ErrContention: the last attempt was refused because another
	// proposer holds a higher ballot, or other operations overtook this
	// one so that its outcome cannot be known.
	ErrContention = errors.New("paxos: contention")
	// ErrTimeout: a majority of the replicas answered, but the round did
	// not complete within Config.RoundTicks (lost messages, a slow disk).
	ErrTimeout = errors.New("paxos: timeout")
	// ErrNoQuorum: fewer than a majority of the replicas answered the last
	// attempt (they are down, or partitioned away from the proposer).
	ErrNoQuorum = errors.New("paxos: no quorum")
)

// Errors Propose returns at once: the proposal was not started and had no
// effect.
var (
	// ErrTooManyPending: Config.MaxPending proposals are running or queued.
	ErrTooManyPending = errors.New("paxos: too many pending proposals")
	// ErrValueTooLarge: a value or expected value is over
	// Limits.MaxValueBytes.
	ErrValueTooLarge = errors.New("paxos: value too large")
	// ErrKeyTooLarge: the key is over Limits.MaxKeyBytes.
	ErrKeyTooLarge = errors.New("paxos: key too large")
	// ErrInvalidOp: an unknown operation kind, a field the kind does not
	// take (a deadline or KeepTTL on a kind that writes no value), a
	// negative time, or a deadline without NowMs or with KeepTTL.
	ErrInvalidOp = errors.New("paxos: invalid operation")
	// ErrInvalidReplicas: the replica list is empty, too long, or holds 0
	// or a duplicate.
	ErrInvalidReplicas = errors.New("paxos: invalid replica list")
	// ErrDuplicateID: a proposal with this ID is pending.
	ErrDuplicateID = errors.New("paxos: duplicate proposal ID")
)

// Other errors.
var (
	// ErrInvalidMessage: a malformed message, or one sent to the wrong
	// role.
	ErrInvalidMessage = errors.New("paxos: invalid message")
	// ErrInvalidState: an acceptor state that breaks its invariants.
	ErrInvalidState = errors.New("paxos: invalid acceptor state")
	// ErrInvalidConfig: a Config or Limits field out of range.
	ErrInvalidConfig = errors.New("paxos: invalid config")
	// ErrMalformed: a decoder refused its input.
	ErrMalformed = errors.New("paxos: malformed encoding")
)

// Error is how a proposal fails after it started. Kind is ErrContention,
// ErrTimeout or ErrNoQuorum, and errors.Is(err, Kind) holds.
type Error struct {
	Kind error
	Key  string
	// Attempts is the number of ballots tried.
	Attempts int
	// Replicas is the size of the key's replica list; Needed is its
	// majority.
	Replicas, Needed int
	// Answered is how many distinct replicas answered the last attempt.
	Answered int
	// MaybeApplied reports that the operation's write may have taken
	// effect, now or later: one of its Accepts may have been accepted, and
	// another proposer may yet finish it. When false, the operation
	// certainly had no effect and may be retried as a new operation.
	MaybeApplied bool
}

// Error describes the failure with the counts.
func (e *Error) Error() string {
	outcome := "not applied"
	if e.MaybeApplied {
		outcome = "outcome unknown"
	}
	return fmt.Sprintf("%v: key %q: %d of %d replicas answered (%d needed) after %d attempts; %s",
		e.Kind, e.Key, e.Answered, e.Replicas, e.Needed, e.Attempts, outcome)
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }
