package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Cluster is the part of a World that a nemesis drives. *World[M] satisfies
// it for every M, so one nemesis serves every protocol.
type Cluster interface {
	N() int
	Now() time.Duration
	Stream(name string) *rand.Rand
	Schedule(at time.Duration, name string, fn func())
	Up(id NodeID) bool
	Paused(id NodeID) bool
	Crash(id NodeID)
	Restart(id NodeID)
	RestartAfter(id NodeID, d time.Duration)
	PauseFor(id NodeID, d time.Duration)
	Resume(id NodeID)
	SetLinks(l *Links)
	HealLinks()
	SetNetFault(f NetFault)
	Note(text string)
}

var _ Cluster = (*World[struct{}])(nil)

// FaultKind names a fault the nemesis injects.
type FaultKind int

const (
	// FaultPartition cuts links in one of the PartitionShapes.
	FaultPartition FaultKind = iota + 1
	// FaultCrash crashes a node and restarts it later.
	FaultCrash
	// FaultPause pauses a node and resumes it later.
	FaultPause
	// FaultLoss raises the message loss rate for a while.
	FaultLoss
	// FaultDelay raises every message's delay for a while.
	FaultDelay
)

// String returns the kind's name.
func (k FaultKind) String() string {
	switch k {
	case FaultPartition:
		return "partition"
	case FaultCrash:
		return "crash"
	case FaultPause:
		return "pause"
	case FaultLoss:
		return "loss"
	case FaultDelay:
		return "delay"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// PartitionShape names a partition the nemesis can make.
type PartitionShape int

const (
	// ShapeMajorityMinority splits the nodes into a majority and a minority.
	ShapeMajorityMinority PartitionShape = iota + 1
	// ShapeIsolateOne cuts one random node off.
	ShapeIsolateOne
	// ShapeIsolateLeader cuts off the node that NemesisConfig.Leader names
	// (a random node if there is none).
	ShapeIsolateLeader
	// ShapeBridge splits the others in two halves joined only by one node.
	ShapeBridge
	// ShapeOneWay lets one node send to another but not hear back.
	ShapeOneWay
)

// String returns the shape's name.
func (s PartitionShape) String() string {
	switch s {
	case ShapeMajorityMinority:
		return "majority-minority"
	case ShapeIsolateOne:
		return "isolate-one"
	case ShapeIsolateLeader:
		return "isolate-leader"
	case ShapeBridge:
		return "bridge"
	case ShapeOneWay:
		return "one-way"
	}
	return fmt.Sprintf("PartitionShape(%d)", int(s))
}

// AllShapes returns every partition shape, in a new slice.
func AllShapes() []PartitionShape {
	return []PartitionShape{ShapeMajorityMinority, ShapeIsolateOne, ShapeIsolateLeader, ShapeBridge, ShapeOneWay}
}

// NemesisConfig sets the fault schedule: a chaos phase of Chaos, during
// which faults start at random gaps and last random durations, then a heal
// that removes every fault so that liveness can be checked.
type NemesisConfig struct {
	// Chaos is the length of the chaos phase, from Start. Default 10s.
	Chaos time.Duration
	// MinGap and MaxGap bound the time between two fault starts.
	// Defaults 100ms and 1s.
	MinGap, MaxGap time.Duration
	// MinFault and MaxFault bound how long one fault lasts (for a crash:
	// how long the node stays down). Defaults 50ms and 2s.
	MinFault, MaxFault time.Duration
	// Weights give the relative frequency of each fault kind; a weight of
	// 0 disables the kind. At least one must be positive. Defaults:
	// partition 4, crash 2, pause 1, loss 1, delay 1.
	PartitionWeight, CrashWeight, PauseWeight, LossWeight, DelayWeight int
	// Shapes are the partition shapes to choose from, uniformly. Default
	// AllShapes().
	Shapes []PartitionShape
	// MaxDown bounds how many nodes are crashed or paused at once. Default
	// (n-1)/2, a minority, so that a majority usually stays up and the
	// protocol makes progress under faults; set it to n to allow total
	// outages.
	MaxDown int
	// LossBurst is the extra drop probability of a FaultLoss. Default 0.5.
	LossBurst float64
	// DelaySpike is the extra delay of a FaultDelay. Default 100ms.
	DelaySpike time.Duration
	// Leader names the current leader for ShapeIsolateLeader; nil means
	// the protocol has none and a random node is isolated.
	Leader func() (NodeID, bool)
}

// DefaultNemesisConfig returns the documented defaults for n nodes.
func DefaultNemesisConfig(n int) NemesisConfig {
	return NemesisConfig{
		Chaos:           10 * time.Second,
		MinGap:          100 * time.Millisecond,
		MaxGap:          time.Second,
		MinFault:        50 * time.Millisecond,
		MaxFault:        2 * time.Second,
		PartitionWeight: 4,
		CrashWeight:     2,
		PauseWeight:     1,
		LossWeight:      1,
		DelayWeight:     1,
		Shapes:          AllShapes(),
		MaxDown:         (n - 1) / 2,
		LossBurst:       0.5,
		DelaySpike:      100 * time.Millisecond,
	}
}

// Validate reports the first field that is out of range for n nodes.
func (c NemesisConfig) Validate(n int) error {
	switch {
	case c.Chaos < 0:
		return fmt.Errorf("sim: nemesis Chaos = %v, want >= 0", c.Chaos)
	case c.MinGap <= 0 || c.MaxGap < c.MinGap:
		return fmt.Errorf("sim: nemesis gaps [%v, %v], want 0 < MinGap <= MaxGap", c.MinGap, c.MaxGap)
	case c.MinFault <= 0 || c.MaxFault < c.MinFault:
		return fmt.Errorf("sim: nemesis fault durations [%v, %v], want 0 < MinFault <= MaxFault", c.MinFault, c.MaxFault)
	case c.PartitionWeight < 0 || c.CrashWeight < 0 || c.PauseWeight < 0 || c.LossWeight < 0 || c.DelayWeight < 0:
		return fmt.Errorf("sim: nemesis weights must be >= 0")
	case c.PartitionWeight+c.CrashWeight+c.PauseWeight+c.LossWeight+c.DelayWeight == 0:
		return fmt.Errorf("sim: nemesis weights are all 0")
	case c.PartitionWeight > 0 && len(c.Shapes) == 0:
		return fmt.Errorf("sim: nemesis PartitionWeight > 0 but no Shapes")
	case c.MaxDown < 0 || c.MaxDown > n:
		return fmt.Errorf("sim: nemesis MaxDown = %d, want 0..%d", c.MaxDown, n)
	case !(c.LossBurst >= 0 && c.LossBurst <= 1):
		return fmt.Errorf("sim: nemesis LossBurst = %v, want in [0, 1]", c.LossBurst)
	case c.DelaySpike < 0:
		return fmt.Errorf("sim: nemesis DelaySpike = %v, want >= 0", c.DelaySpike)
	}
	for _, s := range c.Shapes {
		if s < ShapeMajorityMinority || s > ShapeOneWay {
			return fmt.Errorf("sim: nemesis shape %v is unknown", s)
		}
	}
	return nil
}

// Nemesis injects a seeded schedule of faults into a Cluster, then heals
// them all. It draws from its own stream ("nemesis"), so its schedule is a
// function of the seed.
type Nemesis struct {
	c        Cluster
	cfg      NemesisConfig
	rng      *rand.Rand
	chaosEnd time.Duration
	healed   bool
	// tokens identify the current partition and network fault, so that the
	// end of an older fault does not remove a newer one.
	linkToken, netToken uint64
	counts              [FaultDelay + 1]int
}

// NewNemesis validates cfg for c's size and returns an idle nemesis.
func NewNemesis(c Cluster, cfg NemesisConfig) (*Nemesis, error) {
	if err := cfg.Validate(c.N()); err != nil {
		return nil, err
	}
	return &Nemesis{c: c, cfg: cfg, rng: c.Stream("nemesis")}, nil
}

// Start schedules the chaos phase from now and the heal at its end.
func (n *Nemesis) Start() {
	n.chaosEnd = n.c.Now() + n.cfg.Chaos
	n.c.Schedule(n.c.Now()+n.gap(), "nemesis: fault", n.fault)
	n.c.Schedule(n.chaosEnd, "nemesis: heal", n.HealAll)
}

// HealEnd returns the time at which the chaos phase ends.
func (n *Nemesis) HealEnd() time.Duration { return n.chaosEnd }

// Healed reports whether the heal has run.
func (n *Nemesis) Healed() bool { return n.healed }

// Count returns how many faults of kind k were started.
func (n *Nemesis) Count(k FaultKind) int { return n.counts[k] }

// HealAll removes every fault now: links healed, network fault cleared,
// paused nodes resumed, crashed nodes restarted. No fault starts after it.
func (n *Nemesis) HealAll() {
	n.healed = true
	n.linkToken++
	n.netToken++
	n.c.HealLinks()
	n.c.SetNetFault(NetFault{})
	for id := NodeID(1); int(id) <= n.c.N(); id++ {
		n.c.Resume(id)
		n.c.Restart(id)
	}
}

func (n *Nemesis) gap() time.Duration { return between(n.rng, n.cfg.MinGap, n.cfg.MaxGap) }

func (n *Nemesis) duration() time.Duration { return between(n.rng, n.cfg.MinFault, n.cfg.MaxFault) }

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

func (n *Nemesis) fault() {
	if n.healed || n.c.Now() >= n.chaosEnd {
		return
	}
	k := n.pick()
	n.counts[k]++
	d := n.duration()
	switch k {
	case FaultPartition:
		n.partition(d)
	case FaultCrash:
		if id, ok := n.victim(); ok {
			n.c.Crash(id)
			n.c.RestartAfter(id, d)
		}
	case FaultPause:
		if id, ok := n.victim(); ok {
			n.c.PauseFor(id, d)
		}
	case FaultLoss:
		n.netFault(NetFault{ExtraDrop: n.cfg.LossBurst}, d)
	case FaultDelay:
		n.netFault(NetFault{ExtraDelay: n.cfg.DelaySpike}, d)
	}
	n.c.Schedule(n.c.Now()+n.gap(), "nemesis: fault", n.fault)
}

func (n *Nemesis) pick() FaultKind {
	weights := [...]struct {
		k FaultKind
		w int
	}{
		{FaultPartition, n.cfg.PartitionWeight},
		{FaultCrash, n.cfg.CrashWeight},
		{FaultPause, n.cfg.PauseWeight},
		{FaultLoss, n.cfg.LossWeight},
		{FaultDelay, n.cfg.DelayWeight},
	}
	total := 0
	for _, x := range weights {
		total += x.w
	}
	r := n.rng.IntN(total)
	for _, x := range weights {
		if r < x.w {
			return x.k
		}
		r -= x.w
	}
	panic("unreachable: weights sum to total")
}

// victim picks a running, unpaused node to crash or pause, unless MaxDown
// nodes are already out.
func (n *Nemesis) victim() (NodeID, bool) {
	var live []NodeID
	out := 0
	for id := NodeID(1); int(id) <= n.c.N(); id++ {
		if n.c.Up(id) && !n.c.Paused(id) {
			live = append(live, id)
		} else {
			out++
		}
	}
	if out >= n.cfg.MaxDown || len(live) == 0 {
		n.c.Note("nemesis: MaxDown reached, fault skipped")
		return 0, false
	}
	return live[n.rng.IntN(len(live))], true
}

func (n *Nemesis) partition(d time.Duration) {
	size := n.c.N()
	shape := n.cfg.Shapes[n.rng.IntN(len(n.cfg.Shapes))]
	randomNode := func() NodeID { return NodeID(1 + n.rng.IntN(size)) }
	var links *Links
	switch shape {
	case ShapeMajorityMinority:
		links, _, _ = MajorityMinority(size, n.rng)
	case ShapeIsolateOne:
		links = Isolate(size, randomNode())
	case ShapeIsolateLeader:
		id, ok := NodeID(0), false
		if n.cfg.Leader != nil {
			id, ok = n.cfg.Leader()
		}
		if !ok {
			id = randomNode()
		}
		links = Isolate(size, id)
	case ShapeBridge:
		links, _, _ = Bridge(size, randomNode(), n.rng)
	case ShapeOneWay:
		from, to := randomNode(), randomNode()
		links = OneWay(size, from, to) // from == to leaves every link up
	}
	n.c.Note("nemesis: partition " + shape.String())
	n.c.SetLinks(links)
	n.linkToken++
	token := n.linkToken
	n.c.Schedule(n.c.Now()+d, "nemesis: end partition", func() {
		if n.linkToken == token && !n.healed {
			n.c.HealLinks()
		}
	})
}

func (n *Nemesis) netFault(f NetFault, d time.Duration) {
	n.c.SetNetFault(f)
	n.netToken++
	token := n.netToken
	n.c.Schedule(n.c.Now()+d, "nemesis: end netfault", func() {
		if n.netToken == token && !n.healed {
			n.c.SetNetFault(NetFault{})
		}
	})
}
