package gossip

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
)

// testCluster is a synchronous, lossless (unless told) in-memory network
// for unit tests: messages are queued and delivered in order by flush.
type testCluster struct {
	t      *testing.T
	nodes  map[NodeID]*Node
	ids    []NodeID
	queue  []Message
	drop   func(m Message) bool
	events map[NodeID][]Event
	incs   map[NodeID]uint64 // persisted incarnations
	tweak  func(*Config)
}

func testConfig(id NodeID, seed uint64) Config {
	cfg := DefaultConfig()
	cfg.ID = id
	cfg.Rand = rand.New(rand.NewPCG(seed, uint64(id)))
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func newTestCluster(t *testing.T, n int, tweak func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: map[NodeID]*Node{}, events: map[NodeID][]Event{}, incs: map[NodeID]uint64{}, tweak: tweak}
	for i := 1; i <= n; i++ {
		c.start(NodeID(i))
	}
	return c
}

func (c *testCluster) start(id NodeID) *Node {
	c.t.Helper()
	cfg := testConfig(id, 42)
	cfg.LastIncarnation = c.incs[id]
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[id] = n
	if !slices.Contains(c.ids, id) {
		c.ids = append(c.ids, id)
	}
	c.collect(n)
	return n
}

func (c *testCluster) crash(id NodeID) { delete(c.nodes, id) }

func (c *testCluster) collect(n *Node) {
	if !n.HasReady() {
		return
	}
	rd := n.Ready()
	if rd.Incarnation != 0 {
		c.incs[n.ID()] = rd.Incarnation
	}
	c.events[n.ID()] = append(c.events[n.ID()], rd.Events...)
	for _, o := range rd.Messages {
		c.queue = append(c.queue, o.Msg)
	}
}

// flush delivers queued messages (and those they cause) until none is left.
func (c *testCluster) flush() {
	c.t.Helper()
	for steps := 0; len(c.queue) > 0; steps++ {
		if steps > 1_000_000 {
			c.t.Fatal("flush does not terminate")
		}
		m := c.queue[0]
		c.queue = c.queue[1:]
		if c.drop != nil && c.drop(m) {
			continue
		}
		n, ok := c.nodes[m.To]
		if !ok {
			continue
		}
		if err := n.Step(m.From, m); err != nil {
			c.t.Fatalf("step %v: %v", m.Kind, err)
		}
		c.collect(n)
	}
}

// tick ticks every node k times, flushing after each tick, and checks
// every node's invariants.
func (c *testCluster) tick(k int) {
	c.t.Helper()
	for range k {
		for _, id := range c.ids {
			if n, ok := c.nodes[id]; ok {
				n.Tick()
				c.collect(n)
			}
		}
		c.flush()
		for _, id := range c.ids {
			if n, ok := c.nodes[id]; ok {
				if err := n.Valid(); err != nil {
					c.t.Fatalf("node %d: %v", id, err)
				}
			}
		}
	}
}

// joinAll joins every node through node 1 and runs until all know all.
func (c *testCluster) joinAll() {
	c.t.Helper()
	for _, id := range c.ids {
		if err := c.nodes[id].Join([]Seed{{ID: 1}}); err != nil {
			c.t.Fatal(err)
		}
		c.collect(c.nodes[id])
	}
	c.flush()
	for i := 0; i < 200 && !c.allSee(StateAlive); i++ {
		c.tick(1)
	}
	if !c.allSee(StateAlive) {
		c.t.Fatal("cluster did not converge")
	}
}

// allSee reports whether every node holds every other node in state s.
func (c *testCluster) allSee(s State) bool {
	for _, a := range c.nodes {
		for _, b := range c.ids {
			if b == a.ID() {
				continue
			}
			if st, _ := a.State(b); st != s {
				return false
			}
		}
	}
	return true
}

func (c *testCluster) state(observer, member NodeID) State {
	st, _ := c.nodes[observer].State(member)
	return st
}

func (c *testCluster) hasEvent(observer NodeID, k EventKind, member NodeID) bool {
	for _, e := range c.events[observer] {
		if e.Kind == k && e.Member.ID == member {
			return true
		}
	}
	return false
}
