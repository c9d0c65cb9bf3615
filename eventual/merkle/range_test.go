package merkle

import (
	"math/big"
	"math/bits"
	"testing"

	"github.com/cairndb/cairn/ring"
	"pgregory.net/rapid"
)

// refLeaf is leafOf by big-integer arithmetic: floor(o * 2^depth / W).
func refLeaf(r Range, depth int, h uint64) int {
	o := new(big.Int).SetUint64(h - r.Start - 1)
	w := new(big.Int).Lsh(big.NewInt(1), 64)
	if !r.Full() {
		w.SetUint64(r.End - r.Start)
	}
	o.Lsh(o, uint(depth))
	return int(o.Div(o, w).Int64())
}

// TestLeavesPartitionTheRange: the leaves' arcs are consecutive, none is
// empty, they start at the range's Start and end at its End; every hash of
// the range falls in the leaf whose arc contains it, the one the
// big-integer formula names; hashes outside belong to no leaf.
func TestLeavesPartitionTheRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRange(t)
		depth := rapid.IntRange(0, 12).Draw(t, "depth")
		tr, err := New(Config{Depth: depth}, r)
		if err != nil {
			t.Fatal(err)
		}
		// The depth is lowered only for arcs narrower than 2^depth hashes.
		wantDepth := depth
		if !r.Full() {
			wantDepth = min(depth, bits.Len64(r.End-r.Start)-1)
		}
		if tr.Depth() != wantDepth || tr.Leaves() != 1<<wantDepth {
			t.Fatalf("depth %d (leaves %d) for %v at config depth %d, want %d", tr.Depth(), tr.Leaves(), r, depth, wantDepth)
		}
		prevEnd := r.Start
		for i := 0; i < tr.Leaves(); i++ {
			lr := tr.LeafRange(i)
			if lr.Start != prevEnd {
				t.Fatalf("leaf %d starts at %x, previous ended at %x", i, lr.Start, prevEnd)
			}
			if lr.Full() && !(r.Full() && tr.Leaves() == 1) {
				t.Fatalf("leaf %d of %v is empty: %v", i, r, lr)
			}
			// Both ends of the leaf map back to it.
			for _, h := range []uint64{lr.Start + 1, lr.End} {
				if got, ok := tr.Leaf(h); !ok || got != i {
					t.Fatalf("hash %x at the edge of leaf %d %v maps to %d (%v)", h, i, lr, got, ok)
				}
			}
			prevEnd = lr.End
		}
		if prevEnd != r.End {
			t.Fatalf("last leaf ends at %x, range at %x", prevEnd, r.End)
		}
		for range 20 {
			h := drawHashIn(t, r, "h")
			i, ok := tr.Leaf(h)
			if !ok {
				t.Fatalf("hash %x of %v has no leaf", h, r)
			}
			if want := refLeaf(r, tr.Depth(), h); i != want {
				t.Fatalf("hash %x: leaf %d, big-integer formula says %d", h, i, want)
			}
			if !tr.LeafRange(i).Contains(h) {
				t.Fatalf("hash %x maps to leaf %d %v that does not contain it", h, i, tr.LeafRange(i))
			}
		}
		if !r.Full() {
			for _, h := range []uint64{r.Start, r.End + 1} {
				if r.End+1 == r.Start {
					break // the arc misses only its Start
				}
				if _, ok := tr.Leaf(h); ok {
					t.Fatalf("hash %x outside %v has a leaf", h, r)
				}
				if err := tr.Add(h, Digest{1}); err == nil {
					t.Fatalf("Add of %x outside %v succeeded", h, r)
				}
			}
		}
	})
}

// TestRangeMatchesRing: a Range made from a ring arc contains exactly the
// tokens the arc contains.
func TestRangeMatchesRing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr := ring.TokenRange{Start: ring.Token(rapid.Uint64().Draw(t, "start")), End: ring.Token(rapid.Uint64().Draw(t, "end"))}
		if rapid.Bool().Draw(t, "full") {
			tr.End = tr.Start
		}
		r := FromTokenRange(tr)
		for _, h := range []uint64{uint64(tr.Start), uint64(tr.Start) + 1, uint64(tr.End), uint64(tr.End) + 1, rapid.Uint64().Draw(t, "h")} {
			if r.Contains(h) != tr.Contains(ring.Token(h)) {
				t.Fatalf("%v and %v disagree on %x", r, tr, h)
			}
		}
	})
}

func TestCoalesce(t *testing.T) {
	got := Coalesce([]Range{{0, 10}, {10, 20}, {30, 40}, {40, 50}, {50, 60}, {70, 80}})
	want := []Range{{0, 20}, {30, 60}, {70, 80}}
	if len(got) != len(want) {
		t.Fatalf("Coalesce = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Coalesce = %v, want %v", got, want)
		}
	}
	// All the leaves of a whole-space tree coalesce to the whole space.
	tr, _ := New(Config{Depth: 3}, Range{Start: 5, End: 5})
	var all []Range
	for i := 0; i < tr.Leaves(); i++ {
		all = append(all, tr.LeafRange(i))
	}
	if got := Coalesce(all); len(got) != 1 || !got[0].Full() {
		t.Fatalf("whole-space leaves coalesce to %v", got)
	}
	if got := Coalesce(nil); len(got) != 0 {
		t.Fatalf("Coalesce(nil) = %v", got)
	}
}
