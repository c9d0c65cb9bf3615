package decision

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// Config configures one register replica. Start from DefaultConfig.
type Config struct {
	// ID is this replica's ID; it must be in Replicas.
	ID txn.NodeID
	// Replicas are every replica of the register, this one included. A
	// value is chosen by a majority of them, so the register survives the
	// loss of any minority (one replica of three).
	Replicas []txn.NodeID
	// RetryTicks is how long a proposer waits for a phase to complete
	// before it starts a higher ballot; the wait is drawn from
	// [RetryTicks, 2*RetryTicks) so that duelling proposers drift apart.
	// Default 5: a round trip takes about one tick.
	RetryTicks int
	// MaxProposals bounds the proposals this replica drives at once; a
	// Propose beyond it is dropped (the client retries elsewhere).
	// Default 256.
	MaxProposals int
	// MaxKeys bounds the transactions whose acceptor state the replica
	// keeps; messages about new transactions beyond it are dropped.
	// Decided transactions are never forgotten (see the HAZARD in the
	// package doc). Default 1<<20.
	MaxKeys int
	// MaxWaiters bounds the clients waiting for one proposal's answer;
	// more are not remembered and learn the value when they retry.
	// Default 16.
	MaxWaiters int
	// Rand is the only randomness (retry jitter); required.
	Rand *rand.Rand
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults for replica id of replicas,
// drawing randomness from rng.
func DefaultConfig(id txn.NodeID, replicas []txn.NodeID, rng *rand.Rand) Config {
	return Config{
		ID:           id,
		Replicas:     slices.Clone(replicas),
		RetryTicks:   5,
		MaxProposals: 256,
		MaxKeys:      1 << 20,
		MaxWaiters:   16,
		Rand:         rng,
	}
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: decision: ID is 0", txn.ErrConfigInvalid)
	case !slices.Contains(c.Replicas, c.ID):
		return fmt.Errorf("%w: decision: ID n%d is not in Replicas %v", txn.ErrConfigInvalid, c.ID, c.Replicas)
	case c.RetryTicks < 1:
		return fmt.Errorf("%w: decision: RetryTicks = %d, want >= 1", txn.ErrConfigInvalid, c.RetryTicks)
	case c.MaxProposals < 1:
		return fmt.Errorf("%w: decision: MaxProposals = %d, want >= 1", txn.ErrConfigInvalid, c.MaxProposals)
	case c.MaxKeys < 1:
		return fmt.Errorf("%w: decision: MaxKeys = %d, want >= 1", txn.ErrConfigInvalid, c.MaxKeys)
	case c.MaxWaiters < 1:
		return fmt.Errorf("%w: decision: MaxWaiters = %d, want >= 1", txn.ErrConfigInvalid, c.MaxWaiters)
	case c.Rand == nil:
		return fmt.Errorf("%w: decision: Rand is nil", txn.ErrConfigInvalid)
	}
	if err := txn.CheckParticipants(c.Replicas, txn.MaxRecordParticipants); err != nil {
		return fmt.Errorf("%w: decision: Replicas: %v", txn.ErrConfigInvalid, err)
	}
	return nil
}
