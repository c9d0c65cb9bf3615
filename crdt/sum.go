package crdt

import "math/bits"

// wideSum is an exact sum of 64-bit terms, a 128-bit two's complement
// integer. Counters sum their entries with it so that the result does not
// depend on the order of the entries (no intermediate overflow) and an
// out-of-range total is detected rather than wrapped. It cannot overflow
// for fewer than 2^63 terms.
type wideSum struct {
	hi int64
	lo uint64
}

func (s *wideSum) addUint(u uint64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, u, 0)
	s.hi += int64(carry)
}

func (s *wideSum) subUint(u uint64) {
	var borrow uint64
	s.lo, borrow = bits.Sub64(s.lo, u, 0)
	s.hi -= int64(borrow)
}

func (s *wideSum) addInt(v int64) {
	if v >= 0 {
		s.addUint(uint64(v))
	} else {
		s.subUint(magnitude(v))
	}
}

// int64 returns the sum and whether it fits in an int64.
func (s wideSum) int64() (int64, bool) {
	v := int64(s.lo)
	return v, (s.hi == 0 && v >= 0) || (s.hi == -1 && v < 0)
}

// uint64 returns the sum and whether it fits in a uint64.
func (s wideSum) uint64() (uint64, bool) { return s.lo, s.hi == 0 }

// magnitude returns |v| for v < 0, including math.MinInt64.
func magnitude(v int64) uint64 { return uint64(-(v + 1)) + 1 }
