package gossipsim

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/detector"
	"github.com/cairndb/cairn/sim"
)

// The baseline of the false-positive figures: every node sends a heartbeat
// to every other node every probe period, and a detector.FixedTimeout
// declares a peer dead after a fixed silence. It detects as fast as its
// timeout and costs N-1 messages per node per period.

// heartbeatEpoch anchors simulated time for the detector, which takes
// time.Time values but never reads a clock.
var heartbeatEpoch = time.Unix(0, 0).UTC()

type heartbeatNode struct {
	h        *NetHost[struct{}]
	m        *heartbeatMeasure
	det      *detector.FixedTimeout[int]
	ticks    int
	deadView []bool // index peer-1: this node holds the peer dead
}

type heartbeatMeasure struct {
	net          *Net[struct{}]
	ticksPerBeat int
	falseVerdict int
	degraded     map[int]bool
	healthy      int
}

func (n *heartbeatNode) now() time.Time {
	return heartbeatEpoch.Add(n.m.net.Now())
}

func (n *heartbeatNode) Deliver(from int, _ struct{}) {
	_ = n.det.Heartbeat(from, n.now()) // MaxNodes is the cluster size
	n.deadView[from-1] = false
}

func (n *heartbeatNode) Tick() {
	n.ticks++
	if n.ticks%n.m.ticksPerBeat != 0 {
		return
	}
	for peer := 1; peer <= n.m.net.N(); peer++ {
		if peer == n.h.ID() {
			continue
		}
		n.h.Send(peer, struct{}{})
		if !n.deadView[peer-1] && !n.det.Available(peer, n.now()) {
			n.deadView[peer-1] = true
			if n.m.net.Up(peer) {
				n.m.falseVerdict++
				if !n.m.degraded[peer] {
					n.m.healthy++
				}
			}
		}
	}
}

// HeartbeatResult is what MeasureHeartbeat reports.
type HeartbeatResult struct {
	// FalseVerdicts counts the times a node's detector declared a
	// running peer dead; Healthy those about peers never slow or paused.
	FalseVerdicts, Healthy int
	// NodeHours is Nodes·Rounds periods read as seconds.
	NodeHours float64
	// MsgsPerNodeRound is the messages sent per node per period.
	MsgsPerNodeRound float64
}

// MeasureHeartbeat runs the all-to-all heartbeat baseline under the same
// scenario (loss, slow nodes, pauses) as MeasureFalsePositives, with a
// fixed timeout of timeoutRounds periods.
func MeasureHeartbeat(s Scenario, timeoutRounds int) (HeartbeatResult, error) {
	cfg := SimConfig(1, 0)
	netCfg := DefaultNetConfig(s.Seed, s.Nodes)
	netCfg.DropProb = s.Drop
	round := time.Duration(cfg.ProbeIntervalTicks) * netCfg.TickInterval
	m := &heartbeatMeasure{ticksPerBeat: cfg.ProbeIntervalTicks, degraded: map[int]bool{}}
	start := func(h *NetHost[struct{}]) NetNode[struct{}] {
		det, err := detector.NewFixedTimeout[int](detector.FixedTimeoutConfig{Timeout: time.Duration(timeoutRounds) * round, MaxNodes: s.Nodes})
		if err != nil {
			panic(fmt.Sprintf("gossipsim: heartbeat detector: %v", err))
		}
		n := &heartbeatNode{h: h, m: m, det: det, deadView: make([]bool, s.Nodes)}
		// Every peer starts heard from, as in a warm gossip cluster.
		for peer := 1; peer <= s.Nodes; peer++ {
			if peer != h.ID() {
				_ = det.Heartbeat(peer, heartbeatEpoch)
			}
		}
		return n
	}
	net, err := NewNet(netCfg, start, func(struct{}) uint64 { return 0 })
	if err != nil {
		return HeartbeatResult{}, err
	}
	m.net = net
	for i := 0; i < s.Slow; i++ {
		net.SetExtraDelay(s.Nodes-i, s.SlowDelay)
		m.degraded[s.Nodes-i] = true
	}
	rng := sim.NewRand(s.Seed, "measure/pauses")
	resumeAt := map[int]int{}
	for r := 0; r < s.Rounds; r++ {
		if s.PauseEvery > 0 && r%s.PauseEvery == 0 {
			id := 1 + rng.IntN(s.Nodes)
			if !net.Paused(id) {
				net.Pause(id)
				resumeAt[id] = r + s.PauseRounds
				m.degraded[id] = true
			}
		}
		for _, id := range sortedKeys(resumeAt) {
			if resumeAt[id] == r {
				net.Resume(id)
				delete(resumeAt, id)
			}
		}
		net.RunFor(round)
	}
	return HeartbeatResult{
		FalseVerdicts:    m.falseVerdict,
		Healthy:          m.healthy,
		NodeHours:        float64(s.Nodes) * float64(s.Rounds) / 3600,
		MsgsPerNodeRound: float64(net.Stats().Sent) / float64(s.Nodes*s.Rounds),
	}, nil
}
