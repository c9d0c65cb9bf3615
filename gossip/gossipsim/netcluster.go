package gossipsim

import (
	"fmt"
	"slices"
	"time"

	"github.com/cairndb/cairn/gossip"
)

// NetOptions describe a gossip cluster on a Net.
type NetOptions struct {
	// Net is the network.
	Net NetConfig
	// Core adjusts each node's gossip.Config after SimConfig.
	Core func(*gossip.Config)
	// Seeds is how many of the first nodes a (re)starting node joins
	// through.
	Seeds int
	// Warm starts every node already knowing every other one alive (as
	// if a join push-pull had answered), so that large clusters skip the
	// bootstrap; nodes started later join cold.
	Warm bool
	// Late are nodes left out of the warm tables: they start idle (no
	// join) so that the run can crash them at once and restart them when
	// it wants a cold join.
	Late []int
	// ValidEvery runs gossip.Node.Valid on the node that handled an event
	// every that many events (0: never); it costs O(table).
	ValidEvery int
}

// NetCluster is a gossip cluster on a Net, with the Checker on every
// Ready and, per member, the number of up nodes that hold it in each
// state: the counters the measurements read.
type NetCluster struct {
	Opts  NetOptions
	Net   *Net[gossip.Message]
	Check *Checker
	peers []*Peer
	warm  bool // node starts during NewNetCluster are warm
	// views[s][m-1] counts the up nodes (m itself excluded) that hold
	// member m in state s.
	views [gossip.StateLeft + 1][]int32
	// FalseDeclared counts dead declarations (a node's own suspicion
	// timer ran out) about a member that was up; FalseDeadViews counts the
	// times a node came to hold an up member dead, by its own timer or by
	// gossip. Declared and DeadViews count all of them.
	FalseDeclared, FalseDeadViews, Declared, DeadViews int
	// FalseEpisodes counts distinct (member, incarnation) deaths of up
	// members: one false positive, however many nodes declared or heard it.
	FalseEpisodes int
	// FalseMembers lists the member of each false episode, and
	// FalseDeclaredMembers the member of each false declaration, in order.
	FalseMembers, FalseDeclaredMembers []int
	falseSeen                          map[[2]uint64]bool
	// OnEvent, if set, sees every event as it is handed out.
	OnEvent func(observer gossip.NodeID, e *gossip.Event)
	events  uint64
	err     error
}

// NewNetCluster builds and starts the cluster.
func NewNetCluster(o NetOptions) (*NetCluster, error) {
	c := &NetCluster{Opts: o, peers: make([]*Peer, o.Net.Nodes), warm: o.Warm, falseSeen: map[[2]uint64]bool{}}
	for s := range c.views {
		c.views[s] = make([]int32, o.Net.Nodes)
	}
	c.Check = NewChecker(c.config(1, 0))
	net, err := NewNet(o.Net, c.start, hashMessage)
	if err != nil {
		return nil, err
	}
	c.Net = net
	c.warm = false
	return c, nil
}

func (c *NetCluster) config(id gossip.NodeID, last uint64) gossip.Config {
	cfg := SimConfig(id, last)
	// The counters follow events: leave room for a whole table's worth.
	cfg.MaxPendingEvents = max(cfg.MaxPendingEvents, 2*c.Opts.Net.Nodes+64)
	if c.Opts.Core != nil {
		c.Opts.Core(&cfg)
	}
	return cfg
}

// Err returns the first invariant violation.
func (c *NetCluster) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.Check.Err()
}

// Peer returns node id's current incarnation if it is up.
func (c *NetCluster) Peer(id int) (*Peer, bool) {
	if _, up := c.Net.Node(id); !up {
		return nil, false
	}
	return c.peers[id-1], true
}

func (c *NetCluster) start(h *NetHost[gossip.Message]) NetNode[gossip.Message] {
	id := gossip.NodeID(h.ID())
	cfg := c.config(id, h.Stored())
	cfg.Rand = h.Rand()
	core, err := gossip.New(cfg)
	if err != nil {
		panic(fmt.Sprintf("gossipsim: node %d: %v", id, err))
	}
	p := &Peer{core: core}
	p.env = peerEnv{
		send:    func(to gossip.NodeID, m gossip.Message) { h.Send(int(to), m) },
		persist: h.Store,
		observe: c.observe,
		fail: func(err error) {
			if c.err == nil {
				c.err = fmt.Errorf("node %d: %w", id, err)
			}
		},
	}
	c.peers[id-1] = p
	if c.warm && slices.Contains(c.Opts.Late, int(id)) {
		p.flush()
		return netNode{c: c, p: p}
	}
	if c.warm {
		table := make([]gossip.Update, 0, c.Opts.Net.Nodes)
		for m := 1; m <= c.Opts.Net.Nodes; m++ {
			if !slices.Contains(c.Opts.Late, m) {
				table = append(table, gossip.Update{Member: gossip.NodeID(m), Incarnation: 1, State: gossip.StateAlive})
			}
		}
		from := gossip.NodeID(1)
		if id == 1 {
			from = 2
		}
		if err := core.Step(from, gossip.Message{Kind: gossip.MsgPushPullReply, From: from, Updates: table}); err != nil {
			panic(err)
		}
	} else {
		var seeds []gossip.Seed
		for s := 1; s <= c.Opts.Seeds; s++ {
			seeds = append(seeds, gossip.Seed{ID: gossip.NodeID(s)})
		}
		if err := core.Join(seeds); err != nil {
			panic(err)
		}
	}
	p.flush()
	return netNode{c: c, p: p}
}

