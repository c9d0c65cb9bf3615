package merkle

import (
	"fmt"
	"math/bits"

	"github.com/cairndb/cairn/ring"
)

// Range is an arc of the ring's hash space: the hashes h with
// Start < h <= End, wrapping past 2^64-1 when End < Start; Start == End is
// the whole space. It is the convention of ring.TokenRange, so that a
// tree's range is exactly one of the ring's arcs (ring.RangesFor) and the
// differing ranges an exchange finds can be handed back to code that walks
// the ring without an off-by-one at either end.
type Range struct {
	// Start is the exclusive lower end.
	Start uint64
	// End is the inclusive upper end.
	End uint64
}

// FromTokenRange returns the Range of a ring arc.
func FromTokenRange(r ring.TokenRange) Range {
	return Range{Start: uint64(r.Start), End: uint64(r.End)}
}

// FullRange is the whole hash space.
var FullRange = Range{}

// Full reports whether r is the whole hash space.
func (r Range) Full() bool { return r.Start == r.End }

// Contains reports whether h lies in r.
func (r Range) Contains(h uint64) bool {
	switch {
	case r.Start == r.End:
		return true
	case r.Start < r.End:
		return r.Start < h && h <= r.End
	default:
		return h > r.Start || h <= r.End
	}
}

// String formats r as "(start, end]" in hex, as ring.TokenRange does.
func (r Range) String() string { return fmt.Sprintf("(%016x, %016x]", r.Start, r.End) }

// Coalesce merges ranges that touch (one's End is the next one's Start)
// into one, in place, and returns the shortened slice. The input must be
// in ring order from one tree, as Diff and Session.Ranges return it; fewer,
// larger ranges mean fewer scans for the caller that streams them.
func Coalesce(rs []Range) []Range {
	if len(rs) == 0 {
		return rs
	}
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.End == r.Start && !last.Full() {
			last.End = r.End
			continue
		}
		out = append(out, r)
	}
	return out
}

// layout splits a Range into 2^depth leaves of (nearly) equal width.
//
// A hash h in the range has the offset o = h - Start - 1 (mod 2^64), in
// [0, W) where W is the width (2^64 for the whole space). Leaf i holds
// the offsets [a(i), a(i+1)) with a(i) = ceil(i*W / 2^depth); equivalently
// h's leaf is floor(o * 2^depth / W). Both are exact in 128-bit integer
// arithmetic, so every node computes the same leaf for the same hash, and
// leaf i is the arc (Start + a(i), Start + a(i+1)]. The depth is lowered
// until no leaf is empty (W >= 2^depth), so that a leaf's arc is never
// (x, x], which would mean the whole space.
type layout struct {
	rng   Range
	depth uint8
	full  bool   // W = 2^64
	width uint64 // W when !full
}

func newLayout(r Range, depth int) layout {
	l := layout{rng: r, full: r.Full()}
	if !l.full {
		l.width = r.End - r.Start
		// An arc narrower than 2^depth hashes gets fewer leaves: 2^(floor(log2 W)).
		depth = min(depth, bits.Len64(l.width)-1)
	}
	l.depth = uint8(depth)
	return l
}

func (l *layout) leaves() int { return 1 << l.depth }

// leafOf returns the leaf of h, which must lie in the range.
func (l *layout) leafOf(h uint64) int {
	o := h - l.rng.Start - 1
	if l.full {
		return int(o >> (64 - l.depth)) // a shift by 64 yields 0 for depth 0
	}
	hi, lo := bits.Mul64(o, uint64(l.leaves()))
	q, _ := bits.Div64(hi, lo, l.width) // o < W, so q < 2^depth and hi < W
	return int(q)
}

// boundary returns a(i) = ceil(i*W / 2^depth) for i in [0, 2^depth], as an
// offset from Start; a(2^depth) = W wraps to 0 for the whole space, which
// is what Start + a(i) needs.
func (l *layout) boundary(i int) uint64 {
	if l.full {
		return uint64(i) << (64 - l.depth) // i = 2^depth gives 2^64, i.e. 0 (depth > 0), or i<<64 = 0 (depth 0)
	}
	hi, lo := bits.Mul64(uint64(i), l.width)
	lo, c := bits.Add64(lo, uint64(l.leaves())-1, 0)
	hi += c
	if l.depth == 0 {
		return lo
	}
	return hi<<(64-l.depth) | lo>>l.depth
}

// span returns the arc of leaves [first, first+count).
func (l *layout) span(first, count int) Range {
	return Range{Start: l.rng.Start + l.boundary(first), End: l.rng.Start + l.boundary(first+count)}
}

// nodeSpan returns the first leaf and the number of leaves under node n
// (heap numbering: root 1, children 2n and 2n+1, leaves 2^depth..2^(depth+1)-1).
func (l *layout) nodeSpan(n int) (first, count int) {
	level := bits.Len(uint(n)) - 1
	height := int(l.depth) - level
	return (n - 1<<level) << height, 1 << height
}

// nodeRange returns the arc covered by node n.
func (l *layout) nodeRange(n int) Range { return l.span(l.nodeSpan(n)) }

// height returns the height of node n above the leaves (0 for a leaf).
func (l *layout) height(n int) int { return int(l.depth) - (bits.Len(uint(n)) - 1) }
