package coord

import (
	"cmp"
	"math"
	"slices"

	"github.com/cairndb/cairn/ring"
)

// span is a closed interval of tokens [lo, hi] that does not wrap.
type span struct{ lo, hi uint64 }

// spans is a set of tokens as sorted, disjoint, non-adjacent spans.
type spans []span

// spansOf returns the tokens of the ranges rs.
func spansOf(rs []ring.TokenRange) spans {
	var out []span
	for _, r := range rs {
		out = appendRangeSpans(out, r)
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && (merged[n-1].hi == math.MaxUint64 || s.lo <= merged[n-1].hi+1) {
			merged[n-1].hi = max(merged[n-1].hi, s.hi)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// appendRangeSpans appends the tokens of r (Start exclusive, End
// inclusive, wrapping; Start == End is the whole ring) as spans.
func appendRangeSpans(dst []span, r ring.TokenRange) []span {
	s, e := uint64(r.Start), uint64(r.End)
	switch {
	case s == e:
		return append(dst, span{0, math.MaxUint64})
	case s < e:
		return append(dst, span{s + 1, e})
	}
	if s != math.MaxUint64 {
		dst = append(dst, span{s + 1, math.MaxUint64})
	}
	return append(dst, span{0, e})
}

// find returns the index of the span holding t, or -1.
func (ss spans) find(t uint64) int {
	i, _ := slices.BinarySearchFunc(ss, t, func(s span, t uint64) int {
		switch {
		case s.hi < t:
			return -1
		case s.lo > t:
			return 1
		}
		return 0
	})
	if i < len(ss) && ss[i].lo <= t && t <= ss[i].hi {
		return i
	}
	return -1
}

// contains reports whether t is in the set.
func (ss spans) contains(t ring.Token) bool { return ss.find(uint64(t)) >= 0 }

// covers reports whether every token of r is in the set.
func (ss spans) covers(r ring.TokenRange) bool {
	for _, p := range appendRangeSpans(nil, r) {
		i := ss.find(p.lo)
		if i < 0 || ss[i].hi < p.hi {
			return false
		}
	}
	return true
}
