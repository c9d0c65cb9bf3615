package detector

import (
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// naiveStats computes the mean and population variance of xs with
// arbitrary-precision arithmetic: the reference for intervalWindow.stats.
func naiveStats(xs []int64) (mean, variance float64) {
	n := new(big.Float).SetPrec(256).SetInt64(int64(len(xs)))
	sum := new(big.Float).SetPrec(256)
	for _, x := range xs {
		sum.Add(sum, new(big.Float).SetInt64(x))
	}
	m := new(big.Float).SetPrec(256).Quo(sum, n)
	ss := new(big.Float).SetPrec(256)
	for _, x := range xs {
		d := new(big.Float).SetPrec(256).Sub(new(big.Float).SetInt64(x), m)
		ss.Add(ss, d.Mul(d, d))
	}
	v := new(big.Float).SetPrec(256).Quo(ss, n)
	mean, _ = m.Float64()
	variance, _ = v.Float64()
	return mean, variance
}

func TestWindowSlidesAndKeepsExactSums(t *testing.T) {
	w := newIntervalWindow(3, 100)
	for i, x := range []int64{10, 20, 30, 40, 50} {
		w.add(x)
		if err := w.valid(); err != nil {
			t.Fatalf("after sample %d: %v", i, err)
		}
	}
	if w.len() != 3 {
		t.Fatalf("len = %d, want 3", w.len())
	}
	// The window now holds 30, 40, 50.
	mean, variance := w.stats()
	if mean != 40 || math.Abs(variance-200.0/3) > 1e-12 {
		t.Fatalf("stats = (%v, %v), want (40, 66.67)", mean, variance)
	}
}

func TestWindowGrowsToItsSizeOnly(t *testing.T) {
	w := newIntervalWindow(40, 10)
	if cap(w.buf) != initialCap {
		t.Fatalf("initial capacity %d, want %d", cap(w.buf), initialCap)
	}
	for range 100 {
		w.add(1)
	}
	if cap(w.buf) != 40 || w.len() != 40 {
		t.Fatalf("cap %d len %d, want 40 and 40", cap(w.buf), w.len())
	}
}

func TestWindowRejectsOutOfRangeSample(t *testing.T) {
	for _, x := range []int64{0, -1, 11} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("add(%d) did not panic", x)
				}
			}()
			w := newIntervalWindow(4, 10)
			w.add(x)
		}()
	}
}

// TestWindowExtremeSamplesDoNotOverflow fills the largest window allowed
// with the largest samples allowed, then slides it with the smallest:
// the exact sums must neither overflow nor lose the small variance.
func TestWindowExtremeSamplesDoNotOverflow(t *testing.T) {
	maxSample := int64(maxIntervalLimit)
	w := newIntervalWindow(maxWindowSize, maxSample)
	for range maxWindowSize {
		w.add(maxSample)
	}
	mean, variance := w.stats()
	if mean != float64(maxSample) || variance != 0 {
		t.Fatalf("full window of max samples: stats (%v, %v), want (%v, 0)", mean, variance, float64(maxSample))
	}
	w.add(1)
	mean, variance = w.stats()
	wantMean, wantVar := naiveStats(w.buf)
	if math.Abs(mean-wantMean) > 1e-9*wantMean || math.Abs(variance-wantVar) > 1e-9*wantVar {
		t.Fatalf("stats (%v, %v), want (%v, %v)", mean, variance, wantMean, wantVar)
	}
	if err := w.valid(); err != nil {
		t.Fatal(err)
	}
}

// TestWindowMatchesNaiveStats checks, for random windows and samples,
// that the running sums stay exact and the statistics match an
// arbitrary-precision two-pass computation over the window's contents.
func TestWindowMatchesNaiveStats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.IntRange(2, 50).Draw(t, "size")
		maxSample := rapid.Int64Range(1, int64(maxIntervalLimit)).Draw(t, "maxSample")
		w := newIntervalWindow(size, maxSample)
		var all []int64
		n := rapid.IntRange(1, 200).Draw(t, "n")
		for i := range n {
			x := rapid.Int64Range(1, maxSample).Draw(t, "x")
			w.add(x)
			all = append(all, x)
			if err := w.valid(); err != nil {
				t.Fatalf("after sample %d: %v", i, err)
			}
		}
		last := all[max(0, len(all)-size):]
		mean, variance := w.stats()
		wantMean, wantVar := naiveStats(last)
		if math.Abs(mean-wantMean) > 1e-12*wantMean {
			t.Fatalf("mean %v, want %v", mean, wantMean)
		}
		// The numerator is exact; the only errors are the conversions and
		// the division, a few ulps of the mean squared at most.
		if math.Abs(variance-wantVar) > 1e-12*wantMean*wantMean {
			t.Fatalf("variance %v, want %v", variance, wantVar)
		}
	})
}
