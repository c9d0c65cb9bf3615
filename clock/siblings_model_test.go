package clock

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// history is an exact causal history: a set of dots.
type history map[Dot]bool

// modelVersion is a version as the reference model sees it: its dot and its
// exact causal history (everything its writer had read, plus its own dot).
type modelVersion struct {
	dot  Dot
	hist history
}

// maximal returns the versions of s whose dot no other version's exact
// history contains: the reference for keepLatest, with no version vectors.
func maximal(s []modelVersion) []modelVersion {
	var out []modelVersion
	for i, x := range s {
		covered := false
		for j, y := range s {
			if i != j && x.dot != y.dot && y.hist[x.dot] {
				covered = true
			}
		}
		dup := slices.ContainsFunc(out, func(o modelVersion) bool { return o.dot == x.dot })
		if !covered && !dup {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(x, y modelVersion) int { return compareDots(x.dot, y.dot) })
	return out
}

// dynamoModel runs a Dynamo-style key with DVV siblings (the code under
// test) beside a reference that tracks exact causal histories as dot sets.
type dynamoModel struct {
	replicas []ReplicaID
	impl     map[ReplicaID][]Sibling[int]
	ref      map[ReplicaID][]modelVersion

	// Clients: what each has read, as a context and as an exact history.
	ctx  []VersionVector
	seen []history

	all    map[Dot]modelVersion // every version ever written
	clocks map[Dot]DVV
	writes int
}

func newDynamoModel(replicas []ReplicaID, clients int) *dynamoModel {
	m := &dynamoModel{
		replicas: replicas,
		impl:     map[ReplicaID][]Sibling[int]{},
		ref:      map[ReplicaID][]modelVersion{},
		ctx:      make([]VersionVector, clients),
		seen:     make([]history, clients),
		all:      map[Dot]modelVersion{},
		clocks:   map[Dot]DVV{},
	}
	for i := range m.seen {
		m.seen[i] = history{}
	}
	return m
}

func (m *dynamoModel) read(t *rapid.T, c int, r ReplicaID) {
	m.ctx[c] = Join(m.impl[r])
	m.seen[c] = history{}
	for _, v := range m.ref[r] {
		maps.Copy(m.seen[c], v.hist)
	}
	// Under whole-set replication the context claims nothing beyond the
	// exact history: every dot up to each counter was really seen.
	for _, d := range m.ctx[c].Dots() {
		for n := uint64(1); n <= d.Counter; n++ {
			if x := (Dot{Replica: d.Replica, Counter: n}); !m.seen[c][x] {
				t.Fatalf("read at %d: context %v claims %v, which the reader never saw", r, m.ctx[c], x)
			}
		}
	}
	if len(m.seen[c]) != countDots(m.ctx[c]) {
		t.Fatalf("read at %d: exact history has %d dots, context %v covers %d", r, len(m.seen[c]), m.ctx[c], countDots(m.ctx[c]))
	}
}

func (m *dynamoModel) write(t *rapid.T, c int, r ReplicaID, blind bool) {
	m.writes++
	val := m.writes
	ctx, seen := m.ctx[c], m.seen[c]
	if blind {
		ctx, seen = VersionVector{}, history{}
	}
	next, err := Put(m.impl[r], ctx, r, val)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	i := slices.IndexFunc(next, func(s Sibling[int]) bool { return s.Value == val })
	if i < 0 {
		t.Fatalf("Put at %d dropped the new write: %v", r, dots(next))
	}
	clk := next[i].Clock
	if clk.Dot.Replica != r {
		t.Fatalf("write at %d got dot %v", r, clk.Dot)
	}
	if _, dup := m.all[clk.Dot]; dup {
		t.Fatalf("dot %v issued twice", clk.Dot)
	}
	v := modelVersion{dot: clk.Dot, hist: maps.Clone(seen)}
	v.hist[clk.Dot] = true
	m.all[clk.Dot] = v
	m.clocks[clk.Dot] = clk
	m.impl[r] = next
	m.ref[r] = maximal(append(slices.Clone(m.ref[r]), v))
}

func (m *dynamoModel) sync(t *rapid.T, from, to ReplicaID) {
	a, b := m.impl[to], m.impl[from]
	got := Sync(a, b)
	if other := Sync(b, a); !slices.Equal(dots(got), dots(other)) {
		t.Fatalf("Sync not commutative: %v vs %v", dots(got), dots(other))
	}
	if again := Sync(got, got); !slices.Equal(dots(again), dots(got)) {
		t.Fatalf("Sync not idempotent: %v vs %v", dots(again), dots(got))
	}
	m.impl[to] = got
	m.ref[to] = maximal(append(slices.Clone(m.ref[to]), m.ref[from]...))
}

func (m *dynamoModel) check(t *rapid.T) {
	for _, r := range m.replicas {
		got := dots(m.impl[r])
		want := make([]Dot, len(m.ref[r]))
		for i, v := range m.ref[r] {
			want[i] = v.dot
		}
		if !slices.Equal(got, want) {
			t.Fatalf("replica %d holds %v, reference %v", r, got, want)
		}
	}
	// Associativity over the three replicas' current sets.
	x, y, z := m.impl[m.replicas[0]], m.impl[m.replicas[1]], m.impl[m.replicas[2]]
	if l, r := dots(Sync(Sync(x, y), z)), dots(Sync(x, Sync(y, z))); !slices.Equal(l, r) {
		t.Fatalf("Sync not associative: %v vs %v", l, r)
	}
	// Every comparison between versions ever written agrees with the exact
	// histories.
	for dx, vx := range m.all {
		for dy, vy := range m.all {
			want := exactOrder(vx, vy)
			if got := m.clocks[dx].Compare(m.clocks[dy]); got != want {
				t.Fatalf("%v.Compare(%v) = %v, exact histories say %v", m.clocks[dx], m.clocks[dy], got, want)
			}
		}
	}
}

// exactOrder compares two versions by their exact histories.
func exactOrder(x, y modelVersion) Ordering {
	xy, yx := subset(x.hist, y.hist), subset(y.hist, x.hist)
	switch {
	case xy && yx:
		return Equal
	case xy:
		return Before
	case yx:
		return After
	}
	return Concurrent
}

func subset(a, b history) bool {
	for d := range a {
		if !b[d] {
			return false
		}
	}
	return true
}

func countDots(v VersionVector) int {
	n := 0
	for _, d := range v.Dots() {
		n += int(d.Counter)
	}
	return n
}

// TestSiblingsModel runs random reads, writes (with the client's context or
// blind), and whole-set replica syncs against a reference that keeps exact
// causal histories. The DVV store must keep exactly the versions the
// reference keeps, order every pair of versions as their histories do, hand
// readers contexts that claim no unseen write, never reuse a dot, and its
// Sync must be commutative, associative and idempotent on the sets it
// produces.
func TestSiblingsModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		replicas := []ReplicaID{3, 17, 1 << 40}
		const clients = 3
		m := newDynamoModel(replicas, clients)
		replica := rapid.SampledFrom(replicas)
		client := rapid.IntRange(0, clients-1)
		t.Repeat(map[string]func(*rapid.T){
			"read": func(t *rapid.T) {
				m.read(t, client.Draw(t, "client"), replica.Draw(t, "replica"))
			},
			"write": func(t *rapid.T) {
				m.write(t, client.Draw(t, "client"), replica.Draw(t, "coordinator"), rapid.Bool().Draw(t, "blind"))
			},
			"sync": func(t *rapid.T) {
				from, to := replica.Draw(t, "from"), replica.Draw(t, "to")
				if from == to {
					t.Skip("sync with itself")
				}
				m.sync(t, from, to)
			},
			"": m.check,
		})
	})
}
