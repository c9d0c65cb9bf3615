package crdt

import (
	"errors"
	"math"
	"testing"
)

func TestGCounterCountsEachReplicaOnce(t *testing.T) {
	var a, b GCounter
	da, _ := a.Increment(1, 5)
	if _, err := b.Increment(2, 3); err != nil {
		t.Fatal(err)
	}
	b.Merge(da)
	b.Merge(da) // a duplicate changes nothing
	a.Merge(b)
	for name, c := range map[string]GCounter{"a": a, "b": b} {
		if v, err := c.Value(); err != nil || v != 8 {
			t.Errorf("%s: Value = %d, %v; want 8", name, v, err)
		}
	}
	if d, err := a.Increment(1, 0); err != nil || !d.IsZero() {
		t.Errorf("Increment by 0 = %v, %v; want the zero delta", d, err)
	}
}

func TestGCounterOverflow(t *testing.T) {
	var g GCounter
	if _, err := g.Increment(1, math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	was := g.Clone()
	if _, err := g.Increment(1, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("own count past MaxUint64: err = %v", err)
	}
	if _, err := g.Increment(2, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("value past MaxUint64: err = %v", err)
	}
	if !g.Equal(was) {
		t.Fatalf("a failed increment changed the counter")
	}
	// Concurrent increments can overflow the merged value.
	var a, b GCounter
	da, _ := a.Increment(1, math.MaxUint64/2+1)
	db, _ := b.Increment(2, math.MaxUint64/2+1)
	a.Merge(db)
	b.Merge(da)
	if _, err := a.Value(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("merged Value: err = %v", err)
	}
}

func TestPNCounterOverflowIsAnErrorLikeRedis(t *testing.T) {
	var c PNCounter
	if _, err := c.Add(1, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	was := c.Clone()
	if _, err := c.Add(1, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("INCR past MaxInt64: err = %v", err)
	}
	if !c.Equal(was) {
		t.Fatalf("a failed Add changed the counter")
	}
	if _, err := c.Add(1, math.MinInt64); err != nil {
		t.Fatalf("MaxInt64 + MinInt64: %v", err)
	}
	if v, _ := c.Value(); v != -1 {
		t.Fatalf("Value = %d, want -1", v)
	}
	if _, err := c.Add(2, math.MinInt64); !errors.Is(err, ErrOverflow) {
		t.Fatalf("-1 + MinInt64: err = %v", err)
	}

	// Each replica's increments and decrements are uint64 totals; they run
	// out even though the value stays near 0.
	var d PNCounter
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		if _, err = d.Add(1, math.MaxInt64); err == nil {
			_, err = d.Add(1, -math.MaxInt64)
		}
	}
	if !errors.Is(err, ErrOverflow) {
		t.Fatalf("exhausted increments: err = %v", err)
	}

	// Concurrent increments take the merged value out of range; a
	// decrement may bring it back.
	var a, b PNCounter
	da, _ := a.Add(1, math.MaxInt64)
	db, _ := b.Add(2, math.MaxInt64)
	a.Merge(db)
	b.Merge(da)
	if _, err := a.Value(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("merged Value: err = %v", err)
	}
	if _, err := a.Add(1, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add while out of range and staying out: err = %v", err)
	}
	if _, err := a.Add(1, -math.MaxInt64); err != nil {
		t.Fatalf("Add that brings the value back: %v", err)
	}
	if v, err := a.Value(); err != nil || v != math.MaxInt64 {
		t.Fatalf("Value = %d, %v; want MaxInt64", v, err)
	}
}

func TestCausalCounterResetIsNotUndoneByAStaleReplica(t *testing.T) {
	var a, b CausalCounter
	d1, _ := a.Add(1, 5)
	b.Merge(d1)
	stale := b.Clone()
	reset := b.Reset()
	a.Merge(reset)
	a.Merge(stale) // still holds 1's contribution of 5
	b.Merge(stale)
	for name, c := range map[string]CausalCounter{"a": a, "b": b} {
		if v, _ := c.Value(); v != 0 {
			t.Errorf("%s: Value = %d after reset and stale merge, want 0", name, v)
		}
	}
	if _, err := a.Add(1, 2); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Value(); v != 2 {
		t.Errorf("Value after reset then +2 = %d, want 2", v)
	}
}

// TestCausalCounterConcurrentIncrementKeepsItsReplicasContribution pins the
// documented semantics: an increment concurrent with a reset carries its
// replica's whole contribution, so the reset does not take effect for it.
func TestCausalCounterConcurrentIncrementKeepsItsReplicasContribution(t *testing.T) {
	var a, b, c CausalCounter
	da, _ := a.Add(1, 5)
	dc, _ := c.Add(3, 7)
	b.Merge(da)
	b.Merge(dc)
	reset := b.Reset()
	inc, _ := a.Add(1, 1) // concurrent with the reset
	a.Merge(reset)
	b.Merge(inc)
	c.Merge(da)
	c.Merge(inc)
	c.Merge(reset)
	for name, x := range map[string]CausalCounter{"a": a, "b": b, "c": c} {
		if v, _ := x.Value(); v != 6 {
			t.Errorf("%s: Value = %d, want 6 (replica 1's 5+1 survive, replica 3's 7 is reset)", name, v)
		}
	}
}

func TestCausalCounterOverflow(t *testing.T) {
	var a, b CausalCounter
	if _, err := a.Add(1, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	was := a.Clone()
	if _, err := a.Add(1, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("past MaxInt64: err = %v", err)
	}
	if !a.Equal(was) {
		t.Fatalf("a failed Add changed the counter")
	}
	// Replica 2 brings the value to 0, but replica 1's own contribution
	// still cannot grow past MaxInt64.
	db, _ := b.Add(2, -math.MaxInt64)
	a.Merge(db)
	if _, err := a.Add(1, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("own contribution past MaxInt64: err = %v", err)
	}
	var x, y CausalCounter
	dx, _ := x.Add(1, math.MaxInt64)
	y.Add(2, math.MaxInt64)
	y.Merge(dx)
	if _, err := y.Value(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("merged Value: err = %v", err)
	}
}

func TestWideSum(t *testing.T) {
	var s wideSum
	s.addUint(math.MaxUint64)
	s.addUint(1)
	if _, ok := s.uint64(); ok {
		t.Fatalf("MaxUint64 + 1 fits in uint64")
	}
	s.subUint(2)
	if v, ok := s.uint64(); !ok || v != math.MaxUint64-1 {
		t.Fatalf("MaxUint64 + 1 - 2 = %d, %v", v, ok)
	}
	var n wideSum
	n.addInt(math.MinInt64)
	if v, ok := n.int64(); !ok || v != math.MinInt64 {
		t.Fatalf("MinInt64 = %d, %v", v, ok)
	}
	n.addInt(-1)
	if _, ok := n.int64(); ok {
		t.Fatalf("MinInt64 - 1 fits in int64")
	}
	n.addInt(math.MaxInt64)
	n.addInt(2)
	if v, ok := n.int64(); !ok || v != 0 {
		t.Fatalf("MinInt64 - 1 + MaxInt64 + 2 = %d, %v; want 0", v, ok)
	}
	if _, ok := n.uint64(); !ok {
		t.Fatalf("0 does not fit in uint64")
	}
}
