package paxossim

import (
	"testing"

	"github.com/cairndb/cairn/sim"
)

// TestPaxosSim is the CI run: every seed must keep every safety invariant
// after every step, answer every operation within the bound, finish the
// post-heal operations and give a linearizable history. 300 seeds (40
// under the race detector); -sim.seeds N or -sim.long for more.
func TestPaxosSim(t *testing.T) {
	seeds := 300
	if sim.RaceEnabled {
		seeds = 40
	}
	cfg := sim.FlagRunConfig(seeds, 15000)
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		o := OptionsForSeed(seed, cfg.Steps)
		if cfg.Replaying() {
			o.TraceTail = 200
		}
		_, err := Run(seed, o)
		return err
	})
}

// TestPaxosSimDeterminism runs seeds twice: same trace hash and outcome.
func TestPaxosSimDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		err := sim.CheckDeterminism(seed, func(s uint64) (uint64, error) {
			r, err := Run(s, OptionsForSeed(s, 5000))
			return r.TraceHash, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPaxosSimDoesWork guards against a vacuous pass: across a few seeds
// operations are chosen and answered, values expire (and operations see
// live values with deadlines too), proposers contend, finish each other's
// proposals and repair replicas, reads take the fast path, and the nemesis
// crashes nodes and partitions the network.
func TestPaxosSimDoesWork(t *testing.T) {
	var total Result
	var crashes, partitions int
	for seed := uint64(1); seed <= 12; seed++ {
		r, err := Run(seed, OptionsForSeed(seed, 20000))
		if err != nil {
			t.Fatal(err)
		}
		total.Ops += r.Ops
		total.Succeeded += r.Succeeded
		total.Applied += r.Applied
		total.Unknown += r.Unknown
		total.Chosen += r.Chosen
		total.Expired += r.Expired
		total.LiveDeadline += r.LiveDeadline
		s := &total.Stats
		s.ContentionRetries += r.Stats.ContentionRetries
		s.Finished += r.Stats.Finished
		s.Repairs += r.Stats.Repairs
		s.FastReads += r.Stats.FastReads
		s.Timeouts += r.Stats.Timeouts
		crashes += r.Faults[sim.FaultCrash]
		partitions += r.Faults[sim.FaultPartition]
	}
	t.Logf("12 seeds: %d ops, %d answered, %d writes applied, %d unknown, %d chosen; %d found an expired value, %d a live one with a deadline; %d contention retries, %d timeouts, %d finished, %d repairs, %d fast reads; %d crashes, %d partitions",
		total.Ops, total.Succeeded, total.Applied, total.Unknown, total.Chosen, total.Expired, total.LiveDeadline, total.Stats.ContentionRetries, total.Stats.Timeouts,
		total.Stats.Finished, total.Stats.Repairs, total.Stats.FastReads, crashes, partitions)
	if total.Succeeded < 2000 || total.Applied < 500 || total.Chosen < total.Applied || total.Expired < 50 || total.LiveDeadline < 50 || total.Stats.ContentionRetries == 0 ||
		total.Stats.Finished == 0 || total.Stats.Repairs == 0 || total.Stats.FastReads == 0 || crashes < 12 || partitions < 12 {
		t.Fatalf("too little happened: %+v", total)
	}
}

// TestPaxosSimReplacements runs seeds where half the restarts wipe the
// node (a member replaced): with acceptor recovery every invariant holds,
// and the replaced nodes do catch up and answer again. 150 seeds (20 under
// the race detector).
func TestPaxosSimReplacements(t *testing.T) {
	seeds := 150
	if sim.RaceEnabled {
		seeds = 20
	}
	cfg := sim.FlagRunConfig(seeds, 15000)
	var replaced, recovered, refused int
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		o := OptionsForSeed(seed, cfg.Steps)
		o.ReplacePercent = 50
		o.Nemesis.CrashWeight = 6
		if cfg.Replaying() {
			o.TraceTail = 200
		}
		r, err := Run(seed, o)
		replaced += r.Replaced
		recovered += r.Recovered
		refused += r.RefusedRecovering
		return err
	})
	t.Logf("%d replacements, %d keys caught up on, %d messages left unanswered while catching up", replaced, recovered, refused)
	if replaced == 0 || recovered == 0 || refused == 0 {
		t.Fatal("no replacement happened or none caught up: the test checks nothing")
	}
}
