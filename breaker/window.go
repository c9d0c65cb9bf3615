package breaker

import "time"

// rateWindow counts outcomes over a sliding window of time, kept as a ring
// of fixed-width buckets: a bucket covers [index·width, (index+1)·width)
// measured from epoch, and the window is the buckets whose index is within
// len(buckets)-1 of the current one. Recording is O(1); counting is
// O(len(buckets)) and is done only after a failure.
type rateWindow struct {
	epoch   time.Time // the breaker's creation: bucket 0 starts here
	width   time.Duration
	buckets []rateBucket
}

type rateBucket struct {
	index           int64 // which bucket of time this slot holds
	total, failures int64
}

func newRateWindow(epoch time.Time, window time.Duration, buckets int) rateWindow {
	return rateWindow{epoch: epoch, width: window / time.Duration(buckets), buckets: make([]rateBucket, buckets)}
}

// indexOf returns the bucket index of now. A clock reading before epoch
// falls in bucket 0.
func (w *rateWindow) indexOf(now time.Time) int64 {
	return int64(max(now.Sub(w.epoch), 0) / w.width)
}

// record counts one outcome at now.
func (w *rateWindow) record(now time.Time, failed bool) {
	k := w.indexOf(now)
	b := &w.buckets[k%int64(len(w.buckets))]
	if b.index != k {
		*b = rateBucket{index: k}
	}
	b.total++
	if failed {
		b.failures++
	}
}

// counts returns the outcomes and failures in the window ending at now.
func (w *rateWindow) counts(now time.Time) (total, failures int64) {
	k := w.indexOf(now)
	oldest := k - int64(len(w.buckets)) + 1
	for _, b := range w.buckets {
		if b.index >= oldest && b.index <= k {
			total += b.total
			failures += b.failures
		}
	}
	return total, failures
}

// reset forgets every outcome.
func (w *rateWindow) reset() { clear(w.buckets) }
