package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

func TestNemesisConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*sim.NemesisConfig)
		want   string
	}{
		{"default", func(*sim.NemesisConfig) {}, ""},
		{"negative chaos", func(c *sim.NemesisConfig) { c.Chaos = -1 }, "Chaos"},
		{"zero gap", func(c *sim.NemesisConfig) { c.MinGap = 0 }, "gaps"},
		{"max gap below min", func(c *sim.NemesisConfig) { c.MaxGap = c.MinGap - 1 }, "gaps"},
		{"zero fault", func(c *sim.NemesisConfig) { c.MinFault = 0 }, "durations"},
		{"negative weight", func(c *sim.NemesisConfig) { c.CrashWeight = -1 }, "weights"},
		{"all weights zero", func(c *sim.NemesisConfig) {
			c.PartitionWeight, c.CrashWeight, c.PauseWeight, c.LossWeight, c.DelayWeight = 0, 0, 0, 0, 0
		}, "all 0"},
		{"partitions without shapes", func(c *sim.NemesisConfig) { c.Shapes = nil }, "Shapes"},
		{"unknown shape", func(c *sim.NemesisConfig) { c.Shapes = []sim.PartitionShape{42} }, "unknown"},
		{"MaxDown above n", func(c *sim.NemesisConfig) { c.MaxDown = 6 }, "MaxDown"},
		{"loss burst > 1", func(c *sim.NemesisConfig) { c.LossBurst = 2 }, "LossBurst"},
		{"negative spike", func(c *sim.NemesisConfig) { c.DelaySpike = -1 }, "DelaySpike"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sim.DefaultNemesisConfig(5)
			tc.mutate(&c)
			err := c.Validate(5)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestNemesisInjectsEveryFaultThenHeals runs a long chaos phase: every
// fault kind must happen, no more than MaxDown nodes may be out at once,
// and after the heal every node runs on a healed network.
func TestNemesisInjectsEveryFaultThenHeals(t *testing.T) {
	cfg := sim.DefaultConfig(9)
	cfg.Nodes = 5
	w := newPingWorld(t, cfg, 1)
	ncfg := sim.DefaultNemesisConfig(5)
	ncfg.Chaos = 30 * time.Second
	nem, err := sim.NewNemesis(w, ncfg)
	if err != nil {
		t.Fatal(err)
	}
	maxOut := 0
	w.AddInvariant("at most MaxDown nodes out", func() error {
		out := 0
		for id := sim.NodeID(1); int(id) <= w.N(); id++ {
			if !w.Up(id) || w.Paused(id) {
				out++
			}
		}
		maxOut = max(maxOut, out)
		if out > ncfg.MaxDown {
			return fmt.Errorf("%d nodes out, MaxDown %d", out, ncfg.MaxDown)
		}
		return nil
	})
	nem.Start()
	if err := w.RunUntil(nem.HealEnd() - time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if nem.Healed() {
		t.Fatal("healed before the end of the chaos phase")
	}
	for k := sim.FaultPartition; k <= sim.FaultDelay; k++ {
		if nem.Count(k) == 0 {
			t.Errorf("no %v fault in 30s of chaos", k)
		}
	}
	if maxOut == 0 {
		t.Error("no node was ever out")
	}
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !nem.Healed() || !w.Links().Healed() || w.NetFault() != (sim.NetFault{}) {
		t.Fatalf("after heal: healed=%v links=%v fault=%+v", nem.Healed(), w.Links(), w.NetFault())
	}
	for id := sim.NodeID(1); int(id) <= w.N(); id++ {
		if !w.Up(id) || w.Paused(id) {
			t.Fatalf("node %d still out after heal", id)
		}
	}
	// No fault may start after the heal.
	counts := nem.Count(sim.FaultPartition) + nem.Count(sim.FaultCrash)
	if err := w.RunFor(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if nem.Count(sim.FaultPartition)+nem.Count(sim.FaultCrash) != counts || !w.Links().Healed() {
		t.Fatal("faults continued after the heal")
	}
}

// TestNemesisIsolatesTheNamedLeader checks that the isolate-leader shape
// cuts off exactly the node the Leader callback names.
func TestNemesisIsolatesTheNamedLeader(t *testing.T) {
	cfg := sim.DefaultConfig(4)
	cfg.Nodes = 5
	w := newPingWorld(t, cfg, 0)
	ncfg := sim.DefaultNemesisConfig(5)
	ncfg.CrashWeight, ncfg.PauseWeight, ncfg.LossWeight, ncfg.DelayWeight = 0, 0, 0, 0
	ncfg.Shapes = []sim.PartitionShape{sim.ShapeIsolateLeader}
	ncfg.Leader = func() (sim.NodeID, bool) { return 4, true }
	nem, err := sim.NewNemesis(w, ncfg)
	if err != nil {
		t.Fatal(err)
	}
	want := sim.Isolate(5, 4).String()
	partitioned := 0
	w.AddInvariant("only the leader is isolated", func() error {
		l := w.Links()
		if l.Healed() {
			return nil
		}
		partitioned++
		if l.String() != want {
			return fmt.Errorf("links %v, want %v", l, want)
		}
		return nil
	})
	nem.Start()
	if err := w.RunFor(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if partitioned == 0 {
		t.Fatal("the leader was never isolated")
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{sim.FaultCrash.String(), "crash"},
		{sim.FaultKind(0).String(), "FaultKind(0)"},
		{sim.ShapeBridge.String(), "bridge"},
		{sim.PartitionShape(0).String(), "PartitionShape(0)"},
		{sim.EventDeliver.String(), "deliver"},
		{sim.EventKind(0).String(), "EventKind(0)"},
	} {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}
