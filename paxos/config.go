package paxos

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
)

// Config configures a Proposer. Start from DefaultConfig.
type Config struct {
	// ID is this proposer's node ID, part of its ballots; not 0.
	ID NodeID
	// Epoch is this proposer's incarnation, part of its ballots, >= 1. The
	// driver must persist a counter and bump it at every start before the
	// proposer sends anything: ballots of two incarnations must differ
	// even if the ballot clock went back (see Ballot).
	Epoch uint64
	// Clock gives ballot times (HLCBallots or LamportBallots); required.
	Clock BallotClock
	// Rand is the only randomness (backoff jitter); required.
	Rand *rand.Rand
	// RoundTicks is how long a phase (prepare or accept) waits for a
	// majority before the attempt ends in a timeout. Default 5: a round
	// trip takes about one tick.
	RoundTicks int
	// BackoffTicks is the base of the randomized exponential backoff after
	// an attempt is refused by a higher ballot: the k-th refusal in a row
	// waits 1 + rand[0, min(MaxBackoffTicks, BackoffTicks<<(k-1))) ticks,
	// so that duelling proposers drift apart. An attempt that timed out
	// waits 1 + rand[0, BackoffTicks). Default 2.
	BackoffTicks int
	// MaxBackoffTicks caps the backoff. Default 20.
	MaxBackoffTicks int
	// MaxAttempts bounds the ballots one operation tries (including
	// rounds that finish another proposer's proposal); at the bound it
	// fails with the cause of the last attempt. Default 8. With the
	// defaults an operation is answered within MaxOpTicks = 8*(2*5+20) =
	// 240 ticks of running.
	MaxAttempts int
	// MaxPending bounds the proposals this proposer holds, running or
	// queued behind another on the same key; Propose returns
	// ErrTooManyPending beyond it. Default 1024.
	MaxPending int
	// MaxReplicas bounds a key's replica list. Default 7.
	MaxReplicas int
	// Limits bound keys and values. Default DefaultLimits().
	Limits Limits
	// FenceReads makes an operation that does not write (a GET, a failed
	// condition) run the accept round too, re-proposing the current value
	// under its ballot, instead of answering after the prepare round. Both
	// are linearizable; the fence also guarantees that a proposal in
	// progress that the read did not see (one a minority accepted before a
	// client timed out) can never be chosen afterwards, so that a read
	// after a timeout settles the outcome of the timed-out write. Costs
	// one round trip per read. Default false.
	FenceReads bool
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults for proposer id in
// incarnation epoch.
func DefaultConfig(id NodeID, epoch uint64, clk BallotClock, rng *rand.Rand) Config {
	return Config{
		ID:              id,
		Epoch:           epoch,
		Clock:           clk,
		Rand:            rng,
		RoundTicks:      5,
		BackoffTicks:    2,
		MaxBackoffTicks: 20,
		MaxAttempts:     8,
		MaxPending:      1024,
		MaxReplicas:     7,
		Limits:          DefaultLimits(),
	}
}

// Upper bounds on the tick and count settings: beyond them a setting is a
// mistake (and products of them could overflow).
const (
	maxTicksSetting    = 1 << 20
	maxAttemptsSetting = 1 << 10
	// MaxReplicasLimit bounds Config.MaxReplicas.
	MaxReplicasLimit = 64
)

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.ID == 0:
		return fmt.Errorf("%w: ID is 0", ErrInvalidConfig)
	case c.Epoch == 0:
		return fmt.Errorf("%w: Epoch is 0", ErrInvalidConfig)
	case c.Clock == nil:
		return fmt.Errorf("%w: Clock is nil", ErrInvalidConfig)
	case c.Rand == nil:
		return fmt.Errorf("%w: Rand is nil", ErrInvalidConfig)
	case c.RoundTicks < 1 || c.RoundTicks > maxTicksSetting:
		return fmt.Errorf("%w: RoundTicks = %d, want 1..%d", ErrInvalidConfig, c.RoundTicks, maxTicksSetting)
	case c.BackoffTicks < 1 || c.BackoffTicks > c.MaxBackoffTicks:
		return fmt.Errorf("%w: BackoffTicks = %d, want 1..MaxBackoffTicks (%d)", ErrInvalidConfig, c.BackoffTicks, c.MaxBackoffTicks)
	case c.MaxBackoffTicks > maxTicksSetting:
		return fmt.Errorf("%w: MaxBackoffTicks = %d, want <= %d", ErrInvalidConfig, c.MaxBackoffTicks, maxTicksSetting)
	case c.MaxAttempts < 1 || c.MaxAttempts > maxAttemptsSetting:
		return fmt.Errorf("%w: MaxAttempts = %d, want 1..%d", ErrInvalidConfig, c.MaxAttempts, maxAttemptsSetting)
	case c.MaxPending < 1:
		return fmt.Errorf("%w: MaxPending = %d, want >= 1", ErrInvalidConfig, c.MaxPending)
	case c.MaxReplicas < 1 || c.MaxReplicas > MaxReplicasLimit:
		return fmt.Errorf("%w: MaxReplicas = %d, want 1..%d", ErrInvalidConfig, c.MaxReplicas, MaxReplicasLimit)
	}
	return c.Limits.Validate()
}

// MaxOpTicks is the bound on how many ticks a running operation takes to
// be answered: each attempt spends at most RoundTicks in each phase and at
// most MaxBackoffTicks backing off. An operation queued behind others on
// the same key waits for them first.
func (c Config) MaxOpTicks() int { return c.MaxAttempts * (2*c.RoundTicks + c.MaxBackoffTicks) }
