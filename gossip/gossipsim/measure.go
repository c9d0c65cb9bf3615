package gossipsim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/sim"
)

// Variant is a failure-detector configuration compared in the figures.
type Variant int

const (
	// Lifeguard is the default configuration: SWIM with local health,
	// nacks and the dynamic suspicion timeout.
	Lifeguard Variant = iota + 1
	// SWIM is the same protocol without the Lifeguard parts: no local
	// health, no nacks, and a fixed suspicion timeout (the minimum).
	SWIM
)

// String returns the variant's name.
func (v Variant) String() string {
	switch v {
	case Lifeguard:
		return "swim+lifeguard"
	case SWIM:
		return "swim"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// Apply sets the variant's fields in cfg.
func (v Variant) Apply(cfg *gossip.Config) {
	if v == SWIM {
		cfg.MaxLocalHealth = 0
		cfg.Nacks = false
		cfg.SuspicionMaxMult = 1
	}
}

// Scenario is one measured run on a Net.
type Scenario struct {
	// Seed, Nodes and Variant choose the run.
	Seed    uint64
	Nodes   int
	Variant Variant
	// Drop is the message loss probability.
	Drop float64
	// Rounds is how many probe periods a false-positive run lasts.
	Rounds int
	// Slow nodes (the highest IDs) get SlowDelay added to every message
	// they send or receive.
	Slow      int
	SlowDelay time.Duration
	// Every PauseEvery rounds (0: never), a random running node is paused
	// for PauseRounds rounds, as a stop-the-world pause would.
	PauseEvery, PauseRounds int
	// Core adjusts the gossip configuration further.
	Core func(*gossip.Config)
}

func (s Scenario) cluster(late []int) (*NetCluster, error) {
	o := NetOptions{Net: DefaultNetConfig(s.Seed, s.Nodes), Seeds: 3, Warm: true, Late: late}
	o.Net.DropProb = s.Drop
	o.Core = func(cfg *gossip.Config) {
		s.Variant.Apply(cfg)
		if s.Core != nil {
			s.Core(cfg)
		}
	}
	return NewNetCluster(o)
}

// rounds converts simulated time to probe periods.
func rounds(c *NetCluster, d time.Duration) float64 {
	return float64(d) / float64(c.RoundDuration())
}

// JoinResult is what MeasureJoin reports, in probe periods.
type JoinResult struct {
	// KnownByAll: from the joiner's start until every other node holds it
	// alive.
	KnownByAll float64
	// JoinerKnowsAll: until the joiner holds every other node alive.
	JoinerKnowsAll float64
}

// MeasureJoin starts a warm cluster of Nodes-1 nodes, then one more node
// that joins cold through the seeds.
func MeasureJoin(s Scenario) (JoinResult, error) {
	c, err := s.cluster([]int{s.Nodes})
	if err != nil {
		return JoinResult{}, err
	}
	c.Crash(s.Nodes)
	c.Net.RunFor(5 * c.RoundDuration())
	start := c.Net.Now()
	c.Restart(s.Nodes)
	var res JoinResult
	joiner := func() bool {
		p, ok := c.Peer(s.Nodes)
		return ok && p.core.NumLive() == c.UpCount()
	}
	done := c.Net.RunUntil(200*c.RoundDuration(), func() bool {
		if res.JoinerKnowsAll == 0 && joiner() {
			res.JoinerKnowsAll = rounds(c, c.Net.Now()-start)
		}
		return c.Views(s.Nodes, gossip.StateAlive) == c.UpCount()-1 && res.JoinerKnowsAll > 0
	})
	res.KnownByAll = rounds(c, c.Net.Now()-start)
	if err := c.Err(); err != nil {
		return res, err
	}
	if !done {
		return res, fmt.Errorf("join of node %d not known to all within 200 rounds (%d of %d)", s.Nodes, c.Views(s.Nodes, gossip.StateAlive), c.UpCount()-1)
	}
	return res, nil
}

// CrashResult is what MeasureCrash reports, in probe periods from the
// crash.
type CrashResult struct {
	// FirstSuspect: some node suspects the crashed node.
	FirstSuspect float64
	// AllSuspect: no node holds it alive any more.
	AllSuspect float64
	// FirstDead: some node declares it dead.
	FirstDead float64
	// AllDead: every node holds it dead.
	AllDead float64
}

// MeasureCrash crashes one random node of a warm cluster.
func MeasureCrash(s Scenario) (CrashResult, error) {
	c, err := s.cluster(nil)
	if err != nil {
		return CrashResult{}, err
	}
	c.Net.RunFor(5 * c.RoundDuration())
	rng := sim.NewRand(s.Seed, "measure/crash")
	victim := 4 + rng.IntN(s.Nodes-3) // not a seed
	if s.Nodes <= 4 {
		victim = s.Nodes
	}
	c.Crash(victim)
	start := c.Net.Now()
	var res CrashResult
	at := func() float64 { return rounds(c, c.Net.Now()-start) }
	done := c.Net.RunUntil(400*c.RoundDuration(), func() bool {
		alive, suspect, dead := c.Views(victim, gossip.StateAlive), c.Views(victim, gossip.StateSuspect), c.Views(victim, gossip.StateDead)
		if res.FirstSuspect == 0 && suspect+dead > 0 {
			res.FirstSuspect = at()
		}
		if res.AllSuspect == 0 && alive == 0 {
			res.AllSuspect = at()
		}
		if res.FirstDead == 0 && dead > 0 {
			res.FirstDead = at()
		}
		return dead == c.UpCount()
	})
	res.AllDead = at()
	if err := c.Err(); err != nil {
		return res, err
	}
	if !done {
		return res, fmt.Errorf("crash of node %d not known to all within 400 rounds", victim)
	}
	return res, nil
}

// FPResult is what MeasureFalsePositives reports.
type FPResult struct {
	// Episodes counts false positives: distinct (member, incarnation)
	// deaths of a member that was running. Healthy counts those about
	// members that were neither slow nor paused at any time.
	Episodes, Healthy int
	// Declared counts the times a node's own suspicion timer declared a
	// running member dead (comparable to a heartbeat detector's verdicts);
	// HealthyDeclared those about healthy members.
	Declared, HealthyDeclared int
	// DeadViews counts the nodes that came to hold a running member dead.
	DeadViews int
	// NodeHours is Nodes·Rounds probe periods, read as seconds (a 1 s
	// probe period, the default with 100 ms ticks).
	NodeHours float64
	// MsgsPerNodeRound is the messages sent per node per probe period.
	MsgsPerNodeRound float64
}

// PerNodeHour returns Episodes per node-hour.
func (r FPResult) PerNodeHour() float64 { return float64(r.Episodes) / r.NodeHours }

// HealthyPerNodeHour returns Healthy per node-hour.
func (r FPResult) HealthyPerNodeHour() float64 { return float64(r.Healthy) / r.NodeHours }

// MeasureFalsePositives runs a warm cluster in which no node crashes, with
// the scenario's loss, slow nodes and pauses, and counts false positives.
func MeasureFalsePositives(s Scenario) (FPResult, error) {
	c, err := s.cluster(nil)
	if err != nil {
		return FPResult{}, err
	}
	degraded := map[int]bool{}
	for i := 0; i < s.Slow; i++ {
		id := s.Nodes - i
		c.Net.SetExtraDelay(id, s.SlowDelay)
		degraded[id] = true
	}
	rng := sim.NewRand(s.Seed, "measure/pauses")
	resumeAt := map[int]int{}
	sent := c.Net.Stats().Sent
	for r := 0; r < s.Rounds; r++ {
		if s.PauseEvery > 0 && r%s.PauseEvery == 0 {
			id := 1 + rng.IntN(s.Nodes)
			if !c.Net.Paused(id) {
				c.Net.Pause(id)
				resumeAt[id] = r + s.PauseRounds
				degraded[id] = true
			}
		}
		for _, id := range sortedKeys(resumeAt) {
			if resumeAt[id] == r {
				c.Net.Resume(id)
				delete(resumeAt, id)
			}
		}
		c.Net.RunFor(c.RoundDuration())
		if err := c.Err(); err != nil {
			return FPResult{}, err
		}
	}
	res := FPResult{
		Episodes:         c.FalseEpisodes,
		Declared:         c.FalseDeclared,
		DeadViews:        c.FalseDeadViews,
		NodeHours:        float64(s.Nodes) * float64(s.Rounds) / 3600,
		MsgsPerNodeRound: float64(c.Net.Stats().Sent-sent) / float64(s.Nodes*s.Rounds),
	}
	for _, m := range c.FalseMembers {
		if !degraded[m] {
			res.Healthy++
		}
	}
	for _, m := range c.FalseDeclaredMembers {
		if !degraded[m] {
			res.HealthyDeclared++
		}
	}
	return res, nil
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sampled wraps an O(N) condition so that it is evaluated at most once per
// tick interval of simulated time (RunUntil checks after every event).
func (c *NetCluster) sampled(cond func() bool) func() bool {
	next := c.Net.Now()
	return func() bool {
		if c.Net.Now() < next {
			return false
		}
		next = c.Net.Now() + c.Opts.Net.TickInterval
		return cond()
	}
}

// PartitionResult is what MeasurePartition reports, in probe periods.
type PartitionResult struct {
	// SplitDead: from the split until each side holds the other dead.
	SplitDead float64
	// Healed: from the heal until every node holds every other alive.
	Healed float64
}

// MeasurePartition splits a warm cluster in two halves until each side
// has declared the other dead, heals it, and measures the convergence.
func MeasurePartition(s Scenario) (PartitionResult, error) {
	c, err := s.cluster(nil)
	if err != nil {
		return PartitionResult{}, err
	}
	c.Net.RunFor(5 * c.RoundDuration())
	groups := make([]int, s.Nodes)
	for i := range groups {
		groups[i] = 1 + i%2
	}
	c.Net.SetGroups(groups)
	start := c.Net.Now()
	var res PartitionResult
	split := c.Net.RunUntil(500*c.RoundDuration(), func() bool {
		return c.Views(1, gossip.StateDead) >= s.Nodes/2 && c.Views(2, gossip.StateDead) >= (s.Nodes+1)/2-1
	})
	res.SplitDead = rounds(c, c.Net.Now()-start)
	if !split {
		return res, errors.New("the sides never declared each other dead")
	}
	c.Net.SetGroups(nil)
	start = c.Net.Now()
	healed := c.Net.RunUntil(1000*c.RoundDuration(), c.sampled(c.Converged))
	res.Healed = rounds(c, c.Net.Now()-start)
	if err := c.Err(); err != nil {
		return res, err
	}
	if !healed {
		return res, errors.New("membership did not converge within 1000 rounds of the heal")
	}
	return res, nil
}
