package detector

import (
	"fmt"
	"sync"
	"time"
)

// FixedTimeoutConfig configures a FixedTimeout detector.
type FixedTimeoutConfig struct {
	// Timeout is how long a node may stay silent before it is suspected.
	Timeout time.Duration
	// MaxNodes bounds the number of tracked nodes (memory is about 100
	// bytes per node, map overhead included).
	MaxNodes int
}

// Bounds checked by FixedTimeoutConfig.Validate.
const (
	minTimeout = time.Millisecond
	maxTimeout = time.Hour
	// maxNodesLimit bounds MaxNodes for both detectors: far beyond any
	// cluster cairn targets, small enough that a typo is caught.
	maxNodesLimit = 1 << 20
)

// DefaultFixedTimeoutConfig returns the defaults for 1 s heartbeats:
//   - Timeout 5 s: five heartbeat intervals, which rides out one or two
//     lost heartbeats and a stop-the-world pause of a few seconds;
//   - MaxNodes 4096: more than any cairn cluster, bounded all the same.
func DefaultFixedTimeoutConfig() FixedTimeoutConfig {
	return FixedTimeoutConfig{Timeout: 5 * time.Second, MaxNodes: 4096}
}

// Validate reports the first field that is out of range.
func (c FixedTimeoutConfig) Validate() error {
	if c.Timeout < minTimeout || c.Timeout > maxTimeout {
		return fmt.Errorf("detector: Timeout %v out of range [%v, %v]", c.Timeout, minTimeout, maxTimeout)
	}
	return validateMaxNodes(c.MaxNodes)
}

func validateMaxNodes(n int) error {
	if n < 1 || n > maxNodesLimit {
		return fmt.Errorf("detector: MaxNodes %d out of range [1, %d]", n, maxNodesLimit)
	}
	return nil
}

// FixedTimeout is the classic heartbeat failure detector: a node is
// suspected once it has been silent for longer than a fixed timeout.
// Its Suspicion is elapsed/Timeout, so its threshold is 1.
//
// It is safe for concurrent use.
type FixedTimeout[K comparable] struct {
	cfg FixedTimeoutConfig
	mu  struct {
		sync.RWMutex
		last map[K]time.Time // arrival of each node's latest heartbeat
	}
}

// NewFixedTimeout returns a FixedTimeout detector, or the error of
// cfg.Validate.
func NewFixedTimeout[K comparable](cfg FixedTimeoutConfig) (*FixedTimeout[K], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &FixedTimeout[K]{cfg: cfg}
	d.mu.last = make(map[K]time.Time)
	return d, nil
}

// Heartbeat implements Detector.
func (d *FixedTimeout[K]) Heartbeat(node K, at time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	last, ok := d.mu.last[node]
	if !ok && len(d.mu.last) >= d.cfg.MaxNodes {
		return errTooManyNodes(d.cfg.MaxNodes)
	}
	if ok && !at.After(last) {
		return nil
	}
	d.mu.last[node] = at
	return nil
}

// Suspicion implements Detector: the time since the last heartbeat divided
// by Timeout (0 for an unknown node, and for now before the last heartbeat).
func (d *FixedTimeout[K]) Suspicion(node K, now time.Time) float64 {
	d.mu.RLock()
	last, ok := d.mu.last[node]
	d.mu.RUnlock()
	if !ok {
		return 0
	}
	elapsed := now.Sub(last)
	if elapsed <= 0 {
		return 0
	}
	return float64(elapsed) / float64(d.cfg.Timeout)
}

// Available implements Detector: the node has been silent for less than
// Timeout.
func (d *FixedTimeout[K]) Available(node K, now time.Time) bool {
	return d.Suspicion(node, now) < 1
}

// Remove implements Detector.
func (d *FixedTimeout[K]) Remove(node K) {
	d.mu.Lock()
	delete(d.mu.last, node)
	d.mu.Unlock()
}

func errTooManyNodes(limit int) error {
	return fmt.Errorf("%w (MaxNodes %d)", ErrTooManyNodes, limit)
}
