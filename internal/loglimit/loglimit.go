package loglimit

import (
	"sync"
	"time"
)

// Limiter lets one repeating event be logged at most once per interval.
// It is safe for concurrent use.
type Limiter struct {
	interval time.Duration
	mu       struct {
		sync.Mutex
		last       time.Time
		suppressed int
	}
}

// New returns a Limiter for events at most once per interval.
func New(interval time.Duration) *Limiter {
	return &Limiter{interval: interval}
}

// Allow reports whether an event at now may be logged and, if so, how many
// were held back since the last one logged.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.last.IsZero() && now.Sub(l.mu.last) < l.interval {
		l.mu.suppressed++
		return false, 0
	}
	suppressed = l.mu.suppressed
	l.mu.last = now
	l.mu.suppressed = 0
	return true, suppressed
}

// Reset lets the next event be logged at once (after the condition it
// reports has cleared, so that its return is news).
func (l *Limiter) Reset() {
	l.mu.Lock()
	l.mu.last = time.Time{}
	l.mu.suppressed = 0
	l.mu.Unlock()
}
