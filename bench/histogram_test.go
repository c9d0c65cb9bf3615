package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// distributions of latencies to test the histogram against, in ns.
var distributions = map[string]func(r *rand.Rand) int64{
	// Sub-microsecond values land in the exact (width 1) buckets.
	"uniform-small": func(r *rand.Rand) int64 { return r.Int64N(1000) },
	// A typical request: log-normal around 1 ms with a heavy tail.
	"lognormal-1ms": func(r *rand.Rand) int64 { return int64(math.Exp(r.NormFloat64()*1.2) * 1e6) },
	"exponential":   func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 5e5) },
	// Every value at a bucket edge stresses the bucket arithmetic.
	"powers-of-two": func(r *rand.Rand) int64 { return 1 << r.IntN(40) },
	"constant":      func(*rand.Rand) int64 { return 1234567 },
	// Spread over the whole tracked range.
	"log-uniform": func(r *rand.Rand) int64 { return int64(math.Exp(r.Float64() * math.Log(float64(HistogramMaxValue)))) },
}

// exactQuantile is the definition Quantile approximates: the smallest
// value with at least ceil(q*n) values at or below it.
func exactQuantile(sorted []int64, q float64) int64 {
	if q <= 0 {
		return sorted[0]
	}
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[min(rank, len(sorted))-1]
}

var quantiles = []float64{0, 0.0001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1}

func TestHistogramQuantilesWithinErrorBound(t *testing.T) {
	for name, gen := range distributions {
		for seed := uint64(1); seed <= 5; seed++ {
			r := rand.New(rand.NewPCG(seed, 7))
			n := 1 + r.IntN(50_000)
			var h Histogram
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = gen(r)
				h.Record(time.Duration(vals[i]))
			}
			slices.Sort(vals)
			for _, q := range quantiles {
				got, want := int64(h.Quantile(q)), exactQuantile(vals, q)
				if err := math.Abs(float64(got - want)); err > float64(want)*HistogramRelativeError {
					t.Fatalf("%s seed %d n %d: q%v = %d, exact %d: relative error %.5f > %.5f",
						name, seed, n, q, got, want, err/float64(want), HistogramRelativeError)
				}
			}
			if h.Count() != uint64(n) || int64(h.Min()) != vals[0] || int64(h.Max()) != vals[n-1] {
				t.Fatalf("%s seed %d: count %d min %d max %d, want %d %d %d", name, seed, h.Count(), h.Min(), h.Max(), n, vals[0], vals[n-1])
			}
			var sum int64
			for _, v := range vals {
				sum += v
			}
			if int64(h.Mean()) != sum/int64(n) {
				t.Fatalf("%s seed %d: mean %d, want %d", name, seed, h.Mean(), sum/int64(n))
			}
		}
	}
}

func TestHistogramBucketsTileTheRange(t *testing.T) {
	next := int64(0)
	for i := range histogramBuckets {
		low, width := bucketBounds(i)
		if low != next {
			t.Fatalf("bucket %d starts at %d, want %d (gap or overlap)", i, low, next)
		}
		if bucketIndex(low) != i || bucketIndex(low+width-1) != i {
			t.Fatalf("bucket %d [%d, %d] maps back to %d and %d", i, low, low+width-1, bucketIndex(low), bucketIndex(low+width-1))
		}
		if low > 0 && float64(width-1)/2 > float64(low)*HistogramRelativeError {
			t.Fatalf("bucket %d [%d +%d] is too wide for the error bound", i, low, width)
		}
		next = low + width
	}
	if next != int64(HistogramMaxValue) {
		t.Fatalf("buckets end at %d, want %d", next, HistogramMaxValue)
	}
}

