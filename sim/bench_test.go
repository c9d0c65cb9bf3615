package sim_test

import (
	"fmt"
	"testing"

	"github.com/cairndb/cairn/sim"
)

// BenchmarkStep measures the core loop with a trivial protocol (a ping to
// a random peer per tick, forwarded once): events per second and
// allocations per event, for 3, 5 and 7 nodes.
func BenchmarkStep(b *testing.B) {
	for _, n := range []int{3, 5, 7} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			cfg := sim.DefaultConfig(1)
			cfg.Nodes = n
			w, err := sim.New(cfg, pingProtocol(1, false, nil))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := w.Step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPrimaryBackupSeed measures one whole seed of the demo (2000
// chaos steps, heal, liveness, Porcupine): the cost per CI seed.
func BenchmarkPrimaryBackupSeed(b *testing.B) {
	b.ReportAllocs()
	seed := uint64(0)
	for b.Loop() {
		seed++
		if _, err := runPB(seed, pbOptions{nodes: 3, steps: 2000, invariants: true, porcupine: true}); err != nil {
			b.Fatal(err)
		}
	}
}
