package crdt

import (
	"fmt"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// benchCase is one type at one size: two replicas that have diverged (they
// share about half of their data), a delta from a third replica, and the
// mutator that generates a delta.
type benchCase[T any] struct {
	name   string
	a, b   T
	delta  T
	mutate func(*T) T
	decode func([]byte) (T, error)
}

func runBenchCases[T any, P crdtPtr[T]](b *testing.B, what string, cases []benchCase[T]) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			switch what {
			case "merge": // a full state into a diverged replica
				mergeIntoClones[T, P](b, c.a, c.b)
			case "merge-delta": // one operation's delta into a large state
				x := P(&c.a).Clone()
				for b.Loop() {
					P(&x).Merge(c.delta)
				}
			case "delta": // run a mutator and get its delta
				x := P(&c.a).Clone()
				for b.Loop() {
					c.mutate(&x)
				}
			case "encode":
				buf := P(&c.a).AppendBinary(nil)
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					buf = P(&c.a).AppendBinary(buf[:0])
				}
			case "decode":
				buf := P(&c.a).AppendBinary(nil)
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					if _, err := c.decode(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// mergeIntoClones times merging src into fresh clones of dst. Clones are
// made in batches with the timer stopped: stopping it for every merge would
// cost more than the merge (it reads the memory statistics).
func mergeIntoClones[T any, P crdtPtr[T]](b *testing.B, dst, src T) {
	batch := min(max((1<<20)/(len(P(&dst).AppendBinary(nil))+1), 16), 4096)
	xs := make([]T, batch)
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			for j := range xs {
				xs[j] = P(&dst).Clone()
			}
			b.StartTimer()
		}
		P(&xs[i%batch]).Merge(src)
	}
}

func benchAll(b *testing.B, what string) {
	b.Run("GCounter", func(b *testing.B) { runBenchCases[GCounter](b, what, gCounterCases()) })
	b.Run("PNCounter", func(b *testing.B) { runBenchCases[PNCounter](b, what, pnCounterCases()) })
	b.Run("LWWRegister", func(b *testing.B) { runBenchCases[LWWRegister](b, what, lwwCases()) })
	b.Run("MVRegister", func(b *testing.B) { runBenchCases[MVRegister](b, what, mvCases()) })
	b.Run("ORSet", func(b *testing.B) { runBenchCases[ORSet](b, what, orSetCases()) })
	b.Run("CausalCounter", func(b *testing.B) { runBenchCases[CausalCounter](b, what, causalCounterCases()) })
	b.Run("ORMap", func(b *testing.B) { runBenchCases[ORMap[MVRegister]](b, what, orMapCases()) })
}

func BenchmarkMerge(b *testing.B)      { benchAll(b, "merge") }
func BenchmarkMergeDelta(b *testing.B) { benchAll(b, "merge-delta") }
func BenchmarkDelta(b *testing.B)      { benchAll(b, "delta") }
func BenchmarkEncode(b *testing.B)     { benchAll(b, "encode") }
func BenchmarkDecode(b *testing.B)     { benchAll(b, "decode") }

// BenchmarkCausalContextMerge merges contexts with a gappy cloud, as after
// deltas delivered out of order.
func BenchmarkCausalContextMerge(b *testing.B) {
	for _, n := range []int{3, 100} {
		var x, y CausalContext
		for r := range n {
			x.vv.Set(clock.ReplicaID(r), 100)
			y.vv.Set(clock.ReplicaID(r), 90)
			y.Add(clock.Dot{Replica: clock.ReplicaID(r), Counter: 102})
			y.Add(clock.Dot{Replica: clock.ReplicaID(r), Counter: 105})
		}
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			mergeIntoClones[CausalContext](b, x, y)
		})
	}
}

func gCounterCases() []benchCase[GCounter] {
	var out []benchCase[GCounter]
	for _, n := range []int{3, 100} {
		var a, b, third GCounter
		for r := range n {
			a.Increment(clock.ReplicaID(r), uint64(r+1))
			if r%2 == 0 {
				b.Increment(clock.ReplicaID(r), uint64(r+2))
			}
		}
		delta, _ := third.Increment(clock.ReplicaID(n), 1)
		out = append(out, benchCase[GCounter]{
			name: fmt.Sprintf("replicas=%d", n), a: a, b: b, delta: delta, decode: DecodeGCounter,
			mutate: func(g *GCounter) GCounter { d, _ := g.Increment(0, 1); return d },
		})
	}
	return out
}

func pnCounterCases() []benchCase[PNCounter] {
	var out []benchCase[PNCounter]
	for _, n := range []int{3, 100} {
		var a, b, third PNCounter
		for r := range n {
			a.Add(clock.ReplicaID(r), int64(r+1))
			a.Add(clock.ReplicaID(r), -1)
			if r%2 == 0 {
				b.Add(clock.ReplicaID(r), int64(r+2))
			}
		}
		delta, _ := third.Add(clock.ReplicaID(n), -1)
		out = append(out, benchCase[PNCounter]{
			name: fmt.Sprintf("replicas=%d", n), a: a, b: b, delta: delta, decode: DecodePNCounter,
			mutate: func(c *PNCounter) PNCounter { d, _ := c.Add(0, 1); return d },
		})
	}
	return out
}

