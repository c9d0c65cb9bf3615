package clock

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// dots lists the dots of a sibling set, in order.
func dots[V any](s []Sibling[V]) []Dot {
	out := make([]Dot, len(s))
	for i, x := range s {
		out[i] = x.Clock.Dot
	}
	return out
}

func values[V any](s []Sibling[V]) []V {
	out := make([]V, len(s))
	for i, x := range s {
		out[i] = x.Value
	}
	return out
}

func mustPut[V any](t *testing.T, s []Sibling[V], ctx VersionVector, r ReplicaID, v V) []Sibling[V] {
	t.Helper()
	out, err := Put(s, ctx, r, v)
	if err != nil {
		t.Fatalf("Put(%v, %v, %d): %v", dots(s), ctx, r, err)
	}
	return out
}

// TestPutKeepsConcurrentWritesAtOneCoordinator is the DVV paper's
// motivating case: two clients write through the same server with the same
// (empty) context. Version vectors keyed by server would give the second
// write the clock {A:2}, which dominates {A:1}, and the first write would be
// lost; with DVVs both survive as siblings until a client that read both
// writes again.
func TestPutKeepsConcurrentWritesAtOneCoordinator(t *testing.T) {
	const a ReplicaID = 1
	var s []Sibling[string]
	s = mustPut(t, s, VersionVector{}, a, "v1")
	s = mustPut(t, s, VersionVector{}, a, "v2")
	if got := values(s); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Fatalf("after two blind writes siblings = %v, want both", got)
	}
	if s[0].Clock.Compare(s[1].Clock) != Concurrent {
		t.Fatalf("%v and %v must be concurrent", s[0].Clock, s[1].Clock)
	}
	ctx := Join(s)
	if ctx.String() != "{1:2}" {
		t.Fatalf("Join = %v, want {1:2}", ctx)
	}
	s = mustPut(t, s, ctx, a, "v3")
	if got := values(s); !slices.Equal(got, []string{"v3"}) {
		t.Fatalf("a write that read both siblings left %v, want only v3", got)
	}
	if want := (DVV{Dot: Dot{Replica: a, Counter: 3}, Context: vv(1, 2)}); s[0].Clock.String() != want.String() {
		t.Fatalf("clock of v3 = %v, want %v", s[0].Clock, want)
	}
}

// TestPutSupersedesOnlyWhatTheClientSaw: a client that read v1 writes
// after someone else's v2 arrived; v1 goes, v2 stays as a sibling.
func TestPutSupersedesOnlyWhatTheClientSaw(t *testing.T) {
	const a, b ReplicaID = 1, 2
	var s []Sibling[string]
	s = mustPut(t, s, VersionVector{}, a, "v1")
	read := Join(s)
	s = mustPut(t, s, VersionVector{}, a, "v2")
	s = mustPut(t, s, read, b, "v3")
	if got := values(s); !slices.Equal(got, []string{"v2", "v3"}) {
		t.Fatalf("siblings = %v, want v2 and v3", got)
	}
}

func TestEventDotPassesEveryKnownCounter(t *testing.T) {
	const r ReplicaID = 4
	current := []Sibling[int]{
		{Clock: dvv(4, 5)},
		{Clock: dvv(2, 3, 4, 7)}, // r's counter 7 is only in a context
	}
	ctx := vv(4, 2, 9, 1)
	d, err := Event(current, ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if d.Dot != (Dot{Replica: r, Counter: 8}) {
		t.Fatalf("Event dot = %v, want 4:8 (past the 7 in a sibling's context)", d.Dot)
	}
	d2, _ := Event(current, vv(4, 11), r)
	if d2.Dot.Counter != 12 {
		t.Fatalf("Event dot = %v, want 4:12 (past the client's context)", d2.Dot)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("Event produced an invalid clock: %v", err)
	}
	ctx.Set(9, 100)
	if d.Context.Get(9) != 1 {
		t.Fatal("the new clock aliases the client's context")
	}
}

func TestEventOverflow(t *testing.T) {
	current := []Sibling[int]{{Clock: dvv(1, math.MaxUint64)}}
	if _, err := Event(current, VersionVector{}, 1); !errors.Is(err, ErrDotOverflow) {
		t.Fatalf("Event at the last counter: err = %v, want ErrDotOverflow", err)
	}
	if _, err := Put(current, vv(1, math.MaxUint64), 2, 0); err != nil {
		t.Fatalf("another replica's counter is not at the limit: %v", err)
	}
	if _, err := Put(nil, vv(1, math.MaxUint64), 1, 0); !errors.Is(err, ErrDotOverflow) {
		t.Fatalf("Put with a context at the last counter: err = %v, want ErrDotOverflow", err)
	}
}

func TestSyncKeepsConcurrentDropsSuperseded(t *testing.T) {
	x := []Sibling[string]{{Clock: dvv(1, 1), Value: "a1"}, {Clock: dvv(1, 2), Value: "a2"}}
	y := []Sibling[string]{{Clock: dvv(2, 1, 1, 1), Value: "b1"}, {Clock: dvv(1, 2), Value: "a2 copy"}}
	xb, yb := slices.Clone(x), slices.Clone(y)
	got := Sync(x, y)
	if want := []string{"a2", "b1"}; !slices.Equal(values(got), want) {
		t.Fatalf("Sync = %v, want %v (a1 superseded by b1, a2 once, from the first set)", values(got), want)
	}
	if !slices.Equal(values(x), values(xb)) || !slices.Equal(values(y), values(yb)) {
		t.Fatal("Sync modified its arguments")
	}
	// The same 40 versions on both sides, listed in opposite orders: every
	// copy kept must come from the first argument.
	var fromA, fromB []Sibling[string]
	for i := range 40 {
		d := dvv(uint64(i%7+1), uint64(i+1))
		fromA = append(fromA, Sibling[string]{Clock: d, Value: "a"})
		fromB = slices.Insert(fromB, 0, Sibling[string]{Clock: d, Value: "b"})
	}
	if got := Sync(fromA, fromB); len(got) != 40 || slices.Contains(values(got), "b") {
		t.Fatalf("Sync of equal sets kept %d versions %v, want 40, all from the first set", len(got), values(got))
	}
	if got := Sync[string](nil, nil); len(got) != 0 {
		t.Fatalf("Sync of two empty sets = %v", got)
	}
}

// TestPartialReplicationLosesWrites pins the hazard in the package
// documentation: shipping one new version instead of the coordinator's whole
// set gives a reader a context that claims a gap, and its write then
// discards a version it never saw. Whole-set replication keeps it.
func TestPartialReplicationLosesWrites(t *testing.T) {
	const a ReplicaID = 1
	var atA []Sibling[string]
	atA = mustPut(t, atA, VersionVector{}, a, "a1")
	atA = mustPut(t, atA, VersionVector{}, a, "a2")

	partialB := Sync(nil, atA[1:]) // only the newest version
	lost := mustPut(t, atA, Join(partialB), a, "w")
	if got := values(lost); !slices.Equal(got, []string{"w"}) {
		t.Fatalf("with partial replication got %v; the hazard text says a1 is lost", got)
	}

	wholeB := Sync(nil, atA)
	kept := mustPut(t, atA, Join(wholeB), a, "w")
	if got := values(kept); !slices.Equal(got, []string{"w"}) {
		t.Fatalf("a reader of the whole set saw a1 and a2, so its write replaces both; got %v", got)
	}
	if got := values(wholeB); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Fatalf("whole-set replication must deliver both siblings to the reader, got %v", got)
	}
}
