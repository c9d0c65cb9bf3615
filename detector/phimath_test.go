package detector

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestPhiKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name               string
		elapsed, mean, std float64
		want               float64
	}{
		// y = 0: the model says "late half of the time", phi = log10 2.
		{"at the mean", 1000, 1000, 100, math.Log10(2)},
		// Expected values computed independently (Python, math.log10(1 +
		// math.exp(z))). y = 1: z = 1.5976 + 0.070566.
		{"one std dev late", 1100, 1000, 100, 0.79950832},
		// y = -3: z = -3(1.5976 + 0.635094) = -6.698082.
		{"three std devs early", 700, 1000, 100, 0.00053527455},
		// y = 10: z = 10(1.5976 + 7.0566) = 86.542, linear regime.
		{"ten std devs late", 2000, 1000, 100, 37.584713},
	} {
		got := phi(tc.elapsed, tc.mean, tc.std)
		if math.Abs(got-tc.want) > 1e-7*tc.want {
			t.Errorf("%s: phi = %.8g, want %.8g", tc.name, got, tc.want)
		}
	}
}

// TestPhiIsFiniteEverywhere feeds phi the extremes a detector can produce:
// elapsed times from -maxDuration to +maxDuration and the smallest standard
// deviation a config allows.
func TestPhiIsFiniteEverywhere(t *testing.T) {
	maxDuration := float64(math.MaxInt64)
	minStd := float64(minStdDevLimit)
	for _, elapsed := range []float64{-maxDuration, -1, 0, 1, 1e9, 1e12, maxDuration} {
		for _, mean := range []float64{1, 1e9, float64(maxIntervalLimit) + float64(maxIntervalLimit)} {
			for _, std := range []float64{minStd, 1e9, float64(maxIntervalLimit)} {
				p := phi(elapsed, mean, std)
				if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
					t.Errorf("phi(%g, %g, %g) = %g, want finite and >= 0", elapsed, mean, std, p)
				}
			}
		}
	}
}

// TestPhiMonotoneAcrossRegimes checks monotonicity of the bare function
// around the switch to the linear regime and for arbitrary arguments.
func TestPhiMonotoneAcrossRegimes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mean := rapid.Float64Range(1, 2*float64(maxIntervalLimit)).Draw(t, "mean")
		std := rapid.Float64Range(float64(minStdDevLimit), float64(maxIntervalLimit)).Draw(t, "std")
		a := rapid.Float64Range(-float64(math.MaxInt64), float64(math.MaxInt64)).Draw(t, "a")
		b := rapid.Float64Range(-float64(math.MaxInt64), float64(math.MaxInt64)).Draw(t, "b")
		if a > b {
			a, b = b, a
		}
		if pa, pb := phi(a, mean, std), phi(b, mean, std); pa > pb {
			t.Fatalf("phi(%g) = %g > phi(%g) = %g", a, pa, b, pb)
		}
	})
	// Dense walk through the switch at z = softplusLinear (y ≈ 6.9).
	prev := 0.0
	for y := 6.0; y < 8; y += 1e-6 {
		p := phi(y, 0, 1)
		if p < prev {
			t.Fatalf("phi decreases at y = %v: %v < %v", y, p, prev)
		}
		prev = p
	}
}
