package merkle

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// TestDiffFindsExactlyTheDifferingRanges: for two replicas drawn from a
// common base with random differences (keys missing on either side, keys at
// different versions), Diff returns exactly the ranges the content-based
// specification (refDiff) names: every leaf whose entries differ, a subtree
// whole when one side holds nothing under it. Hence no false negatives (every
// differing key is covered) and no false positives (every range holds a
// differing key); both are also checked directly.
func TestDiffFindsExactlyTheDifferingRanges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRange(t)
		cfg := Config{Depth: rapid.IntRange(0, 9).Draw(t, "depth")}
		a, b := drawReplicas(t, r, 400)
		ta, tb := a.build(t, cfg, r), b.build(t, cfg, r)
		got, err := Diff(ta, tb)
		if err != nil {
			t.Fatal(err)
		}
		want := refDiff(ta, a, b)
		if !equalRanges(got, want) {
			t.Fatalf("Diff = %v\nspec = %v", got, want)
		}
		diff := differing(a, b)
		for _, h := range diff {
			if !covered(got, h) {
				t.Fatalf("differing key hash %x not in any range %v", h, got)
			}
		}
		for _, rg := range got {
			holds := false
			for _, h := range diff {
				holds = holds || rg.Contains(h)
			}
			if !holds {
				t.Fatalf("range %v holds no differing key", rg)
			}
		}
		checkSortedDisjoint(t, r, got)
		// Symmetric, and empty exactly when the replicas agree.
		back, _ := Diff(tb, ta)
		if !equalRanges(back, got) {
			t.Fatalf("Diff(a, b) = %v but Diff(b, a) = %v", got, back)
		}
		if (len(got) == 0) != (len(diff) == 0) || (len(diff) == 0) != (ta.Root() == tb.Root()) {
			t.Fatalf("%d differing keys, %d ranges, roots equal %v", len(diff), len(got), ta.Root() == tb.Root())
		}
	})
}

// TestDiffReportsEmptySubtreeWhole: against an empty replica, the whole
// range is one difference, found at the root.
func TestDiffReportsEmptySubtreeWhole(t *testing.T) {
	r := Range{Start: 1000, End: 1 << 40}
	full, _ := New(Config{Depth: 10}, r)
	empty, _ := New(Config{Depth: 10}, r)
	for k := uint64(0); k < 1000; k++ {
		_ = full.Add(hashIn(r, k*0x9e3779b97f4a7c15), digestOf(k, 0))
	}
	got, err := Diff(full, empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != r {
		t.Fatalf("Diff against an empty tree = %v, want [%v]", got, r)
	}
}

func TestDiffRefusesDifferentShapes(t *testing.T) {
	r := Range{Start: 0, End: 1 << 32}
	a, _ := New(Config{Depth: 4}, r)
	deeper, _ := New(Config{Depth: 5}, r)
	elsewhere, _ := New(Config{Depth: 4}, Range{Start: 1, End: 1 << 32})
	_, err := Diff(a, deeper)
	var me *MismatchError
	if !errors.Is(err, ErrDepthMismatch) || errors.Is(err, ErrRangeMismatch) || !errors.As(err, &me) || me.RemoteDepth != 5 {
		t.Fatalf("depth mismatch: %v", err)
	}
	_, err = Diff(a, elsewhere)
	if !errors.Is(err, ErrRangeMismatch) || errors.Is(err, ErrDepthMismatch) {
		t.Fatalf("range mismatch: %v", err)
	}
}

func equalRanges(a, b []Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
