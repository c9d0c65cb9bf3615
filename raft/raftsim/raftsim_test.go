package raftsim

import (
	"strings"
	"testing"

	"github.com/cairndb/cairn/sim"
)

// TestRaftSim is the CI run: every seed must keep every safety invariant
// after every step, pass the liveness bound and give a linearizable
// history. 1,000 seeds (200 under the race detector); -sim.long runs 100k.
func TestRaftSim(t *testing.T) {
	seeds := 1000
	if sim.RaceEnabled {
		seeds = 200
	}
	cfg := sim.FlagRunConfig(seeds, 5000)
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		_, err := Run(seed, OptionsForSeed(seed, cfg.Steps))
		return err
	})
}

// TestRaftSimDeterminism runs seeds twice: same trace hash and outcome.
func TestRaftSimDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		err := sim.CheckDeterminism(seed, func(s uint64) (uint64, error) {
			r, err := Run(s, OptionsForSeed(s, 2000))
			return r.TraceHash, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestRaftSimDoesWork guards against a vacuous pass: across a few seeds
// the clusters elect leaders, apply entries, complete client operations
// and change their membership.
func TestRaftSimDoesWork(t *testing.T) {
	var total Result
	for seed := uint64(1); seed <= 12; seed++ {
		r, err := Run(seed, OptionsForSeed(seed, 5000))
		if err != nil {
			t.Fatal(err)
		}
		total.Ops += r.Ops
		total.Leaders += r.Leaders
		total.Applied += r.Applied
		total.ConfChanges += r.ConfChanges
	}
	t.Logf("12 seeds: %d client ops, %d led terms, %d entries applied, %d membership changes",
		total.Ops, total.Leaders, total.Applied, total.ConfChanges)
	if total.Ops < 100 || total.Leaders < 12 || total.Applied < 100 || total.ConfChanges < 3 {
		t.Fatalf("too little happened: %+v", total)
	}
}

// TestSkippedLogSyncIsCaught proves the checks can fail: a node that
// acknowledges entries it never synced loses them on a crash, and the
// checker or Porcupine must notice within a few seeds.
func TestSkippedLogSyncIsCaught(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		o := OptionsForSeed(seed, 3000)
		o.Bugs.SkipLogSync = true
		o.Nemesis.CrashWeight = 6
		if _, err := Run(seed, o); err != nil {
			if !strings.Contains(err.Error(), "safety") && !strings.Contains(err.Error(), "NOT linearizable") &&
				!strings.Contains(err.Error(), "commit") && !strings.Contains(err.Error(), "log matching") {
				t.Fatalf("seed %d failed for another reason:\n%v", seed, err)
			}
			t.Logf("caught at seed %d: %.200s", seed, err)
			return
		}
	}
	t.Fatal("unsynced log went unnoticed for 60 seeds")
}
