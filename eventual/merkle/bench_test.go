package merkle

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchEntries returns n entries with uniform hashes and distinct digests,
// made once per n.
func benchEntries(n int) []entry {
	benchMu.Lock()
	defer benchMu.Unlock()
	if es, ok := benchCache[n]; ok {
		return es
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	es := make([]entry, n)
	for i := range es {
		es[i] = entry{h: rng.Uint64(), d: digestOf(uint64(i), 0)}
	}
	benchCache[n] = es
	return es
}

var (
	benchMu    sync.Mutex
	benchCache = map[int][]entry{}
)

func buildFrom(b *testing.B, cfg Config, es []entry) *Tree {
	bl, err := NewBuilder(cfg, FullRange)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range es {
		if err := bl.Add(e.h, e.d); err != nil {
			b.Fatal(err)
		}
	}
	return bl.Tree()
}

// BenchmarkEntryDigest: the caller's cost per write, a 16-byte key and a
// 64-byte version.
func BenchmarkEntryDigest(b *testing.B) {
	key, version := make([]byte, 16), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		key[0]++
		_ = EntryDigest(key, version)
	}
}

// BenchmarkUpdate: one Update to a random existing key of a 100k-entry
// tree. "lazy" leaves the hashing to a later Root (the cost a write pays);
// "root-each" calls Root after every Update (the worst case: a full path of
// hashes per write).
func BenchmarkUpdate(b *testing.B) {
	es := benchEntries(100_000)
	for _, depth := range []int{10, 15} {
		for _, mode := range []string{"lazy", "root-each"} {
			b.Run(fmt.Sprintf("depth=%d/%s", depth, mode), func(b *testing.B) {
				t := buildFrom(b, Config{Depth: depth}, es)
				alt := digestOf(1<<40, 1)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					e := &es[i%len(es)]
					// Flip between the entry's digest and alt, so the tree stays
					// consistent across iterations.
					if i/len(es)%2 == 0 {
						_ = t.Update(e.h, e.d, alt)
					} else {
						_ = t.Update(e.h, alt, e.d)
					}
					if mode == "root-each" {
						t.Root()
					}
					i++
				}
			})
		}
	}
}

// BenchmarkRootAfterUpdates: N updates to random keys, then Root; the cost
// of one op is both.
func BenchmarkRootAfterUpdates(b *testing.B) {
	es := benchEntries(100_000)
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("depth=15/N=%d", n), func(b *testing.B) {
			t := buildFrom(b, Config{Depth: 15}, es)
			alt := digestOf(1<<40, 1)
			round := 0
			for b.Loop() {
				for j := range n {
					e := &es[(round*n+j)%len(es)]
					if (round*n+j)/len(es)%2 == 0 {
						_ = t.Update(e.h, e.d, alt)
					} else {
						_ = t.Update(e.h, alt, e.d)
					}
				}
				t.Root()
				round++
			}
		})
	}
}

// BenchmarkBuild: a full rebuild from 1M entries whose digests are known
// (computing them is EntryDigest's cost per entry, on top).
func BenchmarkBuild(b *testing.B) {
	es := benchEntries(1_000_000)
	for _, depth := range []int{10, 15} {
		b.Run(fmt.Sprintf("entries=1M/depth=%d", depth), func(b *testing.B) {
			for b.Loop() {
				buildFrom(b, Config{Depth: depth}, es)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(es)), "ns/entry")
		})
	}
}

// BenchmarkExchange: a whole exchange over the in-memory network (encode,
// decode, Respond, Handle) between two 1M-entry depth-15 trees that differ
// in k keys, with the default bounds and with MaxRanges raised to every
// leaf. wire-B/op is the bytes both ways, rounds/op the round trips.
func BenchmarkExchange(b *testing.B) {
	es := benchEntries(1_000_000)
	cfg := Config{Depth: 15}
	ta := buildFrom(b, cfg, es)
	for _, k := range []int{1, 100, 10_000} {
		changed := append([]entry(nil), es...)
		for i := range k {
			changed[i*(len(es)/k)].d = digestOf(uint64(i), 7)
		}
		tb := buildFrom(b, cfg, changed)
		for _, name := range []string{"default", "maxRanges=32768"} {
			ec := DefaultExchangeConfig()
			if name != "default" {
				ec.MaxRanges = 1 << 15
			}
			b.Run(fmt.Sprintf("diffs=%d/%s", k, name), func(b *testing.B) {
				var res netRun
				for b.Loop() {
					res = runExchange(b, ta, tb, ec, ec, netConfig{}, 1000)
					if res.err != nil {
						b.Fatal(res.err)
					}
				}
				b.ReportMetric(float64(res.wire), "wire-B/op")
				b.ReportMetric(float64(res.rounds), "rounds/op")
				b.ReportMetric(float64(res.stats.Requests), "requests/op")
				b.ReportMetric(float64(res.stats.Ranges), "ranges/op")
			})
		}
	}
}
