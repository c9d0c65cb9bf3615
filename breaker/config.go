package breaker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Config configures a Breaker.
type Config struct {
	// ConsecutiveFailures is the number of failures in a row, while
	// closed, that opens the breaker.
	ConsecutiveFailures int
	// FailureRate opens the breaker when, over the last RateWindow, at
	// least MinCalls outcomes were counted and this fraction of them were
	// failures. In (0, 1].
	FailureRate float64
	// RateWindow is the sliding window of the failure rate, kept as
	// RateBuckets buckets of RateWindow/RateBuckets each: an outcome
	// leaves the window between RateWindow·(1 - 1/RateBuckets) and
	// RateWindow after it was recorded.
	RateWindow  time.Duration
	RateBuckets int
	// MinCalls is the number of outcomes the window must hold before
	// the failure rate can open the breaker.
	MinCalls int
	// OpenDuration is how long the breaker stays open after tripping from
	// Closed. Each failed half-open test multiplies it by OpenBackoff (1
	// disables backoff), up to MaxOpenDuration; closing resets it.
	OpenDuration    time.Duration
	OpenBackoff     float64
	MaxOpenDuration time.Duration
	// MaxProbes is the number of half-open probes allowed in flight at
	// once, across generations: a probe holds its slot until it is
	// reported or times out.
	MaxProbes int
	// ProbeSuccesses is the number of successful probes that close the
	// breaker. Any failed probe opens it again.
	ProbeSuccesses int
	// ProbeTimeout is how long a probe may go unreported before it counts
	// as a failure and frees its slot: a hung call is the dependency's
	// fault, and a permit that is never reported must not hold a slot
	// forever.
	ProbeTimeout time.Duration
	// Classify maps a call's error to its outcome. It is called outside
	// the breaker's lock and must be safe for concurrent use.
	Classify func(err error) Outcome
	// Now is the breaker's clock. It must be safe for concurrent use and
	// should be monotonic (time.Now is).
	Now func() time.Time
	// OnStateChange, if not nil, is called after every transition (see
	// Breaker for when and how).
	OnStateChange func(Transition)
}

// Limits checked by Validate.
const (
	maxCount       = 1 << 20 // ConsecutiveFailures, MinCalls
	maxBuckets     = 1000
	maxProbesLimit = 1024
	minDuration    = time.Millisecond
	maxDuration    = 24 * time.Hour
	maxBackoff     = 100
)

// DefaultConfig returns the defaults for calls from one node to one peer:
//   - ConsecutiveFailures 5: a dead peer fails every call, and five in a
//     row are past coincidence;
//   - FailureRate 0.5 over RateWindow 10 s (10 buckets of 1 s) once
//     MinCalls 20 have been seen: a peer failing half its calls is sick
//     even if successes interleave, and 20 calls keep a handful of
//     failures on a quiet link from tripping it;
//   - OpenDuration 5 s, doubling (OpenBackoff 2) up to MaxOpenDuration
//     1 min: a peer that keeps failing its tests is tested less often;
//   - MaxProbes 1, ProbeSuccesses 3: one call at a time tests a
//     recovering peer, and three successes in a row close the breaker;
//   - ProbeTimeout 10 s: longer than any inter-node call deadline;
//   - Classify DefaultClassify, Now time.Now, no OnStateChange.
func DefaultConfig() Config {
	return Config{
		ConsecutiveFailures: 5,
		FailureRate:         0.5,
		RateWindow:          10 * time.Second,
		RateBuckets:         10,
		MinCalls:            20,
		OpenDuration:        5 * time.Second,
		OpenBackoff:         2,
		MaxOpenDuration:     time.Minute,
		MaxProbes:           1,
		ProbeSuccesses:      3,
		ProbeTimeout:        10 * time.Second,
		Classify:            DefaultClassify,
		Now:                 time.Now,
	}
}

// DefaultClassify counts nil as Success, context.Canceled (the caller gave
// up) as Ignored, and every other error, context.DeadlineExceeded included,
// as Failure. Callers whose errors include the caller's own mistakes (an
// invalid argument, a key not found) should classify those as Success.
func DefaultClassify(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, context.Canceled):
		return Ignored
	}
	return Failure
}

// Validate reports the first field out of range, or rule between fields
// broken.
func (c Config) Validate() error {
	switch {
	case c.ConsecutiveFailures < 1 || c.ConsecutiveFailures > maxCount:
		return fmt.Errorf("breaker: ConsecutiveFailures %d out of range [1, %d]", c.ConsecutiveFailures, maxCount)
	case math.IsNaN(c.FailureRate) || c.FailureRate <= 0 || c.FailureRate > 1:
		return fmt.Errorf("breaker: FailureRate %v out of range (0, 1]", c.FailureRate)
	case c.RateBuckets < 1 || c.RateBuckets > maxBuckets:
		return fmt.Errorf("breaker: RateBuckets %d out of range [1, %d]", c.RateBuckets, maxBuckets)
	case c.RateWindow > maxDuration || c.RateWindow/time.Duration(c.RateBuckets) < minDuration:
		return fmt.Errorf("breaker: RateWindow %v out of range: at most %v, and at least %v per bucket", c.RateWindow, maxDuration, minDuration)
	case c.MinCalls < 1 || c.MinCalls > maxCount:
		return fmt.Errorf("breaker: MinCalls %d out of range [1, %d]", c.MinCalls, maxCount)
	case c.MaxOpenDuration < minDuration || c.MaxOpenDuration > maxDuration:
		return fmt.Errorf("breaker: MaxOpenDuration %v out of range [%v, %v]", c.MaxOpenDuration, minDuration, maxDuration)
	case c.OpenDuration < minDuration || c.OpenDuration > c.MaxOpenDuration:
		return fmt.Errorf("breaker: OpenDuration %v out of range [%v, MaxOpenDuration %v]", c.OpenDuration, minDuration, c.MaxOpenDuration)
	case math.IsNaN(c.OpenBackoff) || c.OpenBackoff < 1 || c.OpenBackoff > maxBackoff:
		return fmt.Errorf("breaker: OpenBackoff %v out of range [1, %d]", c.OpenBackoff, maxBackoff)
	case c.MaxProbes < 1 || c.MaxProbes > maxProbesLimit:
		return fmt.Errorf("breaker: MaxProbes %d out of range [1, %d]", c.MaxProbes, maxProbesLimit)
	case c.ProbeSuccesses < 1 || c.ProbeSuccesses > maxCount:
		return fmt.Errorf("breaker: ProbeSuccesses %d out of range [1, %d]", c.ProbeSuccesses, maxCount)
	case c.ProbeTimeout < minDuration || c.ProbeTimeout > maxDuration:
		return fmt.Errorf("breaker: ProbeTimeout %v out of range [%v, %v]", c.ProbeTimeout, minDuration, maxDuration)
	case c.Classify == nil:
		return errors.New("breaker: Classify is nil (use DefaultClassify)")
	case c.Now == nil:
		return errors.New("breaker: Now is nil (use time.Now)")
	}
	return nil
}

// openDuration returns how long the breaker stays open after its level-th
// consecutive failed test (level 0: the trip from Closed).
func (c Config) openDuration(level int) time.Duration {
	d := float64(c.OpenDuration) * math.Pow(c.OpenBackoff, float64(level))
	if d >= float64(c.MaxOpenDuration) { // also catches +Inf
		return c.MaxOpenDuration
	}
	return time.Duration(d)
}
