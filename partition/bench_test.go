package partition

import (
	"fmt"
	"testing"
)

// benchTable returns a table of n ranges split at "key-%08d" of every
// multiple of 16, and keys that fall anywhere in it.
func benchTable(b *testing.B, n int) (*Table, [][]byte) {
	splits := make([][]byte, n-1)
	for i := range splits {
		splits[i] = fmt.Appendf(nil, "key-%08d", (i+1)*16)
	}
	cfg := DefaultConfig()
	cfg.MaxRanges = n + 1 // room for BenchmarkSplit
	tb, err := New(cfg, splits)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([][]byte, 1<<14)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%08d", (i*7919)%(n*16))
	}
	return tb, keys
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000} {
		b.Run(fmt.Sprintf("ranges=%d", n), func(b *testing.B) {
			tb, keys := benchTable(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = tb.Lookup(keys[i&(len(keys)-1)])
				i++
			}
		})
	}
}

// BenchmarkRecord measures Record on a cold range (atomic adds only) and on
// a hot one (which also feeds the split-key sampler), from one goroutine
// and from all of them at once.
func BenchmarkRecord(b *testing.B) {
	for _, hot := range []bool{false, true} {
		tb, keys := benchTable(b, 1)
		r := tb.Lookup(nil)
		if hot {
			// Twice the threshold a tick makes the range hot within a
			// half-life; then fill the sampler.
			for tick := 0; r.load.finder.Load() == nil; tick++ {
				if tick > 100 {
					b.Fatal("range is not sampling")
				}
				for i := range int(tb.Config().HotOpsPerTick) * 2 {
					r.Record(OpRead, keys[i&(len(keys)-1)], 1)
				}
				tb.Tick()
			}
			for i := range len(keys) {
				r.Record(OpRead, keys[i], 1)
			}
		}
		b.Run(fmt.Sprintf("hot=%v", hot), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.Record(OpWrite, keys[i&(len(keys)-1)], 100)
				i++
			}
		})
		b.Run(fmt.Sprintf("hot=%v/parallel", hot), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					r.Record(OpWrite, keys[i&(len(keys)-1)], 100)
					i++
				}
			})
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("ranges=%d", n), func(b *testing.B) {
			tb, _ := benchTable(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// Split and merge back, so the table keeps its size.
				l, r, err := tb.Split(fmt.Appendf(nil, "key-%08d", (i%(n-1))*16+8))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tb.Merge(l.ID(), r.ID()); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
