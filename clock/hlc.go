package clock

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds on an HLC's max offset. A zero never means "no check".
const (
	// DefaultMaxOffset is the max offset a node runs with unless configured
	// otherwise: NTP keeps well-run machines within a few milliseconds, and
	// 500ms (CockroachDB's default) leaves room for a bad day without letting
	// one wild clock drag the cluster's timestamps far from real time.
	DefaultMaxOffset = 500 * time.Millisecond
	// MaxOffsetLimit is the largest max offset accepted. Beyond an hour the
	// check no longer protects anything.
	MaxOffsetLimit = time.Hour
)

// CheckMaxOffset returns an error unless 0 < d <= MaxOffsetLimit. Configs
// call it from their Validate before passing d to NewHLC.
func CheckMaxOffset(d time.Duration) error {
	if d <= 0 || d > MaxOffsetLimit {
		return fmt.Errorf("clock: max offset %v must be in (0, %v]", d, MaxOffsetLimit)
	}
	return nil
}

// ClockOffsetError is returned by HLC.Update when a remote timestamp's wall
// time is more than MaxOffset ahead of the local physical clock. The HLC is
// left unchanged. Either the sender's clock or this node's clock is broken.
type ClockOffsetError struct {
	// Remote is the rejected timestamp.
	Remote Timestamp
	// Local is the local physical clock reading the remote was judged
	// against (Logical is 0).
	Local Timestamp
	// MaxOffset is the bound that Remote exceeded.
	MaxOffset time.Duration
}

// Error describes the offset and the bound.
func (e *ClockOffsetError) Error() string {
	ahead := "more than 292 years"
	if d := uint64(e.Remote.WallTime) - uint64(e.Local.WallTime); d <= math.MaxInt64 {
		ahead = time.Duration(d).String()
	}
	return fmt.Sprintf("clock: remote timestamp %s is %s ahead of the local clock %s, more than the max offset %v",
		e.Remote, ahead, e.Local, e.MaxOffset)
}

// HLC is a hybrid logical clock (Kulkarni et al. 2014). Its timestamps track
// the largest physical time seen, locally or in a received message, and a
// logical counter breaks ties, so that:
//
//   - every timestamp it returns is greater than every one it returned
//     before, even when the physical clock steps backwards;
//   - a timestamp returned by Update is greater than the remote one, so
//     causally related events are ordered across nodes;
//   - WallTime never trails the physical clock, and leads it only by as much
//     as the fastest accepted peer's clock did (bounded by the max offset).
//
// Logical overflow: if Logical would pass math.MaxUint32 (four billion
// events within one nanosecond of wall time, or a remote timestamp near the
// limit), the clock moves WallTime forward by 1ns and resets Logical to 0
// instead. The result still sorts after everything before it; the clock just
// runs 1ns further ahead of physical time.
//
// An HLC is safe for concurrent use. Its state is guarded by one mutex: the
// critical section is a comparison and a store, and the physical clock is
// read outside it.
type HLC struct {
	physical PhysicalClock

	maxOffset atomic.Int64  // nanoseconds, within (0, MaxOffsetLimit]
	rejected  atomic.Uint64 // remote timestamps refused by Update
	maxAhead  atomic.Int64  // largest accepted remote.WallTime - physical, >= 0; written under mu

	mu struct {
		sync.Mutex
		last Timestamp // the latest timestamp returned; never decreases
	}
}

// NewHLC returns an HLC that reads physical time from physical and rejects
// remote timestamps more than maxOffset ahead of it. It panics if physical is
// nil or CheckMaxOffset(maxOffset) fails: validate configuration first.
func NewHLC(physical PhysicalClock, maxOffset time.Duration) *HLC {
	if physical == nil {
		panic("clock: NewHLC with a nil physical clock")
	}
	if err := CheckMaxOffset(maxOffset); err != nil {
		panic(err)
	}
	h := &HLC{physical: physical}
	h.maxOffset.Store(int64(maxOffset))
	return h
}

