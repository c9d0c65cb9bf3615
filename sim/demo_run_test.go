package sim_test

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/sim"
)

// TestPrimaryBackupSim is the CI run of the demo: every seed must keep the
// invariant, pass the liveness bound and give a linearizable history. It
// runs 1000 seeds, or 200 under the race detector.
func TestPrimaryBackupSim(t *testing.T) {
	seeds := 1000
	if sim.RaceEnabled {
		seeds = 200
	}
	cfg := sim.FlagRunConfig(seeds, 2000)
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		nodes := []int{3, 5, 7}[seed%3]
		_, err := runPB(seed, pbOptions{nodes: nodes, steps: cfg.Steps, invariants: true, porcupine: true})
		return err
	})
}

// firstFailure returns the first seed in 1..maxSeeds whose run fails.
func firstFailure(maxSeeds int, o pbOptions) (uint64, error) {
	for seed := uint64(1); seed <= uint64(maxSeeds); seed++ {
		if _, err := runPB(seed, o); err != nil {
			return seed, err
		}
	}
	return 0, nil
}

// TestBuggyPrimaryBackupIsCaught proves that each checker can fail: the
// primary that acknowledges writes before syncing them must be caught by
// the invariant alone and by Porcupine alone within a few seeds.
func TestBuggyPrimaryBackupIsCaught(t *testing.T) {
	bug := pbBugs{ackBeforeSync: true}
	for _, tc := range []struct {
		name string
		o    pbOptions
		want string
	}{
		{"invariant", pbOptions{nodes: 3, steps: 2000, bugs: bug, invariants: true}, "is a prefix of the primary log"},
		{"porcupine", pbOptions{nodes: 3, steps: 2000, bugs: bug, porcupine: true}, "NOT linearizable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed, err := firstFailure(30, tc.o)
			if err == nil {
				t.Fatal("the bug went unnoticed for 30 seeds")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("seed %d failed for another reason:\n%v", seed, err)
			}
			t.Logf("caught at seed %d", seed)
		})
	}
}

// TestDeterminism runs seeds twice (same trace hash and outcome) and checks
// that different seeds give different traces.
func TestDeterminism(t *testing.T) {
	o := pbOptions{nodes: 5, steps: 1500, invariants: true, porcupine: true}
	seen := map[uint64]uint64{}
	for seed := uint64(1); seed <= 8; seed++ {
		if err := sim.CheckDeterminism(seed, func(s uint64) (uint64, error) { return runPB(s, o) }); err != nil {
			t.Fatal(err)
		}
		h, _ := runPB(seed, o)
		if other, dup := seen[h]; dup {
			t.Fatalf("seeds %d and %d have the same trace hash %#x", other, seed, h)
		}
		seen[h] = seed
	}
}

// TestCheckDeterminismCatchesNondeterminism feeds the helper a run that
// leaks state between calls, as a global random source would.
func TestCheckDeterminismCatchesNondeterminism(t *testing.T) {
	calls := uint64(0)
	err := sim.CheckDeterminism(1, func(uint64) (uint64, error) { calls++; return calls, nil })
	if err == nil || !strings.Contains(err.Error(), "not deterministic") {
		t.Fatalf("CheckDeterminism = %v", err)
	}
}
