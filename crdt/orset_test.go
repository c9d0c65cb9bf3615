package crdt

import (
	"slices"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func mustAdd(t *testing.T, s *ORSet, r clock.ReplicaID, e string) ORSet {
	t.Helper()
	d, err := s.Add(r, e)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestORSetRemoveIsNotResurrectedByAStaleReplica is the seed's flaw: a
// remove that only drops tags locally is undone by the next merge with a
// replica that still has them.
func TestORSetRemoveIsNotResurrectedByAStaleReplica(t *testing.T) {
	var a, b ORSet
	b.Merge(mustAdd(t, &a, 1, "x"))
	a.Remove("x")
	// Whole states, both directions.
	a1, b1 := a.Clone(), b.Clone()
	a1.Merge(b)
	b1.Merge(a)
	for name, s := range map[string]ORSet{"a ⊔ stale b": a1, "stale b ⊔ a": b1} {
		if s.Contains("x") {
			t.Errorf("%s: x is back", name)
		}
	}
	// The stale replica keeps working and ships its whole state later.
	mustAdd(t, &b, 2, "y")
	a.Merge(b)
	if a.Contains("x") || !a.Contains("y") {
		t.Errorf("after the stale replica's next state: %q, want [y]", a.Elements())
	}
}

func TestORSetConcurrentAddAndRemoveAddWins(t *testing.T) {
	var a, b ORSet
	b.Merge(mustAdd(t, &a, 1, "x"))
	rm := a.Remove("x")
	add := mustAdd(t, &b, 2, "x") // concurrent with the remove: b has not seen it
	a.Merge(add)
	b.Merge(rm)
	if !a.Contains("x") || !b.Contains("x") {
		t.Fatalf("add lost to a concurrent remove: a %v, b %v", a.Elements(), b.Elements())
	}
	if !a.Equal(b) {
		t.Fatalf("replicas differ")
	}
	// Another replica that sees the remove first, then the add of x that
	// the remove saw, still has no x from that add, only the new one.
	var c ORSet
	c.Merge(rm)
	c.Merge(add)
	if !c.Contains("x") {
		t.Fatalf("c lost the concurrent add")
	}
}

func TestORSetRemoveArrivingBeforeItsAddWins(t *testing.T) {
	var a, b ORSet
	add := mustAdd(t, &a, 1, "x")
	rm := a.Remove("x")
	b.Merge(rm) // out of order: the remove first
	b.Merge(add)
	if b.Contains("x") {
		t.Fatalf("x present although its only add was removed")
	}
	if !b.Equal(a) {
		t.Fatalf("replicas differ: %v / %v", b.Context(), a.Context())
	}
}

func TestORSetReAddAfterRemove(t *testing.T) {
	var a ORSet
	mustAdd(t, &a, 1, "x")
	a.Remove("x")
	mustAdd(t, &a, 1, "x")
	if !a.Contains("x") {
		t.Fatalf("re-added element missing")
	}
	if d := a.Remove("absent"); !d.IsZero() {
		t.Fatalf("removing an absent element should give the zero delta")
	}
}

func TestORSetAddReplacesEarlierDots(t *testing.T) {
	var a ORSet
	for range 5 {
		mustAdd(t, &a, 1, "x")
	}
	if n := len(a.elems["x"]); n != 1 {
		t.Fatalf("x holds %d dots after 5 adds by one replica, want 1", n)
	}
}

func TestORSetClearKeepsConcurrentAdds(t *testing.T) {
	var a, b ORSet
	b.Merge(mustAdd(t, &a, 1, "x"))
	b.Merge(mustAdd(t, &a, 1, "y"))
	clr := a.Clear()
	add := mustAdd(t, &b, 2, "z")
	a.Merge(add)
	b.Merge(clr)
	for name, s := range map[string]ORSet{"a": a, "b": b} {
		if got := s.Elements(); !slices.Equal(got, []string{"z"}) {
			t.Errorf("%s: Elements = %q, want [z]", name, got)
		}
	}
}

func TestORSetMergeDoesNotKeepItsArgument(t *testing.T) {
	var a, b ORSet
	mustAdd(t, &b, 2, "x")
	a.Merge(b)
	aWas := a.Clone()
	b.elems["x"][0].Counter = 99 // scribble on the argument's storage
	mustAdd(t, &b, 2, "y")
	if !a.Equal(aWas) {
		t.Fatalf("changing the merged argument changed the receiver")
	}
	elems := a.Elements()
	elems[0] = "changed"
	ctx := a.Context()
	ctx.Add(dot(5, 5))
	if !a.Equal(aWas) {
		t.Fatalf("changing what Elements or Context returned changed the set")
	}
}
