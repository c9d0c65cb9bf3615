package detector

import (
	"fmt"
	"math/bits"
)

// intervalWindow holds the most recent inter-arrival intervals of one node
// (in nanoseconds) in a ring buffer, with their sum and sum of squares kept
// exactly in integers. Adding a sample is O(1), and because nothing is
// rounded the mean and variance never drift, however long the node lives,
// and the variance has no catastrophic cancellation: n·Σx² − (Σx)² is
// computed exactly before the one conversion to float64.
//
// Invariants (checked by valid): len(buf) <= size; every sample is in
// (0, maxSample]; sum and sumSq equal the sums over buf. PhiAccrualConfig's
// Validate bounds size and maxSample so that size·maxSample < 2^63 and
// size²·maxSample² < 2^128: none of the sums can overflow.
type intervalWindow struct {
	buf       []int64 // samples; a ring once len(buf) == size
	oldest    int     // index of the oldest sample once the ring is full
	size      int     // capacity of the window
	maxSample int64   // largest sample accepted
	sum       uint64  // Σx
	sumSq     uint128 // Σx²
}

// initialCap is the first allocation of a window: short-lived nodes do not
// pay for the whole window.
const initialCap = 16

func newIntervalWindow(size int, maxSample int64) intervalWindow {
	return intervalWindow{
		buf:       make([]int64, 0, min(size, initialCap)),
		size:      size,
		maxSample: maxSample,
	}
}

// add records sample x, evicting the oldest sample if the window is full.
func (w *intervalWindow) add(x int64) {
	if x <= 0 || x > w.maxSample {
		panic(fmt.Sprintf("detector: interval %d out of (0, %d]", x, w.maxSample))
	}
	if len(w.buf) < w.size {
		if len(w.buf) == cap(w.buf) {
			grown := make([]int64, len(w.buf), min(2*cap(w.buf), w.size))
			copy(grown, w.buf)
			w.buf = grown
		}
		w.buf = append(w.buf, x)
	} else {
		old := w.buf[w.oldest]
		w.buf[w.oldest] = x
		w.oldest = (w.oldest + 1) % w.size
		w.sum -= uint64(old)
		w.sumSq = w.sumSq.sub(square(old))
	}
	w.sum += uint64(x)
	w.sumSq = w.sumSq.add(square(x))
}

// len returns the number of samples held.
func (w *intervalWindow) len() int { return len(w.buf) }

// stats returns the mean and the population variance of the samples, in
// nanoseconds and nanoseconds squared. The window must not be empty.
func (w *intervalWindow) stats() (mean, variance float64) {
	n := uint64(len(w.buf))
	if n == 0 {
		panic("detector: stats of an empty window")
	}
	// n·Σx² ≥ (Σx)² by Cauchy–Schwarz, so the subtraction cannot wrap.
	num := w.sumSq.mul64(n).sub(mul128(w.sum, w.sum))
	fn := float64(n)
	return float64(w.sum) / fn, num.float64() / (fn * fn)
}

// valid recomputes the sums from the samples and reports the first broken
// invariant. Tests call it after every operation.
func (w *intervalWindow) valid() error {
	if len(w.buf) > w.size {
		return fmt.Errorf("window holds %d samples, size %d", len(w.buf), w.size)
	}
	var sum uint64
	var sumSq uint128
	for _, x := range w.buf {
		if x <= 0 || x > w.maxSample {
			return fmt.Errorf("sample %d out of (0, %d]", x, w.maxSample)
		}
		sum += uint64(x)
		sumSq = sumSq.add(square(x))
	}
	if sum != w.sum || sumSq != w.sumSq {
		return fmt.Errorf("running sums (%d, %v) differ from recomputed (%d, %v)", w.sum, w.sumSq, sum, sumSq)
	}
	return nil
}

// uint128 is an unsigned 128-bit integer, just what the window's exact
// sums need.
type uint128 struct{ hi, lo uint64 }

func mul128(a, b uint64) uint128 {
	hi, lo := bits.Mul64(a, b)
	return uint128{hi, lo}
}

func square(x int64) uint128 { return mul128(uint64(x), uint64(x)) }

func (a uint128) add(b uint128) uint128 {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, carry)
	return uint128{hi, lo}
}

func (a uint128) sub(b uint128) uint128 {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(a.hi, b.hi, borrow)
	return uint128{hi, lo}
}

// mul64 returns a·m; the caller guarantees the product fits in 128 bits.
func (a uint128) mul64(m uint64) uint128 {
	hi, lo := bits.Mul64(a.lo, m)
	return uint128{a.hi*m + hi, lo}
}

func (a uint128) float64() float64 {
	return float64(a.hi)*(1<<64) + float64(a.lo)
}