// netNode adapts a Peer to NetNode.
type netNode struct {
	c *NetCluster
	p *Peer
}

func (n netNode) Deliver(from int, m gossip.Message) {
	n.p.deliver(gossip.NodeID(from), m)
	n.c.afterEvent(n.p)
}
func (n netNode) Tick() { n.p.tick(); n.c.afterEvent(n.p) }

func (c *NetCluster) afterEvent(p *Peer) {
	c.events++
	if c.Opts.ValidEvery > 0 && c.events%uint64(c.Opts.ValidEvery) == 0 && c.err == nil {
		if err := p.core.Valid(); err != nil {
			c.err = fmt.Errorf("node %d: %w", p.core.ID(), err)
		}
	}
}

func (c *NetCluster) observe(id gossip.NodeID, rd *gossip.Ready) {
	c.Check.Observe(id, rd)
	if rd.EventsDropped > 0 && c.err == nil {
		// The counters follow events: the simulations size
		// MaxPendingEvents so that none is ever dropped.
		c.err = fmt.Errorf("node %d dropped %d events", id, rd.EventsDropped)
	}
	for i := range rd.Events {
		e := &rd.Events[i]
		if e.Member.ID != id {
			c.count(id, e)
		}
		if c.OnEvent != nil {
			c.OnEvent(id, e)
		}
	}
}

func (c *NetCluster) count(observer gossip.NodeID, e *gossip.Event) {
	m := int(e.Member.ID) - 1
	if e.PrevState != 0 {
		c.views[e.PrevState][m]--
	}
	c.views[e.Member.State][m]++
	if e.Kind != gossip.EventDead {
		return
	}
	up := c.Net == nil || c.Net.Up(int(e.Member.ID))
	c.DeadViews++
	if up {
		c.FalseDeadViews++
		key := [2]uint64{uint64(e.Member.ID), e.Member.Incarnation}
		if !c.falseSeen[key] {
			c.falseSeen[key] = true
			c.FalseEpisodes++
			c.FalseMembers = append(c.FalseMembers, int(e.Member.ID))
		}
	}
	if e.By == observer {
		c.Declared++
		if up {
			c.FalseDeclared++
			c.FalseDeclaredMembers = append(c.FalseDeclaredMembers, int(e.Member.ID))
		}
	}
}

// Crash crashes node id and withdraws its views from the counters.
func (c *NetCluster) Crash(id int) {
	p, ok := c.Peer(id)
	if !ok {
		return
	}
	for _, m := range p.core.Members() {
		if int(m.ID) != id {
			c.views[m.State][m.ID-1]--
		}
	}
	c.Net.Crash(id)
}

// Restart restarts a crashed node: it comes back with a higher
// incarnation and joins through the seeds.
func (c *NetCluster) Restart(id int) { c.Net.Restart(id) }

// Views returns how many up nodes (other than m) hold member m in state s.
func (c *NetCluster) Views(m int, s gossip.State) int { return int(c.views[s][m-1]) }

// UpCount returns the number of up nodes.
func (c *NetCluster) UpCount() int {
	up := 0
	for id := 1; id <= c.Net.N(); id++ {
		if c.Net.Up(id) {
			up++
		}
	}
	return up
}

// Converged reports whether every up node holds every other up node
// alive, and no up node holds a down node live.
func (c *NetCluster) Converged() bool {
	up := c.UpCount()
	for id := 1; id <= c.Net.N(); id++ {
		if c.Net.Up(id) {
			if c.Views(id, gossip.StateAlive) != up-1 {
				return false
			}
		} else if c.Views(id, gossip.StateAlive)+c.Views(id, gossip.StateSuspect) > 0 {
			return false
		}
	}
	return true
}

// RoundDuration is the simulated time of one protocol period.
func (c *NetCluster) RoundDuration() time.Duration {
	cfg := c.config(1, 0)
	return time.Duration(cfg.ProbeIntervalTicks) * c.Opts.Net.TickInterval
}

// hashMessage folds the header and updates of a message for the trace.
func hashMessage(m gossip.Message) uint64 {
	h := fnvOffset
	mix := func(v uint64) {
		for i := 0; i < 8; i++ {
			h ^= v & 0xff
			h *= fnvPrime
			v >>= 8
		}
	}
	mix(uint64(m.Kind)<<56 | uint64(m.From)<<28 | uint64(m.To))
	mix(m.Seq)
	mix(uint64(m.Target))
	for i := range m.Updates {
		u := &m.Updates[i]
		mix(uint64(u.State)<<56 | uint64(u.Member)<<28 | uint64(u.From))
		mix(u.Incarnation)
	}
	return h
}
