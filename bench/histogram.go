package bench

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Histogram layout (log-linear, as HdrHistogram): values are nanoseconds.
// Values below 2*subBuckets land in buckets of width 1 (exact). Above, each
// power of two [2^k, 2^(k+1)) is cut into subBuckets equal buckets, so a
// bucket is at most 1/subBuckets of its lower bound wide. The value
// reported for a bucket is its midpoint, which is within half a bucket
// width of every value in it: the relative error of any reported quantile
// is at most 1/(2*subBuckets) = 1/256 (0.39%).
const (
	// subBits is log2 of the buckets per power of two.
	subBits = 7
	// subBuckets is the number of buckets per power of two.
	subBuckets = 1 << subBits
	// HistogramMaxValue is the largest value tracked with bounded error,
	// 2^40 ns (about 18 minutes). Larger values are counted in the top
	// bucket; Max still reports them exactly.
	HistogramMaxValue = time.Duration(1) << 40
	// HistogramRelativeError bounds |reported - exact| / exact for any
	// quantile of values in [1ns, HistogramMaxValue].
	HistogramRelativeError = 1.0 / (2 * subBuckets)
)

// histogramBuckets is the number of buckets up to HistogramMaxValue.
var histogramBuckets = bucketIndex(int64(HistogramMaxValue)-1) + 1

// Histogram records latencies with bounded relative error (see
// HistogramRelativeError) in at most histogramBuckets counters (about 36
// KiB when full; the slice grows only as far as the largest value seen, so
// a histogram of millisecond latencies holds about 14 KiB). It is not safe
// for concurrent use: give each client its own and Merge them at the end.
// The zero value is an empty histogram ready to use.
type Histogram struct {
	counts []uint64
	// total is the sum of counts; min and max are exact (not bucketed).
	total    uint64
	min, max int64
	// sum is the exact sum of the values, for the mean; it saturates at
	// math.MaxInt64 instead of wrapping.
	sum int64
}

// bucketIndex maps v >= 0 to its bucket. Buckets are contiguous: index v
// for v < 2*subBuckets, then subBuckets per power of two.
func bucketIndex(v int64) int {
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	if shift < 0 {
		shift = 0
	}
	return shift*subBuckets + int(v>>uint(shift))
}

// bucketBounds returns the lowest value of bucket i and its width.
func bucketBounds(i int) (low, width int64) {
	if i < 2*subBuckets {
		return int64(i), 1
	}
	shift := i/subBuckets - 1
	mantissa := int64(i - shift*subBuckets)
	return mantissa << uint(shift), int64(1) << uint(shift)
}

// Record adds one value. Negative values count as 0.
func (h *Histogram) Record(d time.Duration) { h.RecordN(d, 1) }

// RecordN adds n copies of one value (a pipeline of n requests that took d
// together counts as n requests of latency d, as redis-benchmark does).
func (h *Histogram) RecordN(d time.Duration, n uint64) {
	if n == 0 {
		return
	}
	v := max(int64(d), 0)
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	i := bucketIndex(min(v, int64(HistogramMaxValue)-1))
	if i >= len(h.counts) {
		h.grow(i + 1)
	}
	h.counts[i] += n
	h.total += n
	h.sum = addSat(h.sum, mulSat(v, n))
}

// grow extends counts to at least n buckets, doubling to amortize.
func (h *Histogram) grow(n int) {
	c := max(n, 2*len(h.counts), 2*subBuckets)
	c = min(c, histogramBuckets)
	next := make([]uint64, c)
	copy(next, h.counts)
	h.counts = next
}

// Merge adds every value of o to h. Merging is exact: the merged histogram
// equals one that recorded both streams.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	if len(o.counts) > len(h.counts) {
		h.grow(len(o.counts))
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum = addSat(h.sum, o.sum)
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest value recorded (exact), 0 when empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max is the largest value recorded (exact), 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the exact mean, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(min(h.total, math.MaxInt64)))
}

// Quantile returns the value at quantile q in [0, 1]: the smallest
// recorded value v such that at least ceil(q*Count) values are <= v, within
// HistogramRelativeError. Quantile(0) is Min and Quantile(1) is Max
// (exact); the result is always within [Min, Max]. 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q <= 0 {
		return h.Min()
	}
	if q >= 1 {
		return h.Max()
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketBounds(i)
			mid := low + (width-1)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return h.Max() // unreachable: the counts add up to total
}

// Summary is the fixed set of quantiles a result reports.
func (h *Histogram) Summary() LatencySummary {
	return LatencySummary{
		Count: h.total,
		Min:   ms(h.Min()), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)),
		Max: ms(h.Max()),
	}
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.counts = append([]uint64(nil), h.counts...)
	return &c
}

// String is a one-line summary for logs.
func (h *Histogram) String() string {
	s := h.Summary()
	return fmt.Sprintf("n=%d p50=%.3fms p99=%.3fms max=%.3fms", s.Count, s.P50, s.P99, s.Max)
}

// ms converts a duration to float milliseconds, the unit of the JSON.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(v int64, n uint64) int64 {
	if v == 0 {
		return 0
	}
	if n > uint64(math.MaxInt64/v) {
		return math.MaxInt64
	}
	return v * int64(n)
}

// Equal reports whether h and o hold the same values (same buckets, count,
// exact min, max and sum), whatever their internal capacity.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.total != o.total || h.min != o.min || h.max != o.max || h.sum != o.sum {
		return false
	}
	for i := range max(len(h.counts), len(o.counts)) {
		var a, b uint64
		if i < len(h.counts) {
			a = h.counts[i]
		}
		if i < len(o.counts) {
			b = o.counts[i]
		}
		if a != b {
			return false
		}
	}
	return true
}
