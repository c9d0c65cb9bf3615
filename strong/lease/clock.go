package lease

import (
	"sync"
	"time"
)

// Clock is the lessor's source of time. Only the primary half reads it;
// the replicated half never does.
type Clock interface {
	// Now returns the current time. It must not go backwards.
	Now() time.Time
}

// SystemClock is the real clock (monotonic readings of time.Now).
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to, for tests and the
// simulator. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock that reads start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d; a negative d panics, since a Clock
// must not go backwards.
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		panic("lease: ManualClock.Advance with a negative duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	_ Clock = SystemClock{}
	_ Clock = (*ManualClock)(nil)
)
