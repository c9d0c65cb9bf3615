package txnsim

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

// ciSteps is the length of every CI run's chaos phase: about 2 to 4 s of
// simulated time, a few dozen transactions and ten or so faults.
const ciSteps = 4000

// ciSeeds scales a CI seed count down under the race detector, which
// slows a simulation about tenfold.
func ciSeeds(n int) int {
	if sim.RaceEnabled {
		return max(n/10, 10)
	}
	return n
}

// loseCoordinator makes o lose the coordinator for good at a time drawn
// from the seed, inside the chaos phase.
func loseCoordinator(o Options, seed uint64) Options {
	rng := sim.NewRand(seed, "txnsim/lose")
	o.LoseCoordinatorAt = time.Duration(300+rng.IntN(2000)) * time.Millisecond
	return o
}

// partitionOptions is three-phase commit under the nemesis it is not built
// for: partitions (of every shape, lasting up to 3 s) and pauses, on top
// of its CI faults.
func partitionOptions(seed uint64) Options {
	o := DefaultOptions(ThreePC, seed, ciSteps)
	o.Nemesis.PartitionWeight = 8
	o.Nemesis.PauseWeight = 1
	o.Nemesis.MaxFault = 3 * time.Second
	return o
}

// sideBySideOptions runs protocol p with the fault schedule of the
// side-by-side comparison: the three-phase commit CI nemesis (crashes,
// loss, delay; no partitions, no pauses) for every protocol, and the
// coordinator lost at the same seed-drawn time.
func sideBySideOptions(p Protocol, seed uint64) Options {
	o := DefaultOptions(p, seed, ciSteps)
	o.Nemesis = DefaultOptions(ThreePC, seed, ciSteps).Nemesis
	o.Nemesis.MaxDown = nodeCount(p, o.Participants)
	return loseCoordinator(o, seed)
}

// seedOutcomes collects what happened to each seed of a RunSeeds run in
// which failing seeds are expected, so RunSeeds must not stop at them.
type seedOutcomes struct {
	mu       sync.Mutex
	failures map[uint64]error
	results  map[uint64]Result
}

func newSeedOutcomes() *seedOutcomes {
	return &seedOutcomes{failures: map[uint64]error{}, results: map[uint64]Result{}}
}

func (s *seedOutcomes) record(seed uint64, r Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[seed] = r
	if err != nil {
		s.failures[seed] = err
	}
}

func (s *seedOutcomes) failed() []uint64 {
	return slices.Sorted(func(yield func(uint64) bool) {
		for seed := range s.failures {
			if !yield(seed) {
				return
			}
		}
	})
}

// checkDocumented fails t unless every seed in documented is in found: the
// package doc names these seeds, and a change that moves them must update
// the doc.
func checkDocumented(t *testing.T, what string, documented, found []uint64) {
	t.Helper()
	var missing []uint64
	for _, s := range documented {
		if !slices.Contains(found, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the package doc names seeds %v as showing %s, but %v no longer do (the trace depends on the code): "+
			"update doc.go and the test with seeds from %v", documented, what, missing, head(found, 10))
	}
}

func head(s []uint64, n int) []uint64 { return s[:min(n, len(s))] }

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func pct(n, of int) string {
	return fmt.Sprintf("%d/%d (%.0f%%)", n, of, 100*float64(n)/float64(max(of, 1)))
}

func sortedSeeds(s []uint64) []uint64 { slices.Sort(s); return s }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
