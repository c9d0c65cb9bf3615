package gossipnet

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog lets each kind of repeating error through at most once per
// interval, with the count of those held back: a dead member or a broken
// disk would otherwise log at every tick.
type rateLog struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[string]rateEntry
}

type rateEntry struct {
	at         time.Time
	suppressed int
}

// maxRateKeys bounds the keys; the keys are a fixed set of call sites
// (and push-pull results), so the bound is never reached in practice.
const maxRateKeys = 64

func newRateLog(interval time.Duration) *rateLog {
	return &rateLog{interval: interval, last: map[string]rateEntry{}}
}

func (r *rateLog) log(l *slog.Logger, key, msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	e, ok := r.last[key]
	if ok && now.Sub(e.at) < r.interval {
		e.suppressed++
		r.last[key] = e
		r.mu.Unlock()
		return
	}
	if !ok && len(r.last) >= maxRateKeys {
		clear(r.last)
	}
	r.last[key] = rateEntry{at: now}
	r.mu.Unlock()
	l.Warn(msg, append(args, "suppressed", e.suppressed)...)
}
