package resp

import (
	"sync"
	"time"
)

// logLimiter lets a repeating event be logged at most once per interval,
// and counts the occurrences it held back so that the next log can say
// how many there were: a client flood of bad requests must not become a
// flood of logs. Safe for concurrent use.
type logLimiter struct {
	interval time.Duration
	mu       struct {
		sync.Mutex
		last       time.Time
		suppressed int
	}
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval}
}

// allow reports whether an event at now may be logged and, if so, how many
// were held back since the last one logged.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
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
