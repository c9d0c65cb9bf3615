package ring

import (
	"fmt"
	"testing"
)

var benchSizes = []int{3, 10, 100, 1000}

func benchRing(b *testing.B, nodes int) *Ring {
	ns := namedNodes(nodes)
	for i := range ns {
		ns[i].Zone = fmt.Sprintf("zone-%d", i%3)
	}
	return mustNew(b, ns, DefaultConfig())
}

// benchKeys is a set of distinct keys, so that the benchmark pays for the
// cache misses of a real key stream instead of looking up one key.
func benchKeys() [][]byte {
	keys := make([][]byte, 1<<14)
	for i := range keys {
		keys[i] = testKey(nil, i*7919)
	}
	return keys
}

func BenchmarkLookup(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			r := benchRing(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = r.Lookup(keys[i&(len(keys)-1)])
				i++
			}
		})
	}
}

func BenchmarkAppendReplicas(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("nodes=%d/n=3", n), func(b *testing.B) {
			r := benchRing(b, n)
			dst := make([]NodeID, 0, 3)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				dst = r.AppendReplicas(dst[:0], keys[i&(len(keys)-1)], 3)
				i++
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			nodes := namedNodes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(nodes, DefaultConfig()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
