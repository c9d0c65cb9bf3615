package bench

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// MaxRate bounds a paced run's rate (requests or batches per second): at
// 10M/s the slot interval is 100 ns, below which sleeping cannot pace.
const MaxRate = 10_000_000

// Pacer hands out send slots on a fixed schedule: slot i is due at
// start + i/rate. Clients take slots in turn (Take is safe for concurrent
// use), wait until the slot is due, then send. A client that falls behind
// sends at once, but its latency is measured from the slot's due time, not
// from when it sent: measuring from the send would hide the queueing a
// slow server causes (coordinated omission, as wrk2 corrects it).
//
// The schedule is open-loop: the rate does not slow when the server does,
// so over any window of length w at most rate*w+1 slots fall due. The
// Pacer holds no clock; Wait takes the time source.
type Pacer struct {
	start time.Time
	// perSlot is the exact time between two slots in nanoseconds (a float,
	// so that the schedule does not drift from the rate by truncation).
	perSlot float64
	next    atomic.Int64 // the next slot to hand out
}

// NewPacer returns a pacer of rate slots per second starting at start.
func NewPacer(rate float64, start time.Time) (*Pacer, error) {
	if !(rate > 0) || rate > MaxRate {
		return nil, errors.New("bench: rate must be in (0, 10,000,000] per second")
	}
	return &Pacer{start: start, perSlot: float64(time.Second) / rate}, nil
}

// Due is when slot i falls due (rounded to the nanosecond).
func (p *Pacer) Due(i int64) time.Time {
	return p.start.Add(time.Duration(math.Round(float64(i) * p.perSlot)))
}

// Take hands out the next slot and its due time. Each slot goes to exactly
// one caller.
func (p *Pacer) Take() (slot int64, due time.Time) {
	slot = p.next.Add(1) - 1
	return slot, p.Due(slot)
}

// Interval is the time between two slots, rounded to the nanosecond.
func (p *Pacer) Interval() time.Duration { return time.Duration(math.Round(p.perSlot)) }

// Wait takes a slot and blocks until it is due (or ctx ends) according to
// now. It returns the due time, from which latency is measured.
func (p *Pacer) Wait(ctx context.Context, now func() time.Time) (time.Time, error) {
	_, due := p.Take()
	if d := due.Sub(now()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return due, ctx.Err()
		}
	}
	return due, nil
}
