package crdt

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/clock"
)

// One property test per type; each runs the subtests of checkProperties
// (merge laws, delta merge = state merge, convergence under any delivery
// order with duplicates, encoding round trip) with the type's reference
// model checked after every step of every run.

func TestCausalContextProperties(t *testing.T) {
	checkProperties[CausalContext](t, contextAdapter())
}

func TestGCounterProperties(t *testing.T) { checkProperties[GCounter](t, gCounterAdapter()) }

func TestPNCounterProperties(t *testing.T) { checkProperties[PNCounter](t, pnCounterAdapter()) }

func TestLWWRegisterProperties(t *testing.T) { checkProperties[LWWRegister](t, lwwAdapter()) }

func TestMVRegisterProperties(t *testing.T) { checkProperties[MVRegister](t, mvAdapter()) }

func TestORSetProperties(t *testing.T) { checkProperties[ORSet](t, orSetAdapter()) }

func TestCausalCounterProperties(t *testing.T) {
	checkProperties[CausalCounter](t, causalCounterAdapter())
}

func TestORMapOfMVRegisterProperties(t *testing.T) {
	checkProperties[ORMap[MVRegister]](t, orMapMVAdapter())
}

func TestORMapOfORSetProperties(t *testing.T) {
	checkProperties[ORMap[ORSet]](t, orMapSetAdapter())
}

func TestORMapOfCausalCounterProperties(t *testing.T) {
	checkProperties[ORMap[CausalCounter]](t, orMapCounterAdapter())
}

// Small domains, so that operations collide often.
var (
	genValue = rapid.SampledFrom([]string{"", "a", "b", "c"})
	genElem  = rapid.SampledFrom([]string{"", "x", "y", "z"})
	genField = rapid.SampledFrom([]string{"", "f", "g"})
)

func genTimestamp(t *rapid.T) clock.Timestamp {
	return clock.Timestamp{
		WallTime: rapid.Int64Range(1, 4).Draw(t, "wall"),
		Logical:  rapid.Uint32Range(0, 1).Draw(t, "logical"),
	}
}

func must[T any](t *rapid.T, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("mutator: %v", err)
	}
	return v
}

func keyIs(k string) func(op) bool { return func(o op) bool { return o.key == k } }

func contextAdapter() adapter[CausalContext] {
	return adapter[CausalContext]{
		kind:   KindCausalContext,
		decode: DecodeCausalContext,
		do: func(t *rapid.T, s *sim[CausalContext], r int) (CausalContext, op) {
			of := replicaID(rapid.IntRange(0, 3).Draw(t, "of"))
			d := clock.Dot{Replica: of, Counter: rapid.Uint64Range(1, 6).Draw(t, "counter")}
			if rapid.Bool().Draw(t, "next") {
				d = s.states[r].NextDot(of)
			}
			s.states[r].Add(d)
			return contextOf([]clock.Dot{d}), op{dot: d}
		},
		check: func(t *rapid.T, s *sim[CausalContext], r int) {
			want := map[clock.Dot]bool{}
			top := map[clock.ReplicaID]uint64{}
			for id := range s.received[r] {
				d := s.events[id].op.dot
				want[d] = true
				top[d.Replica] = max(top[d.Replica], d.Counter)
			}
			c := s.states[r]
			for i := range 4 {
				of := replicaID(i)
				for n := uint64(1); n <= top[of]+2; n++ {
					d := clock.Dot{Replica: of, Counter: n}
					if c.Contains(d) != want[d] {
						t.Fatalf("replica %d: Contains(%v) = %v, want %v (context %v)", r, d, !want[d], want[d], c)
					}
				}
				if got := c.NextDot(of); got.Counter != top[of]+1 {
					t.Fatalf("replica %d: NextDot(%d) = %v, want counter %d", r, of, got, top[of]+1)
				}
			}
		},
	}
}

// counterModel is the value a G- or PN-counter replica should have. A delta
// carries its origin's running total of increments (or, for a negative
// amount, of decrements), so receiving an origin's k-th increment brings in
// all its increments up to the k-th, and likewise for decrements. Adding 0
// changes nothing and its delta is empty, so it brings in nothing.
func counterModel[T any](s *sim[T], r int) int64 {
	var sum int64
	for origin := range s.states {
		for _, sign := range []int64{1, -1} {
			last := -1
			for id := range s.received[r] {
				if o := s.events[id].op; o.origin == origin && o.amount*sign > 0 {
					last = max(last, id)
				}
			}
			for id := 0; id <= last; id++ {
				if o := s.events[id].op; o.origin == origin && o.amount*sign > 0 {
					sum += o.amount
				}
			}
		}
	}
	return sum
}

