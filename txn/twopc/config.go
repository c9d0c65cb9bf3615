package twopc

import (
	"fmt"
	"log/slog"

	"github.com/cairndb/cairn/txn"
)

// Config configures a coordinator or a participant. Start from
// DefaultConfig. Timeouts count ticks of the node's own clock; the defaults
// assume a message round trip of about one tick.
type Config struct {
	// ID is this node's ID.
	ID txn.NodeID
	// RetryTicks is the resend interval of every message that waits for an
	// answer: prepare (to participants that have not voted), decisions (to
	// participants that have not acknowledged), decision requests and
	// register proposals. Default 3.
	RetryTicks int
	// VoteTimeoutTicks (coordinator) is how long it waits for every vote
	// before it aborts. Default 20: several retries, so that a lost message
	// alone does not abort a transaction.
	VoteTimeoutTicks int
	// DecisionTimeoutTicks (participant) is how long a participant that
	// voted yes waits without a decision before it starts the cooperative
	// termination protocol (or, with Registers, asks the register).
	// Default 40: above VoteTimeoutTicks, so that a live coordinator
	// normally decides first.
	DecisionTimeoutTicks int
	// MaxActiveTxns (coordinator) bounds the transactions begun and not yet
	// ended (every participant acknowledged the decision); Begin beyond it
	// returns txn.ErrTooManyTxns. Default 1024.
	MaxActiveTxns int
	// MaxKnownTxns (participant) bounds the transactions a participant
	// remembers. Beyond it, a prepare for a new transaction is answered no
	// and a decision request about an unknown one is not answered. Default
	// 1<<16 (see the HAZARD in the package doc about forgetting).
	MaxKnownTxns int
	// MaxParticipants bounds a transaction's participant list. Default 16.
	MaxParticipants int
	// Registers, when set, are the replicas of the decision register
	// (package decision) that holds every decision: the non-blocking
	// variant. Empty means the coordinator decides alone and records the
	// decision in its own log: classic two-phase commit, which blocks when
	// the coordinator is lost at the wrong moment.
	Registers []txn.NodeID
	// MaxRegisterPending bounds the register proposals awaiting an answer
	// (with Registers); at least MaxActiveTxns. Default 1024.
	MaxRegisterPending int
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults for node id.
func DefaultConfig(id txn.NodeID) Config {
	return Config{
		ID:                   id,
		RetryTicks:           3,
		VoteTimeoutTicks:     20,
		DecisionTimeoutTicks: 40,
		MaxActiveTxns:        1024,
		MaxKnownTxns:         1 << 16,
		MaxParticipants:      16,
		MaxRegisterPending:   1024,
	}
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: twopc: ID is 0", txn.ErrConfigInvalid)
	case c.RetryTicks < 1:
		return fmt.Errorf("%w: twopc: RetryTicks = %d, want >= 1", txn.ErrConfigInvalid, c.RetryTicks)
	case c.VoteTimeoutTicks < c.RetryTicks:
		return fmt.Errorf("%w: twopc: VoteTimeoutTicks = %d, want >= RetryTicks = %d", txn.ErrConfigInvalid, c.VoteTimeoutTicks, c.RetryTicks)
	case c.DecisionTimeoutTicks < c.RetryTicks:
		return fmt.Errorf("%w: twopc: DecisionTimeoutTicks = %d, want >= RetryTicks = %d", txn.ErrConfigInvalid, c.DecisionTimeoutTicks, c.RetryTicks)
	case c.MaxActiveTxns < 1:
		return fmt.Errorf("%w: twopc: MaxActiveTxns = %d, want >= 1", txn.ErrConfigInvalid, c.MaxActiveTxns)
	case c.MaxKnownTxns < 1:
		return fmt.Errorf("%w: twopc: MaxKnownTxns = %d, want >= 1", txn.ErrConfigInvalid, c.MaxKnownTxns)
	case c.MaxParticipants < 1 || c.MaxParticipants > txn.MaxRecordParticipants:
		return fmt.Errorf("%w: twopc: MaxParticipants = %d, want 1..%d", txn.ErrConfigInvalid, c.MaxParticipants, txn.MaxRecordParticipants)
	case len(c.Registers) > 0 && c.MaxRegisterPending < c.MaxActiveTxns:
		// A coordinator proposes every active transaction at most once.
		return fmt.Errorf("%w: twopc: MaxRegisterPending = %d, want >= MaxActiveTxns = %d", txn.ErrConfigInvalid, c.MaxRegisterPending, c.MaxActiveTxns)
	}
	if len(c.Registers) > 0 {
		if err := txn.CheckParticipants(c.Registers, txn.MaxRecordParticipants); err != nil {
			return fmt.Errorf("%w: twopc: Registers: %v", txn.ErrConfigInvalid, err)
		}
	}
	return nil
}
