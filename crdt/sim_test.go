package crdt

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/clock"
)

// This file is the harness for the property tests: a random run of 2–4
// replicas of one CRDT type that perform operations and ship what they
// produce (single deltas, again and again, out of order; groups of deltas;
// whole states), checked against a simple reference model after every step.
//
// The reference models know nothing of dots and contexts. They work on the
// operations themselves: each operation records which earlier operations its
// replica could see when it ran (observed), and an add or write is visible at
// a replica if the replica has received it and has received no operation that
// observed it. That is the add-wins rule of the issue: an element is present
// iff some add of it is not followed by a remove (or newer add) that saw it.

// crdtPtr lets generic code call the pointer methods of a state type T.
type crdtPtr[T any] interface {
	*T
	CRDT[T]
}

// op is an operation as the reference models see it. Which fields matter
// depends on the type.
type op struct {
	origin   int             // replica index
	write    bool            // an add or write, visible until observed
	key      string          // what it is about: element, field, field + "/" + element
	value    string          // written value
	ts       clock.Timestamp // write time
	amount   int64           // counter increment, or a causal counter entry
	dot      clock.Dot       // for CausalContext: the dot added
	observed map[int]bool    // ids of operations this one saw (causal types)
}

type event[T any] struct {
	op    op
	delta T
}

// sim is one run: the replicas' states, which events each has received, and
// every event so far (its id is its index).
type sim[T any] struct {
	states   []T
	received []map[int]bool
	events   []event[T]
}

// adapter is what the harness needs to know about one type.
type adapter[T any] struct {
	kind Kind
	// do performs a random operation on replica r and returns its delta and
	// its record for the model (origin is filled in by the harness).
	do func(t *rapid.T, s *sim[T], r int) (T, op)
	// check compares replica r's state with the model of what r received.
	check  func(t *rapid.T, s *sim[T], r int)
	decode func([]byte) (T, error)
}

// replicaID maps a replica index to its ID; IDs are not 0..n-1 so that an
// index used as an ID by mistake shows.
func replicaID(r int) clock.ReplicaID { return clock.ReplicaID(1000 + 37*r) }

// visible returns, in creation order, the ids of the writes in scope that
// replica r has received and that nothing r has received observed.
func (s *sim[T]) visible(r int, scope func(op) bool) []int {
	var out []int
	for id, ev := range s.events {
		if !s.received[r][id] || !ev.op.write || !scope(ev.op) {
			continue
		}
		seen := false
		for other := range s.received[r] {
			if s.events[other].op.observed[id] {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, id)
		}
	}
	return out
}

// observe returns the visible writes in scope as an observed set.
func (s *sim[T]) observe(r int, scope func(op) bool) map[int]bool {
	out := map[int]bool{}
	for _, id := range s.visible(r, scope) {
		out[id] = true
	}
	return out
}

func everything(op) bool { return true }

// runSim performs a random run and checks after every step that the
// mutator returned a correct delta (state before ⊔ delta = state after) and
// that the acting or receiving replica agrees with the model.
func runSim[T any, P crdtPtr[T]](t *rapid.T, a adapter[T]) *sim[T] {
	n := rapid.IntRange(2, 4).Draw(t, "replicas")
	s := &sim[T]{states: make([]T, n), received: make([]map[int]bool, n)}
	for r := range s.received {
		s.received[r] = map[int]bool{}
	}
	steps := rapid.IntRange(0, 30).Draw(t, "steps")
	for range steps {
		r := rapid.IntRange(0, n-1).Draw(t, "replica")
		action := rapid.IntRange(0, 5).Draw(t, "action")
		if action >= 3 && len(s.events) == 0 {
			action = 0
		}
		switch action {
		case 0, 1, 2: // an operation
			before := P(&s.states[r]).Clone()
			delta, o := a.do(t, s, r)
			o.origin = r
			P(&before).Merge(delta)
			if !P(&before).Equal(s.states[r]) {
				t.Fatalf("replica %d: state before the op merged with its delta differs from the state after", r)
			}
			s.events = append(s.events, event[T]{op: o, delta: delta})
			s.received[r][len(s.events)-1] = true
		case 3: // one delta, perhaps again
			s.deliver(r, rapid.IntRange(0, len(s.events)-1).Draw(t, "event"), P(&s.states[r]))
		case 4: // a delta group
			ids := rapid.SliceOfNDistinct(rapid.IntRange(0, len(s.events)-1), 1, 5, rapid.ID[int]).Draw(t, "group")
			var group T
			for _, id := range ids {
				P(&group).Merge(s.events[id].delta)
				s.received[r][id] = true
			}
			P(&s.states[r]).Merge(group)
		case 5: // a whole state, perhaps the replica's own
			from := rapid.IntRange(0, n-1).Draw(t, "from")
			P(&s.states[r]).Merge(s.states[from])
			for id := range s.received[from] {
				s.received[r][id] = true
			}
		}
		a.check(t, s, r)
	}
	return s
}

func (s *sim[T]) deliver(r, id int, state interface{ Merge(T) }) {
	state.Merge(s.events[id].delta)
	s.received[r][id] = true
}