func gCounterAdapter() adapter[GCounter] {
	return adapter[GCounter]{
		kind:   KindGCounter,
		decode: DecodeGCounter,
		do: func(t *rapid.T, s *sim[GCounter], r int) (GCounter, op) {
			n := rapid.Uint64Range(0, 20).Draw(t, "n")
			d, err := s.states[r].Increment(replicaID(r), n)
			return must(t, d, err), op{amount: int64(n)}
		},
		check: func(t *rapid.T, s *sim[GCounter], r int) {
			got, err := s.states[r].Value()
			if want := counterModel(s, r); err != nil || got != uint64(want) {
				t.Fatalf("replica %d: Value = %d, %v; want %d", r, got, err, want)
			}
		},
	}
}

func pnCounterAdapter() adapter[PNCounter] {
	return adapter[PNCounter]{
		kind:   KindPNCounter,
		decode: DecodePNCounter,
		do: func(t *rapid.T, s *sim[PNCounter], r int) (PNCounter, op) {
			n := rapid.Int64Range(-20, 20).Draw(t, "n")
			d, err := s.states[r].Add(replicaID(r), n)
			return must(t, d, err), op{amount: n}
		},
		check: func(t *rapid.T, s *sim[PNCounter], r int) {
			got, err := s.states[r].Value()
			if want := counterModel(s, r); err != nil || got != want {
				t.Fatalf("replica %d: Value = %d, %v; want %d", r, got, err, want)
			}
		},
	}
}

func lwwAdapter() adapter[LWWRegister] {
	return adapter[LWWRegister]{
		kind:   KindLWWRegister,
		decode: DecodeLWWRegister,
		do: func(t *rapid.T, s *sim[LWWRegister], r int) (LWWRegister, op) {
			ts, v := genTimestamp(t), genValue.Draw(t, "value")
			d, err := s.states[r].Set(replicaID(r), ts, []byte(v))
			return must(t, d, err), op{ts: ts, value: v}
		},
		check: func(t *rapid.T, s *sim[LWWRegister], r int) {
			l := s.states[r]
			var best *op
			for id := range s.received[r] {
				o := &s.events[id].op
				if best == nil || lwwModelOrder(*o, *best) > 0 {
					best = o
				}
			}
			if best == nil {
				if !l.IsZero() {
					t.Fatalf("replica %d: register set without a write", r)
				}
				return
			}
			if l.Timestamp() != best.ts || l.Replica() != replicaID(best.origin) || string(l.Value()) != best.value {
				t.Fatalf("replica %d: holds (%v, %d, %q), want (%v, %d, %q)", r,
					l.Timestamp(), l.Replica(), l.Value(), best.ts, replicaID(best.origin), best.value)
			}
		},
	}
}

// lwwModelOrder orders writes by timestamp, replica, value.
func lwwModelOrder(a, b op) int {
	if c := a.ts.Compare(b.ts); c != 0 {
		return c
	}
	if c := cmp.Compare(replicaID(a.origin), replicaID(b.origin)); c != 0 {
		return c
	}
	return strings.Compare(a.value, b.value)
}

// mvModel returns the visible writes' values in last-writer-wins order.
func mvModel[T any](s *sim[T], r int, scope func(op) bool) []string {
	var ops []op
	for _, id := range s.visible(r, scope) {
		ops = append(ops, s.events[id].op)
	}
	slices.SortFunc(ops, lwwModelOrder)
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.value
	}
	return out
}

func checkMV(t *rapid.T, r int, m MVRegister, want []string) {
	t.Helper()
	var got []string
	for _, v := range m.Values() {
		got = append(got, string(v))
	}
	if !slices.Equal(got, want) || m.Len() != len(want) {
		t.Fatalf("replica %d: Values = %q, want %q", r, got, want)
	}
	last, ok := m.Last()
	if ok != (len(want) > 0) || (ok && string(last) != want[len(want)-1]) {
		t.Fatalf("replica %d: Last = %q, %v; want the last of %q", r, last, ok, want)
	}
}

func mvAdapter() adapter[MVRegister] {
	return adapter[MVRegister]{
		kind:   KindMVRegister,
		decode: DecodeMVRegister,
		do: func(t *rapid.T, s *sim[MVRegister], r int) (MVRegister, op) {
			ts, v := genTimestamp(t), genValue.Draw(t, "value")
			o := op{write: true, ts: ts, value: v, observed: s.observe(r, everything)}
			d, err := s.states[r].Write(replicaID(r), ts, []byte(v))
			return must(t, d, err), o
		},
		check: func(t *rapid.T, s *sim[MVRegister], r int) {
			checkMV(t, r, s.states[r], mvModel(s, r, everything))
		},
	}
}