// Now returns a timestamp for a local or send event: greater than every
// timestamp this clock returned before, and at least the physical time.
func (h *HLC) Now() Timestamp {
	pt := h.physical.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if pt > h.mu.last.WallTime {
		h.mu.last = Timestamp{WallTime: pt}
	} else {
		h.mu.last = tick(h.mu.last.WallTime, h.mu.last.Logical)
	}
	return h.mu.last
}

// Update applies the receive rule for a message stamped remote and returns
// the timestamp of the receive event, greater than both remote and every
// timestamp this clock returned before.
//
// If remote.WallTime is more than MaxOffset ahead of the physical clock,
// Update returns a *ClockOffsetError, counts the rejection and leaves the
// clock unchanged: the message must not be processed.
func (h *HLC) Update(remote Timestamp) (Timestamp, error) {
	pt := h.physical.Now()
	maxOffset := h.maxOffset.Load()
	var ahead int64 // how far remote leads the physical clock, if it does
	if remote.WallTime > pt {
		// The difference of two int64s, as uint64, is exact when positive.
		d := uint64(remote.WallTime) - uint64(pt)
		if d > uint64(maxOffset) {
			h.rejected.Add(1)
			return Timestamp{}, &ClockOffsetError{
				Remote:    remote,
				Local:     Timestamp{WallTime: pt},
				MaxOffset: time.Duration(maxOffset),
			}
		}
		ahead = int64(d)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if ahead > h.maxAhead.Load() {
		h.maxAhead.Store(ahead)
	}
	last := h.mu.last
	wall := max(last.WallTime, remote.WallTime, pt)
	switch {
	case wall == last.WallTime && wall == remote.WallTime:
		h.mu.last = tick(wall, max(last.Logical, remote.Logical))
	case wall == last.WallTime:
		h.mu.last = tick(wall, last.Logical)
	case wall == remote.WallTime:
		h.mu.last = tick(wall, remote.Logical)
	default: // the physical clock leads both
		h.mu.last = Timestamp{WallTime: wall}
	}
	return h.mu.last, nil
}

// Last returns the latest timestamp Now or Update returned (the zero
// Timestamp before the first), without advancing the clock.
func (h *HLC) Last() Timestamp {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.last
}

// MaxOffset returns the current max offset.
func (h *HLC) MaxOffset() time.Duration { return time.Duration(h.maxOffset.Load()) }

// SetMaxOffset changes the max offset for later Update calls. It returns the
// CheckMaxOffset error, and changes nothing, if d is out of range.
func (h *HLC) SetMaxOffset(d time.Duration) error {
	if err := CheckMaxOffset(d); err != nil {
		return err
	}
	h.maxOffset.Store(int64(d))
	return nil
}

// Rejected returns how many remote timestamps Update has refused with a
// ClockOffsetError.
func (h *HLC) Rejected() uint64 { return h.rejected.Load() }

// MaxForwardJump returns the largest amount by which an accepted remote
// timestamp's wall time was ahead of the local physical clock: how far a peer
// has pulled this clock forward of its own time. A value that approaches
// MaxOffset warns that rejections, and a broken clock somewhere, are near.
func (h *HLC) MaxForwardJump() time.Duration { return time.Duration(h.maxAhead.Load()) }

// tick returns the smallest timestamp after (wall, logical): the next
// logical value, or, when Logical would overflow, wall+1ns with Logical 0.
func tick(wall int64, logical uint32) Timestamp {
	if logical < math.MaxUint32 {
		return Timestamp{WallTime: wall, Logical: logical + 1}
	}
	if wall == math.MaxInt64 {
		// Year 2262, or a physical clock that returns nonsense: there is no
		// later timestamp, and wrapping would break every ordering.
		panic("clock: hybrid logical clock exhausted at the largest wall time")
	}
	return Timestamp{WallTime: wall + 1}
}