// deliverAll ships every delta to every replica in a random order, with
// some delivered twice.
func deliverAll[T any, P crdtPtr[T]](t *rapid.T, s *sim[T], a adapter[T]) {
	if len(s.events) == 0 {
		return
	}
	all := make([]int, len(s.events))
	for id := range all {
		all[id] = id
	}
	for r := range s.states {
		dups := rapid.SliceOfN(rapid.IntRange(0, len(s.events)-1), 0, 5).Draw(t, "duplicates")
		for _, id := range rapid.Permutation(slices.Concat(all, dups)).Draw(t, "order") {
			s.deliver(r, id, P(&s.states[r]))
		}
		a.check(t, s, r)
	}
}

// checkProperties runs the property tests the issue asks of every type.
func checkProperties[T any, P crdtPtr[T]](t *testing.T, a adapter[T]) {
	t.Run("merge-laws", rapid.MakeCheck(func(t *rapid.T) {
		s := runSim[T, P](t, a)
		pool := slices.Clone(s.states)
		for _, ev := range s.events {
			pool = append(pool, ev.delta)
		}
		pick := func(label string) T { return P(&pool[rapid.IntRange(0, len(pool)-1).Draw(t, label)]).Clone() }
		x, y, z := pick("x"), pick("y"), pick("z")
		join := func(a, b T) T {
			out := P(&a).Clone()
			P(&out).Merge(b)
			return out
		}
		eq := func(a, b T) bool { return P(&a).Equal(b) }
		if !eq(join(x, y), join(y, x)) {
			t.Fatalf("merge is not commutative")
		}
		if !eq(join(join(x, y), z), join(x, join(y, z))) {
			t.Fatalf("merge is not associative")
		}
		if !eq(join(x, x), x) {
			t.Fatalf("merge is not idempotent")
		}
		self := P(&x).Clone()
		P(&self).Merge(self) // the argument shares the receiver's storage
		if !eq(self, x) {
			t.Fatalf("merging a state with itself changed it")
		}
		var zero T
		if !eq(join(x, zero), x) || !eq(join(zero, x), x) {
			t.Fatalf("the zero value is not the identity of merge")
		}
		// Merge must neither change its argument nor keep its storage: go
		// on mutating the receiver and the argument must stay as it was.
		yWas := P(&y).Clone()
		m := join(x, y)
		tmp := &sim[T]{states: []T{m}, received: []map[int]bool{{}}}
		a.do(t, tmp, 0)
		P(&tmp.states[0]).Merge(z)
		if !eq(y, yWas) {
			t.Fatalf("merge changed or kept the storage of its argument")
		}
	}))
	t.Run("delta-merge-equals-state-merge", rapid.MakeCheck(func(t *rapid.T) {
		s := runSim[T, P](t, a)
		for r, state := range s.states {
			ids := slices.Sorted(maps.Keys(s.received[r]))
			dups := rapid.SliceOfN(rapid.SampledFrom(slices.Concat(ids, []int{-1})), 0, 3).Draw(t, "duplicates")
			var one, group T
			for _, id := range rapid.Permutation(slices.Concat(ids, dups)).Draw(t, "order") {
				if id < 0 {
					continue // only there so SampledFrom has a choice
				}
				P(&one).Merge(s.events[id].delta)
				P(&group).Merge(s.events[id].delta)
			}
			var fromGroup T
			P(&fromGroup).Merge(group)
			if !P(&one).Equal(state) || !P(&fromGroup).Equal(state) {
				t.Fatalf("replica %d: the join of the deltas it received differs from its state", r)
			}
		}
	}))
	t.Run("convergence", rapid.MakeCheck(func(t *rapid.T) {
		s := runSim[T, P](t, a)
		deliverAll[T, P](t, s, a)
		want := P(&s.states[0]).AppendBinary(nil)
		for r := 1; r < len(s.states); r++ {
			if !P(&s.states[r]).Equal(s.states[0]) {
				t.Fatalf("replica %d did not converge with replica 0", r)
			}
			if got := P(&s.states[r]).AppendBinary(nil); !bytes.Equal(got, want) {
				t.Fatalf("equal states encode differently:\n%x\n%x", got, want)
			}
		}
	}))
	t.Run("encoding-round-trip", rapid.MakeCheck(func(t *rapid.T) {
		s := runSim[T, P](t, a)
		all := slices.Clone(s.states)
		for _, ev := range s.events {
			all = append(all, ev.delta)
		}
		for _, x := range all {
			b := P(&x).AppendBinary([]byte("prefix"))
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("AppendBinary overwrote its argument")
			}
			b = b[len("prefix"):]
			if k, err := KindOf(b); err != nil || k != a.kind {
				t.Fatalf("KindOf = %v, %v; want %v", k, err, a.kind)
			}
			got, err := a.decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !P(&got).Equal(x) {
				t.Fatalf("decode(encode(x)) != x")
			}
			if b2 := P(&got).AppendBinary(nil); !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs:\n%x\n%x", b, b2)
			}
			if _, err := a.decode(b[:len(b)-1]); err == nil {
				t.Fatalf("decoding a truncated encoding succeeded")
			}
		}
	}))
}
