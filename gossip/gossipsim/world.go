package gossipsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/sim"
)

// fileIncarnation is where a simulated node persists its incarnation.
const fileIncarnation = "incarnation"

// WorldOptions describe one run on the simulator (package sim), which
// brings the nemesis (partitions of every shape, crashes with restarts,
// pauses, loss bursts, delay spikes), the disk and the trace; sim.MaxNodes
// bounds its size.
type WorldOptions struct {
	// Nodes is the cluster size, 2..sim.MaxNodes.
	Nodes int
	// Seeds is how many of the first nodes the others join through.
	Seeds int
	// Core adjusts each node's gossip.Config (after the simulator's
	// defaults: see SimConfig).
	Core func(*gossip.Config)
	// Net is the simulated network.
	Net sim.NetConfig
	// Codec sends every message through gossip.Encode and gossip.Decode.
	Codec bool
	// ValidEveryStep runs gossip.Node.Valid on every up node after each
	// step (O(N²) per step: small clusters only).
	ValidEveryStep bool
}

// DefaultWorldOptions returns options for n nodes: three seeds, the
// simulator's default lossy network, the codec on and full validation.
func DefaultWorldOptions(n int) WorldOptions {
	return WorldOptions{Nodes: n, Seeds: min(3, n), Net: sim.DefaultNetConfig(), Codec: true, ValidEveryStep: true}
}

// WorldOptionsForSeed varies the run with the seed, so that many seeds
// cover 5 to 12 nodes, SWIM with and without Lifeguard, and the optional
// gossip fan-out.
func WorldOptionsForSeed(seed uint64) WorldOptions {
	rng := sim.NewRand(seed, "gossipsim/options")
	o := DefaultWorldOptions(5 + rng.IntN(8))
	variant := Lifeguard
	if rng.IntN(3) == 0 {
		variant = SWIM
	}
	fanout := 0
	if rng.IntN(4) == 0 {
		fanout = 2
	}
	o.Core = func(cfg *gossip.Config) {
		variant.Apply(cfg)
		cfg.GossipFanout = fanout
	}
	return o
}

// SimConfig returns the gossip configuration the simulations use: the
// defaults, with TickDuration matching the simulator's 10 ms ticks (a
// probe period is then 100 ms of simulated time, ten times the largest
// network delay, the ratio of a 1 s period on a LAN), and shorter
// push-pull, reconnect and retention periods so that runs of a few
// simulated minutes see them. The caller sets Rand.
func SimConfig(id gossip.NodeID, lastInc uint64) gossip.Config {
	cfg := gossip.DefaultConfig()
	cfg.ID = id
	cfg.LastIncarnation = lastInc
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.TickDuration = 10 * time.Millisecond
	cfg.PushPullIntervalTicks = 200
	cfg.ReconnectIntervalTicks = 100
	cfg.DeadRetentionTicks = 6000
	return cfg
}

// World is a gossip cluster on the simulator.
type World struct {
	Opts  WorldOptions
	W     *sim.World[gossip.Message]
	Check *Checker
	peers []*Peer // current incarnation of each node, index id-1
	lim   gossip.Limits
}

// NewWorld builds the cluster; every node starts at once and joins
// through the seeds.
func NewWorld(seed uint64, o WorldOptions) (*World, error) {
	if o.Nodes < 2 || o.Nodes > sim.MaxNodes || o.Seeds < 1 || o.Seeds > o.Nodes {
		return nil, fmt.Errorf("gossipsim: %d nodes with %d seeds", o.Nodes, o.Seeds)
	}
	c := &World{Opts: o, peers: make([]*Peer, o.Nodes)}
	probe := c.config(1, 0)
	c.Check = NewChecker(probe)
	c.lim = probe.Limits()
	cfg := sim.DefaultConfig(seed)
	cfg.Nodes = o.Nodes
	cfg.Net = o.Net
	w, err := sim.New(cfg, sim.Protocol[gossip.Message]{Start: c.start, Describe: Describe})
	if err != nil {
		return nil, err
	}
	c.W = w
	w.AddInvariant("gossip", c.invariant)
	return c, nil
}

func (c *World) config(id gossip.NodeID, lastInc uint64) gossip.Config {
	cfg := SimConfig(id, lastInc)
	if c.Opts.Core != nil {
		c.Opts.Core(&cfg)
	}
	return cfg
}

// start builds a node incarnation from its disk: only the incarnation
// survives a crash, as in the real driver.
func (c *World) start(h *sim.Host[gossip.Message]) sim.Node[gossip.Message] {
	id := gossip.NodeID(h.ID())
	var last uint64
	if b, ok := h.Disk().ReadFile(fileIncarnation); ok && len(b) == 8 {
		last = binary.LittleEndian.Uint64(b)
	}
	cfg := c.config(id, last)
	cfg.Rand = h.Rand()
	core, err := gossip.New(cfg)
	if err != nil {
		panic(fmt.Sprintf("gossipsim: node %d: %v", id, err))
	}
	p := &Peer{core: core}
	p.env = peerEnv{
		send: func(to gossip.NodeID, m gossip.Message) {
			if c.Opts.Codec {
				dec, err := gossip.Decode(gossip.Encode(&m), c.lim)
				if err != nil {
					c.Check.failf("node %d: own message does not decode: %v", id, err)
					return
				}
				m = dec
			}
			h.Send(sim.NodeID(to), m)
		},
		persist: func(inc uint64) {
			h.Disk().WriteFile(fileIncarnation, binary.LittleEndian.AppendUint64(nil, inc))
			h.Disk().Sync(fileIncarnation)
		},
		observe: c.Check.Observe,
		fail:    func(err error) { c.Check.failf("node %d: %v", id, err) },
	}
	var seeds []gossip.Seed
	for s := 1; s <= c.Opts.Seeds; s++ {
		seeds = append(seeds, gossip.Seed{ID: gossip.NodeID(s)})
	}
	if err := core.Join(seeds); err != nil {
		panic(fmt.Sprintf("gossipsim: node %d: join: %v", id, err))
	}
	p.flush()
	c.peers[id-1] = p
	return worldNode{p}
}

