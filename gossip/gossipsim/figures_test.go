package gossipsim

import (
	"flag"
	"math"
	"testing"
	"time"
)

var (
	flagLong  = flag.Bool("gossipsim.long", false, "run the long simulations: 64-node chaos, every size with partitions, the full false-positive table")
	flagNodes = flag.Int("gossipsim.nodes", 0, "also measure this cluster size (e.g. 10000: about 14 GB of memory)")
)

// TestFigures measures join and crash dissemination at 10, 100 and 1,000
// nodes (1,000 skipped with -short), and partition healing at 10 and 100,
// and checks them against the goals: a join and a crash are known to
// every node within log2(N)+4 probe periods (the crash as a suspicion; as
// a death, within the minimum suspicion timeout more), and a healed
// partition converges within two reconnect intervals and 3·(log2(N)+4)
// periods. -gossipsim.long measures every
// size with more seeds and partitions; -gossipsim.nodes adds a size.
func TestFigures(t *testing.T) {
	type size struct {
		n, seeds  int
		partition bool
	}
	sizes := []size{{10, 5, true}, {100, 3, true}}
	if !testing.Short() {
		sizes = append(sizes, size{1000, 1, false})
	}
	if *flagLong {
		sizes = []size{{10, 9, true}, {100, 9, true}, {1000, 3, true}}
	}
	if *flagNodes > 0 {
		sizes = append(sizes, size{*flagNodes, 1, false})
	}
	var figs []SizeFigures
	for _, sz := range sizes {
		began := time.Now()
		f, err := MeasureSize(sz.n, sz.seeds, sz.partition)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d measured in %v", sz.n, time.Since(began).Round(time.Millisecond))
		figs = append(figs, f)
		if f.Join.KnownByAll > f.Goal {
			t.Errorf("n=%d: join known by all after %.1f periods, goal %.1f", f.Nodes, f.Join.KnownByAll, f.Goal)
		}
		if f.Crash.AllSuspect > f.Goal {
			t.Errorf("n=%d: crash suspected by all after %.1f periods, goal %.1f", f.Nodes, f.Crash.AllSuspect, f.Goal)
		}
		if f.Crash.AllDead > f.MinSuspicion+f.Goal {
			t.Errorf("n=%d: crash dead at all after %.1f periods, goal %.1f", f.Nodes, f.Crash.AllDead, f.MinSuspicion+f.Goal)
		}
		// Healing needs a reconnection (one reconnect interval, 10 periods
		// here), then the refutations of both sides to spread across.
		if bound := 20 + 3*f.Goal; f.Partition != nil && f.Partition.Healed > bound {
			t.Errorf("n=%d: partition healed after %.1f periods, bound %.1f", f.Nodes, f.Partition.Healed, bound)
		}
	}
	t.Logf("medians, in probe periods, at 1%% loss:\n%s", SizeTable(figs))
}

// TestLifeguardReducesFalsePositives: with slow nodes, SWIM without
// Lifeguard falsely declares healthy nodes dead, and Lifeguard cuts that
// at least fivefold. With -gossipsim.long it prints the whole comparison
// (1% to 10% loss, slow nodes, pauses; both variants and the heartbeat
// baseline) at 100 nodes over 3,600 periods per run.
func TestLifeguardReducesFalsePositives(t *testing.T) {
	if *flagLong {
		rows, err := MeasureFPTable(100, 3600, 1, 12)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("false positives, 100 nodes, 3600 periods (100 node-hours at 1 s periods) per run:\n%s", FPTable(rows))
	}
	s := Scenario{Seed: 1, Nodes: 50, Rounds: 600, Drop: 0.01, Slow: 3, SlowDelay: 300 * time.Millisecond}
	results := map[Variant]FPResult{}
	for _, v := range []Variant{Lifeguard, SWIM} {
		s.Variant = v
		r, err := MeasureFalsePositives(s)
		if err != nil {
			t.Fatal(err)
		}
		results[v] = r
		t.Logf("%v: %d false verdicts (%d about healthy nodes), %d false deaths, %.2f msgs/node/period",
			v, r.Declared, r.HealthyDeclared, r.Episodes, r.MsgsPerNodeRound)
	}
	lg, sw := results[Lifeguard], results[SWIM]
	if sw.HealthyDeclared < 20 {
		t.Fatalf("the scenario is too mild to compare: SWIM made only %d false verdicts about healthy nodes", sw.HealthyDeclared)
	}
	if 5*lg.HealthyDeclared > sw.HealthyDeclared {
		t.Fatalf("Lifeguard made %d false verdicts about healthy nodes, SWIM %d: want at least 5 times fewer", lg.HealthyDeclared, sw.HealthyDeclared)
	}
	if math.IsNaN(lg.PerNodeHour()) {
		t.Fatal("no node-hours")
	}
}
