package detector

import (
	"fmt"
	"math"
	"time"
)

// PhiAccrualConfig configures a PhiAccrual detector. Durations are
// measured between heartbeat arrivals at the detecting node.
type PhiAccrualConfig struct {
	// Threshold is the phi at and above which a node is suspected. Under
	// the detector's normal model, phi = 8 means the chance that the node
	// is in fact alive and merely late is 10^-8.
	Threshold float64
	// WindowSize is the number of recent inter-arrival intervals kept per
	// node to estimate their mean and standard deviation.
	WindowSize int
	// MinStdDev is the floor of the estimated standard deviation: a very
	// regular link would otherwise make phi leap past the threshold after
	// a few milliseconds of delay.
	MinStdDev time.Duration
	// AcceptablePause is added to the estimated mean: a silence this much
	// longer than usual (a stop-the-world pause, a lost heartbeat) raises
	// phi only a little. Zero means no allowance.
	AcceptablePause time.Duration
	// FirstHeartbeatEstimate bootstraps a new node's history: the first
	// heartbeat seeds the window with two intervals of mean
	// FirstHeartbeatEstimate and standard deviation FirstHeartbeatEstimate/4
	// (as Akka does). Set it to the heartbeat interval.
	FirstHeartbeatEstimate time.Duration
	// MaxInterval is the longest interval learned: a longer silence
	// (the node was down, or partitioned away) is not added to the window,
	// so that one outage does not blind the detector for a whole window.
	// It also bounds the window's integer sums.
	MaxInterval time.Duration
	// MaxNodes bounds the number of tracked nodes. A node costs about
	// 8·WindowSize + 150 bytes once its window is full (8 KB with the
	// default window).
	MaxNodes int
}

// Bounds checked by PhiAccrualConfig.Validate. maxWindowSize and
// maxIntervalLimit together keep intervalWindow's sums from overflowing:
// 1e5 · 3.6e12 ns < 2^63 and (1e5 · 3.6e12)² < 2^128.
const (
	maxWindowSize    = 100_000
	maxIntervalLimit = time.Hour
	minStdDevLimit   = time.Millisecond
)

// DefaultPhiAccrualConfig returns defaults for 1 s heartbeats on a LAN:
//   - Threshold 8, as Akka and Cassandra use: a false suspicion per node
//     is rare enough to act on;
//   - WindowSize 1000, as Akka and Cassandra use: about 17 minutes of
//     history at 1 s, long enough to remember rare pauses and short enough
//     to follow a change of load within the quarter hour;
//   - MinStdDev 100 ms, as Akka uses: a LAN's measured deviation is often
//     a few milliseconds, which would turn scheduler noise or one
//     retransmission into a suspicion; 100 ms keeps phi below 1 for any
//     delay under about 100 ms;
//   - AcceptablePause 1 s: one lost heartbeat, or a one-second stall of
//     the sender or of a virtual machine, raises no suspicion (Akka uses
//     3 s for JVM clusters, whose collector pauses are longer than Go's);
//   - FirstHeartbeatEstimate 1 s: the gossip heartbeat interval;
//   - MaxInterval 1 min: a silence that long is an outage, not a delay;
//   - MaxNodes 4096: more than any cairn cluster, at most 32 MB of windows.
func DefaultPhiAccrualConfig() PhiAccrualConfig {
	return PhiAccrualConfig{
		Threshold:              8,
		WindowSize:             1000,
		MinStdDev:              100 * time.Millisecond,
		AcceptablePause:        time.Second,
		FirstHeartbeatEstimate: time.Second,
		MaxInterval:            time.Minute,
		MaxNodes:               4096,
	}
}

// Validate reports the first field that is out of range, or the first rule
// between fields that is broken.
func (c PhiAccrualConfig) Validate() error {
	switch {
	case math.IsNaN(c.Threshold) || c.Threshold <= 0 || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("detector: Threshold %v must be positive and finite", c.Threshold)
	case c.WindowSize < 2 || c.WindowSize > maxWindowSize:
		return fmt.Errorf("detector: WindowSize %d out of range [2, %d]", c.WindowSize, maxWindowSize)
	case c.MaxInterval < time.Millisecond || c.MaxInterval > maxIntervalLimit:
		return fmt.Errorf("detector: MaxInterval %v out of range [1ms, %v]", c.MaxInterval, maxIntervalLimit)
	case c.MinStdDev < minStdDevLimit || c.MinStdDev > c.MaxInterval:
		return fmt.Errorf("detector: MinStdDev %v out of range [%v, MaxInterval %v]", c.MinStdDev, minStdDevLimit, c.MaxInterval)
	case c.AcceptablePause < 0 || c.AcceptablePause > maxIntervalLimit:
		return fmt.Errorf("detector: AcceptablePause %v out of range [0, %v]", c.AcceptablePause, maxIntervalLimit)
	case c.FirstHeartbeatEstimate < time.Millisecond || c.FirstHeartbeatEstimate+c.FirstHeartbeatEstimate/4 > c.MaxInterval:
		// The bootstrap intervals are estimate ± estimate/4: both must be
		// learnable.
		return fmt.Errorf("detector: FirstHeartbeatEstimate %v out of range [1ms, MaxInterval·4/5]", c.FirstHeartbeatEstimate)
	}
	return validateMaxNodes(c.MaxNodes)
}
