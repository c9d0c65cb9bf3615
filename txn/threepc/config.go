package threepc

import (
	"fmt"
	"log/slog"

	"github.com/cairndb/cairn/txn"
)

// Config configures a coordinator or a participant. Start from
// DefaultConfig. Timeouts count ticks of the node's own clock; the defaults
// assume a message round trip of about one tick and delays below ten ticks.
//
// Three-phase commit is only as safe as its failure detector: a node it
// suspects must really be down. SuspectTicks and AckTimeoutTicks must
// therefore be long against RetryTicks (many resends must be lost in a row
// before a live node is suspected) and against the worst message delay.
// See the package doc.
type Config struct {
	// ID is this node's ID.
	ID txn.NodeID
	// RetryTicks is the resend interval. The coordinator and a termination
	// leader resend their current request to every participant each
	// RetryTicks, which doubles as the heartbeat that the participants'
	// failure detector listens to. Default 2.
	RetryTicks int
	// VoteTimeoutTicks (coordinator) is how long it waits for every vote
	// before it aborts. Default 20.
	VoteTimeoutTicks int
	// AckTimeoutTicks (coordinator, termination leader) is how long it
	// waits for every pre-commit acknowledgement before it commits anyway,
	// taking the silent participants for crashed. Default 40.
	AckTimeoutTicks int
	// SuspectTicks (participant) is how long a participant that voted yes
	// waits without hearing from its leader (the coordinator, or the
	// leader of the current termination round) before it suspects it.
	// Default 40.
	SuspectTicks int
	// StaggerTicks (participant) is added to SuspectTicks once per rank:
	// the participant with the lowest ID starts a termination round first,
	// the next one only if the first is silent too. Default 20.
	StaggerTicks int
	// RoundTicks (termination leader) is how long it collects states before
	// it decides with the answers it has, taking the silent participants
	// for crashed. Default 40.
	RoundTicks int
	// MaxActiveTxns (coordinator) bounds the transactions begun and not yet
	// ended; Begin beyond it returns txn.ErrTooManyTxns. Default 1024.
	MaxActiveTxns int
	// MaxKnownTxns (participant) bounds the transactions a participant
	// remembers; beyond it, a prepare for a new transaction is answered no
	// and a state request about an unknown one is not answered. Default
	// 1<<16.
	MaxKnownTxns int
	// MaxParticipants bounds a transaction's participant list. Default 16.
	MaxParticipants int
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults for node id.
func DefaultConfig(id txn.NodeID) Config {
	return Config{
		ID:               id,
		RetryTicks:       2,
		VoteTimeoutTicks: 20,
		AckTimeoutTicks:  40,
		SuspectTicks:     40,
		StaggerTicks:     20,
		RoundTicks:       40,
		MaxActiveTxns:    1024,
		MaxKnownTxns:     1 << 16,
		MaxParticipants:  16,
	}
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: threepc: "+format, append([]any{txn.ErrConfigInvalid}, args...)...)
	}
	switch {
	case c.ID == 0:
		return bad("ID is 0")
	case c.RetryTicks < 1:
		return bad("RetryTicks = %d, want >= 1", c.RetryTicks)
	case c.VoteTimeoutTicks < c.RetryTicks:
		return bad("VoteTimeoutTicks = %d, want >= RetryTicks = %d", c.VoteTimeoutTicks, c.RetryTicks)
	case c.AckTimeoutTicks < 3*c.RetryTicks:
		return bad("AckTimeoutTicks = %d, want >= 3*RetryTicks = %d", c.AckTimeoutTicks, 3*c.RetryTicks)
	case c.SuspectTicks < 3*c.RetryTicks:
		// A live leader's heartbeats must be able to get lost a few times
		// in a row without the leader being suspected.
		return bad("SuspectTicks = %d, want >= 3*RetryTicks = %d", c.SuspectTicks, 3*c.RetryTicks)
	case c.StaggerTicks < c.RetryTicks:
		return bad("StaggerTicks = %d, want >= RetryTicks = %d", c.StaggerTicks, c.RetryTicks)
	case c.RoundTicks < 3*c.RetryTicks:
		return bad("RoundTicks = %d, want >= 3*RetryTicks = %d", c.RoundTicks, 3*c.RetryTicks)
	case c.MaxActiveTxns < 1:
		return bad("MaxActiveTxns = %d, want >= 1", c.MaxActiveTxns)
	case c.MaxKnownTxns < 1:
		return bad("MaxKnownTxns = %d, want >= 1", c.MaxKnownTxns)
	case c.MaxParticipants < 1 || c.MaxParticipants > txn.MaxRecordParticipants:
		return bad("MaxParticipants = %d, want 1..%d", c.MaxParticipants, txn.MaxRecordParticipants)
	}
	return nil
}
