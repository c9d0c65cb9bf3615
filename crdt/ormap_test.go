package crdt

import (
	"errors"
	"slices"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func hset(t *testing.T, m *ORMap[MVRegister], r clock.ReplicaID, at clock.Timestamp, f, v string) ORMap[MVRegister] {
	t.Helper()
	d, err := m.Apply(f, func(reg *MVRegister) (MVRegister, error) { return reg.Write(r, at, []byte(v)) })
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func hget(m ORMap[MVRegister], f string) (string, bool) {
	reg, ok := m.Get(f)
	if !ok {
		return "", false
	}
	v, _ := reg.Last()
	return string(v), true
}

func TestORMapRemovedFieldIsNotResurrectedByAStaleReplica(t *testing.T) {
	var a, b ORMap[MVRegister]
	b.Merge(hset(t, &a, 1, ts(1, 0), "f", "v"))
	b.Merge(hset(t, &a, 1, ts(2, 0), "g", "w"))
	a.Remove("f")
	a.Merge(b)
	b.Merge(a)
	for name, m := range map[string]ORMap[MVRegister]{"a": a, "b": b} {
		if got := m.Fields(); !slices.Equal(got, []string{"g"}) {
			t.Errorf("%s: Fields = %q, want [g]", name, got)
		}
	}
}

func TestORMapConcurrentUpdateAndRemoveUpdateWins(t *testing.T) {
	var a, b ORMap[MVRegister]
	b.Merge(hset(t, &a, 1, ts(1, 0), "f", "old"))
	rm := a.Remove("f")
	up := hset(t, &b, 2, ts(2, 0), "f", "new")
	a.Merge(up)
	b.Merge(rm)
	for name, m := range map[string]ORMap[MVRegister]{"a": a, "b": b} {
		if v, ok := hget(m, "f"); !ok || v != "new" {
			t.Errorf("%s: f = %q, %v; want new", name, v, ok)
		}
	}
}

// TestORMapRemovedValueDoesNotComeBackThroughClockSkew shows why hash
// fields are causal registers and not plain LWW registers: the value a
// remove saw stays gone even if its timestamp is higher than a later
// write's.
func TestORMapRemovedValueDoesNotComeBackThroughClockSkew(t *testing.T) {
	var a, b ORMap[MVRegister]
	b.Merge(hset(t, &a, 1, ts(100, 0), "f", "v1")) // a's clock runs ahead
	stale := a.Clone()
	b.Remove("f")
	hset(t, &b, 2, ts(50, 0), "f", "v2")
	b.Merge(stale)
	a.Merge(b)
	for name, m := range map[string]ORMap[MVRegister]{"a": a, "b": b} {
		if v, _ := hget(m, "f"); v != "v2" {
			t.Errorf("%s: f = %q, want v2", name, v)
		}
	}
}

func TestORMapOfSetsRemovesOnlyWhatItSaw(t *testing.T) {
	add := func(m *ORMap[ORSet], r clock.ReplicaID, f, e string) ORMap[ORSet] {
		d, err := m.Apply(f, func(s *ORSet) (ORSet, error) { return s.Add(r, e) })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var a, b ORMap[ORSet]
	b.Merge(add(&a, 1, "f", "x"))
	rm := a.Remove("f")
	d := add(&b, 2, "f", "y") // concurrent with the field's removal
	a.Merge(d)
	b.Merge(rm)
	for name, m := range map[string]ORMap[ORSet]{"a": a, "b": b} {
		s, ok := m.Get("f")
		if !ok || !slices.Equal(s.Elements(), []string{"y"}) {
			t.Errorf("%s: f = %q, %v; want [y]", name, s.Elements(), ok)
		}
	}
	// Removing the last element of a field removes the field.
	if _, err := a.Apply("f", func(s *ORSet) (ORSet, error) { return s.Remove("y"), nil }); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 {
		t.Fatalf("field with no element still present: %q", a.Fields())
	}
}

func TestORMapCounterFieldResetsOnRemove(t *testing.T) {
	incr := func(m *ORMap[CausalCounter], r clock.ReplicaID, f string, n int64) ORMap[CausalCounter] {
		d, err := m.Apply(f, func(c *CausalCounter) (CausalCounter, error) { return c.Add(r, n) })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	value := func(m ORMap[CausalCounter], f string) int64 {
		c, _ := m.Get(f)
		v, err := c.Value()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var a, b ORMap[CausalCounter]
	b.Merge(incr(&a, 1, "hits", 5))
	a.Merge(incr(&b, 2, "hits", 3))
	if value(a, "hits") != 8 || value(b, "hits") != 8 {
		t.Fatalf("hits = %d / %d, want 8", value(a, "hits"), value(b, "hits"))
	}
	stale := b.Clone()
	a.Remove("hits")
	a.Merge(stale)
	if a.Len() != 0 {
		t.Fatalf("removed counter field is back: %d", value(a, "hits"))
	}
	incr(&a, 1, "hits", 1)
	if value(a, "hits") != 1 {
		t.Fatalf("re-created counter = %d, want 1", value(a, "hits"))
	}
}

func TestORMapApplyErrorChangesNothing(t *testing.T) {
	var m ORMap[MVRegister]
	hset(t, &m, 1, ts(1, 0), "f", "v")
	was := m.Clone()
	boom := errors.New("boom")
	_, err := m.Apply("f", func(reg *MVRegister) (MVRegister, error) {
		reg.Write(1, ts(2, 0), []byte("changed the view"))
		return MVRegister{}, boom
	})
	if !errors.Is(err, boom) || !m.Equal(was) {
		t.Fatalf("Apply = %v; map changed: %v", err, !m.Equal(was))
	}
	_, err = m.Apply(string(make([]byte, MaxValueSize+1)), func(reg *MVRegister) (MVRegister, error) {
		return reg.Write(1, ts(2, 0), nil)
	})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized field name: err = %v", err)
	}
}

func TestORMapGetAndMergeDoNotAlias(t *testing.T) {
	var a, b ORMap[MVRegister]
	d := hset(t, &b, 2, ts(1, 0), "f", "v")
	a.Merge(d)
	d.fields["f"].entries[0].val.value[0] = 'X'
	reg, _ := a.Get("f")
	reg.Write(1, ts(9, 0), []byte("through Get"))
	if v, _ := hget(a, "f"); v != "v" {
		t.Fatalf("f = %q: the map shares storage with a delta or a Get result", v)
	}
	if !b.Equal(a) {
		t.Fatalf("replicas differ")
	}
}

func TestORMapClearKeepsConcurrentUpdates(t *testing.T) {
	var a, b ORMap[MVRegister]
	b.Merge(hset(t, &a, 1, ts(1, 0), "f", "v"))
	b.Merge(hset(t, &a, 1, ts(1, 1), "g", "w"))
	clr := a.Clear()
	up := hset(t, &b, 2, ts(2, 0), "g", "w2")
	a.Merge(up)
	b.Merge(clr)
	for name, m := range map[string]ORMap[MVRegister]{"a": a, "b": b} {
		if got := m.Fields(); !slices.Equal(got, []string{"g"}) {
			t.Errorf("%s: Fields = %q, want [g]", name, got)
		}
	}
}

func TestContextAccessorsReturnCopies(t *testing.T) {
	var s ORSet
	s.Add(1, "x")
	var mv MVRegister
	mv.Write(1, ts(1, 0), []byte("v"))
	var c CausalCounter
	c.Add(1, 3)
	var m ORMap[MVRegister]
	hset(t, &m, 1, ts(1, 0), "f", "v")
	for name, get := range map[string]func() CausalContext{
		"ORSet": s.Context, "MVRegister": mv.Context, "CausalCounter": c.Context, "ORMap": m.Context,
	} {
		ctx := get()
		if !ctx.Contains(dot(1, 1)) || ctx.Contains(dot(1, 2)) {
			t.Errorf("%s: Context = %v, want {1:1}", name, ctx)
		}
		ctx.Add(dot(1, 2))
		if get().Contains(dot(1, 2)) {
			t.Errorf("%s: changing the returned context changed the state", name)
		}
	}
}
