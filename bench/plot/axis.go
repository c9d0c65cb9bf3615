package plot

import (
	"math"
	"strconv"
	"strings"
)

// scale maps data values in [lo, hi] to pixels in [p0, p1] (p1 < p0 for a
// vertical axis, whose pixels grow downwards).
type scale struct {
	lo, hi float64
	log    bool
	p0, p1 float64
	ticks  []float64
}

// at is v's pixel. On a log scale v must be > 0.
func (s scale) at(v float64) float64 {
	var t float64
	if s.log {
		t = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else {
		t = (v - s.lo) / (s.hi - s.lo)
	}
	return s.p0 + t*(s.p1-s.p0)
}

// shows reports whether the scale can place v.
func (s scale) shows(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && (!s.log || v > 0)
}

// newScale fits a scale with nice bounds and ticks around the data range
// [lo, hi]. A linear scale of non-negative data starts at zero (rates and
// counts read wrong from a cut axis).
func newScale(lo, hi float64, log bool, p0, p1 float64) scale {
	s := scale{log: log, p0: p0, p1: p1}
	if log {
		if !(lo > 0) {
			lo = 1
		}
		if !(hi > lo) {
			hi = lo * 10
		}
		s.lo = math.Pow(10, math.Floor(math.Log10(lo)))
		s.hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if s.hi <= s.lo {
			s.hi = s.lo * 10
		}
		decades := math.Round(math.Log10(s.hi / s.lo))
		for d := s.lo; d <= s.hi*1.0001; d *= 10 {
			s.ticks = append(s.ticks, d)
			if decades <= 3 && d*2 < s.hi {
				s.ticks = append(s.ticks, d*2, d*5)
			}
		}
		return s
	}
	if lo > 0 {
		lo = 0
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	s.lo = math.Floor(lo/step) * step
	s.hi = math.Ceil(hi/step) * step
	for v := s.lo; v <= s.hi+step/1000; v += step {
		s.ticks = append(s.ticks, v)
	}
	return s
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// FormatValue writes a value compactly for a tick or a bar label: 12k,
// 1.5M, 0.25, 3.
func FormatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case a >= 1e9:
		return trimNum(v/1e9, 3) + "G"
	case a >= 1e6:
		return trimNum(v/1e6, 3) + "M"
	case a >= 1e4:
		return trimNum(v/1e3, 3) + "k"
	default:
		return trimNum(v, 3)
	}
}

// trimNum formats v with at most sig significant digits, no trailing
// zeros and no exponent for the values charts show.
func trimNum(v float64, sig int) string {
	if v == 0 {
		return "0"
	}
	digits := sig - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	digits = max(digits, 0)
	t := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(t, ".") {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	return t
}
