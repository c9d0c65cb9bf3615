package gossipsim

import (
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/sim"
)

// Chaos phase, liveness bound after the heal, and calm phase of the
// simulator runs, in simulated time (a probe period is 100 ms).
const (
	chaosTime    = 20 * time.Second
	convergeTime = 30 * time.Second
	calmTime     = 20 * time.Second
)

// TestWorldChaos is the CI run on the simulator: 5 to 12 nodes (with and
// without Lifeguard, with and without gossip fan-out) under the nemesis (partitions of every shape, crashes with restarts, pauses, loss
// bursts, delay spikes), every message through the codec, the checker and
// every node's Valid after every step, then convergence within the bound
// and a calm phase in which no live node is dead to a majority.
func TestWorldChaos(t *testing.T) {
	seeds := 40
	if sim.RaceEnabled {
		seeds = 8
	}
	cfg := sim.FlagRunConfig(seeds, 1)
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		_, err := RunChaos(seed, WorldOptionsForSeed(seed), chaosTime, convergeTime, calmTime)
		return err
	})
}

// TestWorldChaosMaxNodes runs the simulator's largest cluster.
func TestWorldChaosMaxNodes(t *testing.T) {
	if !*flagLong {
		t.Skip("64-node chaos runs with -gossipsim.long")
	}
	cfg := sim.FlagRunConfig(2, 1)
	sim.RunSeeds(t, cfg, func(seed uint64) error {
		o := DefaultWorldOptions(sim.MaxNodes)
		o.ValidEveryStep = false // O(N²) per step; the checker still runs
		_, err := RunChaos(seed, o, chaosTime, convergeTime, calmTime)
		return err
	})
}

func TestWorldDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		err := sim.CheckDeterminism(seed, func(s uint64) (uint64, error) {
			return RunChaos(s, WorldOptionsForSeed(s), 5*time.Second, convergeTime, time.Second)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestWorldDoesWork guards against a vacuous pass: the chaos runs crash,
// restart and pause nodes, declare members dead, and refute suspicions.
func TestWorldDoesWork(t *testing.T) {
	var dead, refuted, rejoined, restarts int
	for seed := uint64(1); seed <= 5; seed++ {
		c, err := NewWorld(seed, DefaultWorldOptions(10))
		if err != nil {
			t.Fatal(err)
		}
		ncfg := sim.DefaultNemesisConfig(10)
		ncfg.Chaos = chaosTime
		nem, err := sim.NewNemesis(c.W, ncfg)
		if err != nil {
			t.Fatal(err)
		}
		nem.Start()
		if err := c.W.RunFor(chaosTime); err != nil {
			t.Fatal(c.W.Report(err))
		}
		restarts += nem.Count(sim.FaultCrash)
		for id := 1; id <= 10; id++ {
			if p, ok := c.Peer(gossip.NodeID(id)); ok {
				st := p.Core().Stats()
				dead += int(st.DeadDeclared)
				refuted += int(st.Refutations)
				if p.Core().Incarnation() > 1 {
					rejoined++
				}
			}
		}
	}
	t.Logf("5 seeds: %d crashes, %d dead declarations, %d refutations, %d nodes above incarnation 1", restarts, dead, refuted, rejoined)
	if restarts < 5 || dead < 10 || refuted < 5 || rejoined < 5 {
		t.Fatal("too little happened for the chaos runs to mean anything")
	}
}

// TestLivenessCheckCanFail shows the liveness bound is not vacuous: with
// reconnection and seeds' retries effectively off, a partition that makes
// the sides declare each other dead never heals, and the run must fail.
func TestLivenessCheckCanFail(t *testing.T) {
	o := DefaultWorldOptions(6)
	o.Core = func(cfg *gossip.Config) {
		cfg.ReconnectIntervalTicks = 1 << 29
		cfg.PushPullIntervalTicks = 1 << 29
	}
	c, err := NewWorld(1, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.W.Await(5*time.Second, c.Converged); err != nil {
		t.Fatal(err)
	}
	c.W.SetLinks(sim.Groups(6, []sim.NodeID{1, 2, 3}, []sim.NodeID{4, 5, 6}))
	if err := c.W.RunFor(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	c.W.HealLinks()
	err = c.W.Await(convergeTime, c.Converged)
	if err == nil || !strings.Contains(err.Error(), "liveness") {
		t.Fatalf("a partition without reconnection healed, or failed otherwise: %v", err)
	}
	t.Logf("caught: %.120s", err)
}
