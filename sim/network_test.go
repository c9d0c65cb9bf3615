package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

// TestLossAndDuplicationRates sends many messages and checks that the
// observed drop and duplicate rates are within 5 standard deviations of
// the configured ones, and that every message is accounted for.
func TestLossAndDuplicationRates(t *testing.T) {
	for _, tc := range []struct{ drop, dup float64 }{{0, 0}, {0.1, 0.05}, {0.3, 0.2}} {
		cfg := sim.DefaultConfig(42)
		cfg.Net.DropProb, cfg.Net.DupProb = tc.drop, tc.dup
		w := newPingWorld(t, cfg, 0)
		if err := w.RunFor(60 * time.Second); err != nil { // ~18000 sends
			t.Fatal(err)
		}
		s := w.Stats()
		n := float64(s.Sent)
		check := func(name string, got uint64, p float64, of float64) {
			sd := math.Sqrt(of * p * (1 - p))
			if math.Abs(float64(got)-of*p) > 5*sd+1 {
				t.Errorf("drop=%v dup=%v: %s = %d of %.0f, want about %.0f", tc.drop, tc.dup, name, got, of, of*p)
			}
		}
		check("DroppedLoss", s.DroppedLoss, tc.drop, n)
		check("Duplicated", s.Duplicated, tc.dup, n-float64(s.DroppedLoss))
		// Let the network drain: stop the ticks by crashing every node.
		for id := sim.NodeID(1); int(id) <= w.N(); id++ {
			w.CrashWith(id, sim.LossNone)
		}
		_ = w.RunFor(time.Second) // the queue empties; Step then reports it
		s = w.Stats()
		if s.Sent+s.Duplicated != s.Delivered+s.Dropped() {
			t.Errorf("drop=%v dup=%v: unbalanced counters %+v", tc.drop, tc.dup, s)
		}
	}
}

// order records the sequence numbers node 2 receives from node 1.
type orderNode struct {
	h   *sim.Host[ping]
	seq uint64
	got *[]uint64
}

func (n *orderNode) Tick() {
	if n.h.ID() == 1 {
		for range 5 {
			n.seq++
			n.h.Send(2, ping{Origin: 1, Seq: n.seq})
		}
	}
}

func (n *orderNode) Deliver(_ sim.NodeID, m ping) { *n.got = append(*n.got, m.Seq) }

func inversions(seqs []uint64) int {
	c := 0
	for i := 1; i < len(seqs); i++ {
		if seqs[i] < seqs[i-1] {
			c++
		}
	}
	return c
}

// TestReordering checks that fixed delays keep a link FIFO, that random
// delays reorder, and that the reorder knob alone reorders too.
func TestReordering(t *testing.T) {
	run := func(min, max time.Duration, reorder float64) []uint64 {
		var got []uint64
		cfg := sim.DefaultConfig(3)
		cfg.Nodes = 2
		cfg.Net = sim.NetConfig{MinDelay: min, MaxDelay: max, ReorderProb: reorder, ReorderDelay: 50 * time.Millisecond,
			MaxInFlight: 1000, PausedBacklog: 10}
		w, err := sim.New(cfg, sim.Protocol[ping]{
			Start:    func(h *sim.Host[ping]) sim.Node[ping] { return &orderNode{h: h, got: &got} },
			Describe: describePing,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.RunFor(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		if len(got) < 900 {
			t.Fatalf("only %d messages arrived", len(got))
		}
		return got
	}
	if inv := inversions(run(5*time.Millisecond, 5*time.Millisecond, 0)); inv != 0 {
		t.Fatalf("fixed delay: %d inversions, want FIFO", inv)
	}
	if inv := inversions(run(time.Millisecond, 10*time.Millisecond, 0)); inv < 50 {
		t.Fatalf("random delay: only %d inversions", inv)
	}
	if inv := inversions(run(5*time.Millisecond, 5*time.Millisecond, 0.1)); inv < 20 {
		t.Fatalf("reorder knob: only %d inversions", inv)
	}
}

func TestNetFaultRaisesLossAndDelay(t *testing.T) {
	cfg := sim.DefaultConfig(5)
	cfg.Net.DropProb = 0
	w := newPingWorld(t, cfg, 0)
	w.SetNetFault(sim.NetFault{ExtraDrop: 1})
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Delivered != 0 || s.DroppedLoss == 0 {
		t.Fatalf("a total loss burst delivered messages: %+v", s)
	}
	w.SetNetFault(sim.NetFault{})
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Delivered == 0 {
		t.Fatalf("nothing delivered after the burst ended: %+v", s)
	}
}