func TestHistogramMergeEqualsOneHistogram(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		var whole Histogram
		parts := make([]Histogram, 1+r.IntN(8))
		for range r.IntN(20_000) {
			v := time.Duration(distributions["lognormal-1ms"](r))
			n := uint64(1 + r.IntN(3))
			whole.RecordN(v, n)
			parts[r.IntN(len(parts))].RecordN(v, n)
		}
		// Merge in two different orders: merging commutes.
		var fwd, rev Histogram
		for i := range parts {
			fwd.Merge(&parts[i])
			rev.Merge(&parts[len(parts)-1-i])
		}
		for _, m := range []*Histogram{&fwd, &rev} {
			if !m.Equal(&whole) {
				t.Fatalf("seed %d: merged histogram differs from the one that saw every value", seed)
			}
			for _, q := range quantiles {
				if m.Quantile(q) != whole.Quantile(q) {
					t.Fatalf("seed %d: merged q%v = %v, whole %v", seed, q, m.Quantile(q), whole.Quantile(q))
				}
			}
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("an empty histogram reports non-zero figures")
	}
	h.Merge(nil)
	h.Merge(&Histogram{})
	if h.Count() != 0 {
		t.Fatal("merging empty histograms added values")
	}
	h.Record(-5 * time.Second)
	if h.Min() != 0 || h.Max() != 0 {
		t.Fatalf("a negative value recorded as min %v max %v, want 0", h.Min(), h.Max())
	}
	huge := 3 * HistogramMaxValue
	h.Record(huge)
	if h.Max() != huge || h.Quantile(1) != huge {
		t.Fatalf("max %v q1 %v, want the exact %v", h.Max(), h.Quantile(1), huge)
	}
	// Above the tracked range the quantile is the top bucket, still
	// within [min, max].
	if q := h.Quantile(0.99); q < h.Min() || q > h.Max() || q < HistogramMaxValue/2 {
		t.Fatalf("q0.99 = %v", q)
	}
	h.RecordN(time.Millisecond, 0)
	if h.Count() != 2 {
		t.Fatalf("RecordN(.., 0) counted: %d", h.Count())
	}
	// The sum saturates instead of wrapping.
	var s Histogram
	s.RecordN(time.Duration(math.MaxInt64/2), 4)
	if s.Mean() <= 0 {
		t.Fatalf("mean %v after a saturated sum", s.Mean())
	}
}

func TestHistogramJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var h Histogram
	for range 10_000 {
		h.Record(time.Duration(distributions["log-uniform"](r)))
	}
	h.Record(5 * HistogramMaxValue)
	for _, in := range []*Histogram{&h, {}} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Histogram
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !out.Equal(in) {
			t.Fatal("histogram changed through JSON")
		}
	}
}

func TestHistogramJSONRefusesInconsistentData(t *testing.T) {
	for _, bad := range []string{
		`{"sub_bits":6,"min_ns":0,"max_ns":0,"sum_ns":0,"buckets":[]}`,
		`{"sub_bits":7,"min_ns":5,"max_ns":9,"sum_ns":14,"buckets":[[9,1],[5,1]]}`,
		`{"sub_bits":7,"min_ns":5,"max_ns":5,"sum_ns":5,"buckets":[[5,0]]}`,
		`{"sub_bits":7,"min_ns":5,"max_ns":5,"sum_ns":5,"buckets":[[99999999,1]]}`,
		`{"sub_bits":7,"min_ns":1,"max_ns":5,"sum_ns":5,"buckets":[[5,1]]}`,
		`{"sub_bits":7,"min_ns":5,"max_ns":50,"sum_ns":5,"buckets":[[5,1]]}`,
		`{"sub_bits":7,"min_ns":0,"max_ns":3,"sum_ns":0,"buckets":[]}`,
		`{"sub_bits":7,"min_ns":5,"max_ns":6,"sum_ns":11,"buckets":[[5,18446744073709551615],[6,1]]}`,
		`{"sub_bits":7,"min_ns":-1,"max_ns":5,"sum_ns":5,"buckets":[[5,1]]}`,
		`[1,2]`,
	} {
		var h Histogram
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// FuzzHistogramJSON: whatever the decoder accepts is a histogram whose
// quantiles lie within [Min, Max] and which survives another round trip.
func FuzzHistogramJSON(f *testing.F) {
	var h Histogram
	for _, v := range []time.Duration{0, 1, 300, time.Millisecond, time.Hour} {
		h.Record(v)
	}
	seed, _ := json.Marshal(&h)
	f.Add(seed)
	f.Add([]byte(`{"sub_bits":7,"min_ns":0,"max_ns":0,"sum_ns":0,"buckets":[]}`))
	f.Add([]byte(`{"sub_bits":7,"min_ns":5,"max_ns":5,"sum_ns":5,"buckets":[[5,1]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Histogram
		if err := json.Unmarshal(b, &h); err != nil {
			return
		}
		for _, q := range quantiles {
			if v := h.Quantile(q); v < h.Min() || v > h.Max() {
				t.Fatalf("q%v = %v outside [%v, %v]", q, v, h.Min(), h.Max())
			}
		}
		again, err := json.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		var h2 Histogram
		if err := json.Unmarshal(again, &h2); err != nil || !h2.Equal(&h) {
			t.Fatalf("re-encoded histogram does not decode to itself: %v", err)
		}
	})
}
