package txn

import "errors"

var (
	// ErrConfigInvalid is wrapped by the Validate errors of every config in
	// txn and its subpackages.
	ErrConfigInvalid = errors.New("txn: invalid config")
	// ErrInvalidMessage is wrapped by the errors of Step for a malformed
	// message (unknown type, zero transaction, a participant list that
	// does not name the receiver). Such a message changes no state.
	ErrInvalidMessage = errors.New("txn: invalid message")
	// ErrBadParticipants is returned by Begin for a participant list that is
	// empty, too long, or holds zero or duplicate IDs.
	ErrBadParticipants = errors.New("txn: bad participant list")
	// ErrDuplicateTxn is returned by Begin for a transaction ID the
	// coordinator already tracks.
	ErrDuplicateTxn = errors.New("txn: transaction ID already in use")
	// ErrTooManyTxns is returned when a bound on tracked transactions
	// (MaxActiveTxns, MaxPending) is reached: back-pressure, retry later.
	ErrTooManyTxns = errors.New("txn: too many transactions in flight")
	// ErrUnknownTxn is returned by Participant.Vote for a transaction the
	// participant was never asked to prepare.
	ErrUnknownTxn = errors.New("txn: unknown transaction")
	// ErrConflictingOutcome is wrapped by Step errors for a message that
	// announces the opposite of an outcome this node already recorded. The
	// message is ignored; it means atomicity is already broken somewhere
	// (which only three-phase commit under a partition can do).
	ErrConflictingOutcome = errors.New("txn: message contradicts a recorded outcome")
	// ErrCorruptRecord is wrapped by UnmarshalRecord and by the constructors
	// that replay a log, for a record that does not decode or does not fit
	// the records before it.
	ErrCorruptRecord = errors.New("txn: corrupt log record")
)