// worldNode adapts a Peer to sim.Node.
type worldNode struct{ p *Peer }

func (n worldNode) Deliver(from sim.NodeID, m gossip.Message) { n.p.deliver(gossip.NodeID(from), m) }
func (n worldNode) Tick()                                     { n.p.tick() }

// Peer returns node id's current incarnation if it is up.
func (c *World) Peer(id gossip.NodeID) (*Peer, bool) {
	if !c.W.Up(sim.NodeID(id)) {
		return nil, false
	}
	return c.peers[id-1], true
}

func (c *World) invariant() error {
	if err := c.Check.Err(); err != nil {
		return err
	}
	if !c.Opts.ValidEveryStep {
		return nil
	}
	for id := 1; id <= c.Opts.Nodes; id++ {
		if p, ok := c.Peer(gossip.NodeID(id)); ok {
			if err := p.core.Valid(); err != nil {
				return fmt.Errorf("node %d: %w", id, err)
			}
		}
	}
	return nil
}

// Converged reports nil once every up, unpaused node sees every other one
// alive at the incarnation that node holds itself, and every down node as
// not live: the membership has healed.
func (c *World) Converged() error {
	for a := 1; a <= c.Opts.Nodes; a++ {
		pa, ok := c.Peer(gossip.NodeID(a))
		if !ok || c.W.Paused(sim.NodeID(a)) {
			continue
		}
		for b := 1; b <= c.Opts.Nodes; b++ {
			pb, up := c.Peer(gossip.NodeID(b))
			st, inc := pa.core.State(gossip.NodeID(b))
			switch {
			case up && !c.W.Paused(sim.NodeID(b)) && (st != gossip.StateAlive || inc != pb.core.Incarnation()):
				return fmt.Errorf("node %d sees %d as %v@%d, it is alive@%d", a, b, st, inc, pb.core.Incarnation())
			case !up && st.Live():
				return fmt.Errorf("node %d sees down node %d as %v", a, b, st)
			}
		}
	}
	return nil
}

// DeadByMajority returns an up, unpaused node that a majority of the up
// nodes consider dead, if there is one.
func (c *World) DeadByMajority() (gossip.NodeID, bool) {
	up := 0
	for a := 1; a <= c.Opts.Nodes; a++ {
		if _, ok := c.Peer(gossip.NodeID(a)); ok {
			up++
		}
	}
	for b := 1; b <= c.Opts.Nodes; b++ {
		if _, ok := c.Peer(gossip.NodeID(b)); !ok || c.W.Paused(sim.NodeID(b)) {
			continue
		}
		dead := 0
		for a := 1; a <= c.Opts.Nodes; a++ {
			if pa, ok := c.Peer(gossip.NodeID(a)); ok {
				if st, _ := pa.core.State(gossip.NodeID(b)); st == gossip.StateDead {
					dead++
				}
			}
		}
		if dead > up/2 {
			return gossip.NodeID(b), true
		}
	}
	return 0, false
}

// RunChaos runs one seed: the nemesis for chaos simulated time, a heal,
// then the liveness bound (the membership converges within converge), then
// a calm period during which no live node may be declared dead by a
// majority. It returns the trace hash.
func RunChaos(seed uint64, o WorldOptions, chaos, converge, calm time.Duration) (uint64, error) {
	c, err := NewWorld(seed, o)
	if err != nil {
		return 0, err
	}
	ncfg := sim.DefaultNemesisConfig(o.Nodes)
	ncfg.Chaos = chaos
	nem, err := sim.NewNemesis(c.W, ncfg)
	if err != nil {
		return 0, err
	}
	nem.Start()
	if err := c.W.RunFor(chaos); err != nil {
		return c.W.TraceHash(), errors.New(c.W.Report(err))
	}
	nem.HealAll()
	if err := c.W.Await(converge, c.Converged); err != nil {
		return c.W.TraceHash(), errors.New(c.W.Report(err))
	}
	c.W.AddInvariant("no live node dead by a majority after the heal", func() error {
		if id, bad := c.DeadByMajority(); bad {
			return fmt.Errorf("node %d is up but a majority holds it dead", id)
		}
		return nil
	})
	if err := c.W.RunFor(calm); err != nil {
		return c.W.TraceHash(), errors.New(c.W.Report(err))
	}
	return c.W.TraceHash(), nil
}

// Describe is the canonical text of a message for the trace: the header
// and each update, or for a push-pull the size and a hash of its table.
func Describe(m gossip.Message) string {
	s := fmt.Sprintf("%s %d->%d seq=%d", m.Kind, m.From, m.To, m.Seq)
	if m.Target != 0 {
		s += fmt.Sprintf(" target=%d", m.Target)
	}
	if m.Kind.Stream() {
		h := fnv.New64a()
		h.Write(gossip.Encode(&m))
		return s + fmt.Sprintf(" table=%d hash=%x", len(m.Updates), h.Sum64())
	}
	for _, u := range m.Updates {
		s += " " + u.String()
	}
	return s
}
