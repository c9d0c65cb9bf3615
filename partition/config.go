package partition

import (
	"errors"
	"fmt"
	"math"
)

// Config sets the bounds of a Table and how it measures load.
type Config struct {
	// MaxRanges bounds the number of ranges; Split returns
	// ErrTooManyRanges at it. Each split copies the table's index (about
	// 32 bytes a range), so the bound also caps the cost of a split. It
	// must be in [1, MaxRangesLimit].
	MaxRanges int
	// MaxKeySize bounds the length of a split key in bytes. Longer keys
	// are never sampled as split candidates, and Split rejects them with
	// ErrKeyTooLarge. It must be in [1, MaxKeySizeLimit].
	MaxKeySize int
	// SampleSize is the number of candidate split keys a hot range keeps
	// (its reservoir). More candidates find a better split point; each
	// recorded operation on a hot range compares its key with every
	// candidate. It must be in [1, MaxSampleSize].
	SampleSize int
	// MaxSampledRanges bounds the number of hot ranges that sample split
	// keys at once (the hottest win), and so the samplers' memory: at most
	// MaxSampledRanges*SampleSize keys of MaxKeySize bytes. It must be in
	// [1, MaxSampledRangesLimit].
	MaxSampledRanges int
	// HalfLifeTicks is how fast load is forgotten: the recent rates are
	// exponentially weighted moving averages that halve every
	// HalfLifeTicks ticks without traffic. It must be in [1,
	// MaxHalfLifeTicks].
	HalfLifeTicks int
	// HotOpsPerTick is the recent rate of operations (reads plus writes
	// per tick) at which a range counts as hot: it starts sampling split
	// keys and SuggestSplits considers it. A range stops sampling when its
	// rate falls below half of it. It must be positive and finite.
	HotOpsPerTick float64
	// SplitBalance is the least share of a hot range's recent operations
	// that each side of a suggested split must carry, in (0, 0.5]. A range
	// whose load sits on one key cannot be split usefully; this keeps
	// SuggestSplits from proposing splits that move nothing.
	SplitBalance float64
	// Seed seeds the reservoir sampling; any value is valid. With the same
	// seed and the same sequence of calls, a Table makes the same choices.
	Seed uint64
}

// Defaults and limits of the Config fields.
const (
	// DefaultMaxRanges keeps a split's copy of the index near 3 MiB.
	DefaultMaxRanges = 100_000
	// DefaultMaxKeySize is 4 KiB: split keys come from user keys, and a
	// longer one would be a poor range boundary anyway.
	DefaultMaxKeySize = 4 << 10
	// DefaultSampleSize is 64 candidates. The best candidate is as good as
	// the one nearest the load's median: with k candidates, the chance
	// that none lies within ten percentage points of it is about 0.8^k
	// (CockroachDB's 20 miss it about once in 90 suggestions; 64 about
	// once in 10^5, even if only three quarters of them have counted long
	// enough to be chosen), at the price of one key comparison per candidate on every
	// operation of a hot range.
	DefaultSampleSize = 64
	// DefaultMaxSampledRanges is 64 ranges: at most 16 MiB of samples
	// with the other defaults (and far less with ordinary key sizes).
	DefaultMaxSampledRanges = 64
	// DefaultHalfLifeTicks is 10 ticks: with the node ticking once a
	// second, a load spike is half forgotten after 10 s.
	DefaultHalfLifeTicks = 10
	// DefaultHotOpsPerTick is 2500 operations a tick, CockroachDB's
	// default load-based split threshold in queries per second.
	DefaultHotOpsPerTick = 2500
	// DefaultSplitBalance asks each side of a split for at least a quarter
	// of the load.
	DefaultSplitBalance = 0.25

	// MaxRangesLimit is the largest allowed Config.MaxRanges.
	MaxRangesLimit = 1 << 22
	// MaxKeySizeLimit is the largest allowed Config.MaxKeySize.
	MaxKeySizeLimit = 64 << 10
	// MaxSampleSize is the largest allowed Config.SampleSize.
	MaxSampleSize = 1024
	// MaxSampledRangesLimit is the largest allowed Config.MaxSampledRanges.
	MaxSampledRangesLimit = 1 << 12
	// MaxHalfLifeTicks is the largest allowed Config.HalfLifeTicks.
	MaxHalfLifeTicks = 1 << 20
)

// DefaultConfig returns the recommended configuration (see the Default
// constants) with Seed 0.
func DefaultConfig() Config {
	return Config{
		MaxRanges:        DefaultMaxRanges,
		MaxKeySize:       DefaultMaxKeySize,
		SampleSize:       DefaultSampleSize,
		MaxSampledRanges: DefaultMaxSampledRanges,
		HalfLifeTicks:    DefaultHalfLifeTicks,
		HotOpsPerTick:    DefaultHotOpsPerTick,
		SplitBalance:     DefaultSplitBalance,
	}
}

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("partition: invalid config")

// Validate reports whether c is usable. A zero field is an error, never
// "unlimited".
func (c Config) Validate() error {
	switch {
	case c.MaxRanges < 1 || c.MaxRanges > MaxRangesLimit:
		return fmt.Errorf("%w: MaxRanges = %d, want 1..%d", ErrInvalidConfig, c.MaxRanges, MaxRangesLimit)
	case c.MaxKeySize < 1 || c.MaxKeySize > MaxKeySizeLimit:
		return fmt.Errorf("%w: MaxKeySize = %d, want 1..%d", ErrInvalidConfig, c.MaxKeySize, MaxKeySizeLimit)
	case c.SampleSize < 1 || c.SampleSize > MaxSampleSize:
		return fmt.Errorf("%w: SampleSize = %d, want 1..%d", ErrInvalidConfig, c.SampleSize, MaxSampleSize)
	case c.MaxSampledRanges < 1 || c.MaxSampledRanges > MaxSampledRangesLimit:
		return fmt.Errorf("%w: MaxSampledRanges = %d, want 1..%d", ErrInvalidConfig, c.MaxSampledRanges, MaxSampledRangesLimit)
	case c.HalfLifeTicks < 1 || c.HalfLifeTicks > MaxHalfLifeTicks:
		return fmt.Errorf("%w: HalfLifeTicks = %d, want 1..%d", ErrInvalidConfig, c.HalfLifeTicks, MaxHalfLifeTicks)
	case !(c.HotOpsPerTick > 0) || math.IsInf(c.HotOpsPerTick, 1):
		return fmt.Errorf("%w: HotOpsPerTick = %v, want a positive finite rate", ErrInvalidConfig, c.HotOpsPerTick)
	case !(c.SplitBalance > 0 && c.SplitBalance <= 0.5):
		return fmt.Errorf("%w: SplitBalance = %v, want (0, 0.5]", ErrInvalidConfig, c.SplitBalance)
	}
	return nil
}

// decay is the factor by which the moving averages keep their old value
// each tick: 2^(-1/HalfLifeTicks).
func (c Config) decay() float64 { return math.Exp2(-1 / float64(c.HalfLifeTicks)) }
