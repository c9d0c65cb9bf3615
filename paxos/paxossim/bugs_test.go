package paxossim

import (
	"github.com/cairndb/cairn/sim"
	"strings"
	"testing"
)

// caught runs seeds with the defect until one fails for one of the
// expected reasons; a seed that fails for another reason fails the test.
func caught(t *testing.T, seeds uint64, mod func(*Options), reasons ...string) {
	t.Helper()
	for seed := uint64(1); seed <= seeds; seed++ {
		o := OptionsForSeed(seed, 20000)
		mod(&o)
		_, err := Run(seed, o)
		if err == nil {
			continue
		}
		for _, r := range reasons {
			if strings.Contains(err.Error(), r) {
				t.Logf("caught at seed %d: %.300s", seed, err)
				return
			}
		}
		t.Fatalf("seed %d failed for another reason:\n%v", seed, err)
	}
	t.Fatalf("the defect went unnoticed for %d seeds", seeds)
}

// An acceptor that accepts below its promise lets two values be chosen in
// one instance: the safety invariants (or Porcupine) must notice.
func TestAcceptBelowPromiseIsCaught(t *testing.T) {
	caught(t, 100, func(o *Options) {
		o.Bugs.AcceptBelowPromise = true
		o.Keys = 1 // contention
	}, "two operations chosen", "accepted operation", "in the instance of", "NOT linearizable")
}

// An acceptor that replies before its promise or acceptance is durable
// forgets it in a crash: the durability check notices at the restart.
func TestSkippedSyncIsCaughtByDurabilityCheck(t *testing.T) {
	caught(t, 100, func(o *Options) {
		o.Bugs.SkipSync = true
		o.DiskLoss = sim.LossAll
		o.Nemesis.CrashWeight = 8
	}, "durability:")
}

// Without the durability check, the same defect must be caught by its
// consequences: two values chosen in one instance, or a history that is
// not linearizable.
func TestSkippedSyncIsCaughtBySafetyChecks(t *testing.T) {
	caught(t, 400, func(o *Options) {
		o.Bugs.SkipSync = true
		o.NoDurabilityCheck = true
		o.DiskLoss = sim.LossAll
		o.Nemesis.CrashWeight = 8
		o.Keys = 1
	}, "two operations chosen", "accepted operation", "in the instance of", "NOT linearizable", "never chosen")
}

// With every invariant off, Porcupine alone must catch an acceptor that
// accepts below its promise: the checks at the end are not vacuous either.
func TestAcceptBelowPromiseIsCaughtByPorcupine(t *testing.T) {
	caught(t, 200, func(o *Options) {
		o.Bugs.AcceptBelowPromise = true
		o.PorcupineOnly = true
		o.Keys = 1
	}, "NOT linearizable")
}

// A replaced acceptor that answers at once with its empty state forgets
// the votes its predecessor cast: two of them in a row let a second value
// be chosen where one already was.
func TestReplacementWithoutRecoveryIsCaught(t *testing.T) {
	caught(t, 400, func(o *Options) {
		o.ReplacePercent = 100
		o.Bugs.NoRecovery = true
		o.Nemesis.CrashWeight = 8
		o.Keys = 1
	}, "two operations chosen", "accepted operation", "in the instance of", "NOT linearizable", "never chosen")
}