// setModel returns the keys of the visible adds, sorted and distinct.
func setModel[T any](s *sim[T], r int, scope func(op) bool) []string {
	var keys []string
	for _, id := range s.visible(r, scope) {
		keys = append(keys, s.events[id].op.key)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func orSetAdapter() adapter[ORSet] {
	return adapter[ORSet]{
		kind:   KindORSet,
		decode: DecodeORSet,
		do: func(t *rapid.T, s *sim[ORSet], r int) (ORSet, op) {
			set := &s.states[r]
			e := genElem.Draw(t, "elem")
			switch a := rapid.IntRange(0, 9).Draw(t, "kind"); {
			case a < 6:
				o := op{write: true, key: e, observed: s.observe(r, keyIs(e))}
				d, err := set.Add(replicaID(r), e)
				return must(t, d, err), o
			case a < 9:
				o := op{key: e, observed: s.observe(r, keyIs(e))}
				return set.Remove(e), o
			default:
				return set.Clear(), op{observed: s.observe(r, everything)}
			}
		},
		check: func(t *rapid.T, s *sim[ORSet], r int) {
			set := s.states[r]
			want := setModel(s, r, everything)
			if got := set.Elements(); !slices.Equal(got, want) || set.Len() != len(want) {
				t.Fatalf("replica %d: Elements = %q, want %q", r, got, want)
			}
			for _, e := range []string{"", "x", "y", "z"} {
				if set.Contains(e) != slices.Contains(want, e) {
					t.Fatalf("replica %d: Contains(%q) wrong", r, e)
				}
			}
		},
	}
}

// ownEntries is what an increment on replica r replaces: r's own visible
// contributions in scope.
func ownEntries[T any](s *sim[T], r int, scope func(op) bool) (map[int]bool, int64) {
	observed := s.observe(r, func(o op) bool { return o.origin == r && scope(o) })
	var sum int64
	for id := range observed {
		sum += s.events[id].op.amount
	}
	return observed, sum
}

func causalCounterModel[T any](s *sim[T], r int, scope func(op) bool) int64 {
	var sum int64
	for _, id := range s.visible(r, scope) {
		sum += s.events[id].op.amount
	}
	return sum
}

func causalCounterAdapter() adapter[CausalCounter] {
	return adapter[CausalCounter]{
		kind:   KindCausalCounter,
		decode: DecodeCausalCounter,
		do: func(t *rapid.T, s *sim[CausalCounter], r int) (CausalCounter, op) {
			c := &s.states[r]
			if rapid.IntRange(0, 9).Draw(t, "kind") < 3 {
				return c.Reset(), op{observed: s.observe(r, everything)}
			}
			n := rapid.Int64Range(-5, 5).Draw(t, "n")
			var o op
			if n != 0 {
				observed, own := ownEntries(s, r, everything)
				o = op{write: true, amount: own + n, observed: observed}
			}
			d, err := c.Add(replicaID(r), n)
			return must(t, d, err), o
		},
		check: func(t *rapid.T, s *sim[CausalCounter], r int) {
			got, err := s.states[r].Value()
			if want := causalCounterModel(s, r, everything); err != nil || got != want {
				t.Fatalf("replica %d: Value = %d, %v; want %d", r, got, err, want)
			}
		},
	}
}

// mapDo performs the map-level operations shared by the OR-Map adapters:
// remove a field, or clear the map. inField tells whether an op belongs to a
// field.
func mapDo[V Embeddable[V]](t *rapid.T, s *sim[ORMap[V]], r int, inField func(o op, f string) bool) (ORMap[V], op) {
	m := &s.states[r]
	if rapid.IntRange(0, 2).Draw(t, "map-op") < 2 {
		f := genField.Draw(t, "field")
		return m.Remove(f), op{observed: s.observe(r, func(o op) bool { return inField(o, f) })}
	}
	return m.Clear(), op{observed: s.observe(r, everything)}
}

func orMapMVAdapter() adapter[ORMap[MVRegister]] {
	return adapter[ORMap[MVRegister]]{
		kind:   KindORMap,
		decode: DecodeORMap[MVRegister],
		do: func(t *rapid.T, s *sim[ORMap[MVRegister]], r int) (ORMap[MVRegister], op) {
			if rapid.IntRange(0, 9).Draw(t, "kind") < 4 {
				return mapDo(t, s, r, func(o op, f string) bool { return o.key == f })
			}
			f, ts, v := genField.Draw(t, "field"), genTimestamp(t), genValue.Draw(t, "value")
			o := op{write: true, key: f, ts: ts, value: v, observed: s.observe(r, keyIs(f))}
			d, err := s.states[r].Apply(f, func(reg *MVRegister) (MVRegister, error) {
				return reg.Write(replicaID(r), ts, []byte(v))
			})
			return must(t, d, err), o
		},
		check: func(t *rapid.T, s *sim[ORMap[MVRegister]], r int) {
			m := s.states[r]
			want := setModel(s, r, everything)
			if got := m.Fields(); !slices.Equal(got, want) || m.Len() != len(want) {
				t.Fatalf("replica %d: Fields = %q, want %q", r, got, want)
			}
			for _, f := range []string{"", "f", "g"} {
				reg, ok := m.Get(f)
				if ok != slices.Contains(want, f) {
					t.Fatalf("replica %d: Get(%q) present = %v", r, f, ok)
				}
				checkMV(t, r, reg, mvModel(s, r, keyIs(f)))
			}
		},
	}
}

func fieldOf(key string) string {
	f, _, _ := strings.Cut(key, "/")
	return f
}

func orMapSetAdapter() adapter[ORMap[ORSet]] {
	inField := func(o op, f string) bool { return fieldOf(o.key) == f }
	return adapter[ORMap[ORSet]]{
		kind:   KindORMap,
		decode: DecodeORMap[ORSet],
		do: func(t *rapid.T, s *sim[ORMap[ORSet]], r int) (ORMap[ORSet], op) {
			if rapid.IntRange(0, 9).Draw(t, "kind") < 3 {
				return mapDo(t, s, r, inField)
			}
			f, e := genField.Draw(t, "field"), genElem.Draw(t, "elem")
			k := f + "/" + e
			add := rapid.IntRange(0, 2).Draw(t, "add") < 2
			o := op{write: add, key: k, observed: s.observe(r, keyIs(k))}
			d, err := s.states[r].Apply(f, func(set *ORSet) (ORSet, error) {
				if add {
					return set.Add(replicaID(r), e)
				}
				return set.Remove(e), nil
			})
			return must(t, d, err), o
		},
		check: func(t *rapid.T, s *sim[ORMap[ORSet]], r int) {
			m := s.states[r]
			var fields []string
			for _, k := range setModel(s, r, everything) {
				fields = append(fields, fieldOf(k))
			}
			fields = slices.Compact(fields)
			if got := m.Fields(); !slices.Equal(got, fields) {
				t.Fatalf("replica %d: Fields = %q, want %q", r, got, fields)
			}
			for _, f := range fields {
				set, _ := m.Get(f)
				var want []string
				for _, k := range setModel(s, r, func(o op) bool { return fieldOf(o.key) == f }) {
					_, e, _ := strings.Cut(k, "/")
					want = append(want, e)
				}
				if got := set.Elements(); !slices.Equal(got, want) {
					t.Fatalf("replica %d: field %q = %q, want %q", r, f, got, want)
				}
			}
		},
	}
}

func orMapCounterAdapter() adapter[ORMap[CausalCounter]] {
	return adapter[ORMap[CausalCounter]]{
		kind:   KindORMap,
		decode: DecodeORMap[CausalCounter],
		do: func(t *rapid.T, s *sim[ORMap[CausalCounter]], r int) (ORMap[CausalCounter], op) {
			if rapid.IntRange(0, 9).Draw(t, "kind") < 2 {
				return mapDo(t, s, r, func(o op, f string) bool { return o.key == f })
			}
			f := genField.Draw(t, "field")
			n := rapid.Int64Range(-5, 5).Draw(t, "n")
			reset := rapid.IntRange(0, 4).Draw(t, "reset") == 0
			var o op
			switch {
			case reset:
				o = op{observed: s.observe(r, keyIs(f))}
			case n != 0:
				observed, own := ownEntries(s, r, keyIs(f))
				o = op{write: true, key: f, amount: own + n, observed: observed}
			}
			d, err := s.states[r].Apply(f, func(c *CausalCounter) (CausalCounter, error) {
				if reset {
					return c.Reset(), nil
				}
				return c.Add(replicaID(r), n)
			})
			return must(t, d, err), o
		},
		check: func(t *rapid.T, s *sim[ORMap[CausalCounter]], r int) {
			m := s.states[r]
			var want []string
			for _, f := range []string{"", "f", "g"} {
				sum := causalCounterModel(s, r, keyIs(f))
				present := slices.ContainsFunc(s.visible(r, keyIs(f)), func(id int) bool { return s.events[id].op.amount != 0 })
				if present {
					want = append(want, f)
				}
				c, ok := m.Get(f)
				got, err := c.Value()
				if ok != present || err != nil || got != sum {
					t.Fatalf("replica %d: field %q = %d, %v, present %v; want %d, present %v", r, f, got, err, ok, sum, present)
				}
			}
			if got := m.Fields(); !slices.Equal(got, want) {
				t.Fatalf("replica %d: Fields = %q, want %q", r, got, want)
			}
		},
	}
}