func lwwCases() []benchCase[LWWRegister] {
	var out []benchCase[LWWRegister]
	for _, size := range []int{16, 1024} {
		var a, b, third LWWRegister
		v := make([]byte, size)
		a.Set(1, ts(100, 0), v)
		b.Set(2, ts(200, 0), v)
		delta, _ := third.Set(3, ts(150, 0), v)
		wall := int64(1000)
		out = append(out, benchCase[LWWRegister]{
			name: fmt.Sprintf("bytes=%d", size), a: a, b: b, delta: delta, decode: DecodeLWWRegister,
			mutate: func(l *LWWRegister) LWWRegister { wall++; d, _ := l.Set(1, ts(wall, 0), v); return d },
		})
	}
	return out
}

func mvCases() []benchCase[MVRegister] {
	var out []benchCase[MVRegister]
	for _, n := range []int{1, 8} { // concurrent values
		var a, b, third MVRegister
		v := make([]byte, 64)
		for r := range n {
			var x MVRegister
			d, _ := x.Write(clock.ReplicaID(r), ts(int64(r), 0), v)
			a.Merge(d)
			if r%2 == 0 {
				b.Merge(d)
			}
		}
		b.Write(100, ts(500, 0), v)
		delta, _ := third.Write(101, ts(600, 0), v)
		out = append(out, benchCase[MVRegister]{
			name: fmt.Sprintf("values=%d", n), a: a, b: b, delta: delta, decode: DecodeMVRegister,
			mutate: func(m *MVRegister) MVRegister { d, _ := m.Write(1, ts(700, 0), v); return d },
		})
	}
	return out
}

func orSetCases() []benchCase[ORSet] {
	var out []benchCase[ORSet]
	for _, n := range []int{10, 1000} {
		var a, b, third ORSet
		for i := range n {
			e := fmt.Sprintf("member-%06d", i)
			d, _ := a.Add(clock.ReplicaID(i%3), e)
			if i%2 == 0 {
				b.Merge(d)
				b.Add(7, e) // b's own concurrent add of the same element
			}
		}
		delta, _ := third.Add(9, "new-member")
		i := 0
		out = append(out, benchCase[ORSet]{
			name: fmt.Sprintf("elems=%d", n), a: a, b: b, delta: delta, decode: DecodeORSet,
			mutate: func(s *ORSet) ORSet {
				i++
				d, _ := s.Add(1, fmt.Sprintf("member-%06d", i%n))
				return d
			},
		})
	}
	return out
}

func causalCounterCases() []benchCase[CausalCounter] {
	var out []benchCase[CausalCounter]
	for _, n := range []int{3, 100} {
		var a, b, third CausalCounter
		for r := range n {
			var x CausalCounter
			d, _ := x.Add(clock.ReplicaID(r), int64(r+1))
			a.Merge(d)
			if r%2 == 0 {
				b.Merge(d)
			}
		}
		b.Add(0, 5)
		delta, _ := third.Add(clock.ReplicaID(n), 1)
		out = append(out, benchCase[CausalCounter]{
			name: fmt.Sprintf("replicas=%d", n), a: a, b: b, delta: delta, decode: DecodeCausalCounter,
			mutate: func(c *CausalCounter) CausalCounter { d, _ := c.Add(0, 1); return d },
		})
	}
	return out
}

func orMapCases() []benchCase[ORMap[MVRegister]] {
	write := func(m *ORMap[MVRegister], r clock.ReplicaID, at int64, f string, v []byte) ORMap[MVRegister] {
		d, _ := m.Apply(f, func(reg *MVRegister) (MVRegister, error) { return reg.Write(r, ts(at, 0), v) })
		return d
	}
	var out []benchCase[ORMap[MVRegister]]
	for _, n := range []int{10, 1000} {
		var a, b, third ORMap[MVRegister]
		v := make([]byte, 32)
		for i := range n {
			f := fmt.Sprintf("field-%06d", i)
			d := write(&a, clock.ReplicaID(i%3), int64(i), f, v)
			if i%2 == 0 {
				b.Merge(d)
				write(&b, 7, int64(n+i), f, v)
			}
		}
		delta := write(&third, 9, 1, "new-field", v)
		i := 0
		out = append(out, benchCase[ORMap[MVRegister]]{
			name: fmt.Sprintf("fields=%d", n), a: a, b: b, delta: delta, decode: DecodeORMap[MVRegister],
			mutate: func(m *ORMap[MVRegister]) ORMap[MVRegister] {
				i++
				return write(m, 1, int64(i), fmt.Sprintf("field-%06d", i%n), v)
			},
		})
	}
	return out
}
