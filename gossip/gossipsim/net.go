package gossipsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairndb/cairn/sim"
)

// MaxNetNodes bounds NetConfig.Nodes.
const MaxNetNodes = 100_000

// Net is a deterministic network simulator for clusters beyond
// sim.MaxNodes (the simulator's link matrix is n² and it traces every
// message as text, which is right for 3 to 64 nodes and too heavy for
// 10,000). It keeps what the measurements need and nothing else: a
// seeded clock and event queue, per-message delay (which reorders) and
// loss, partitions as groups of nodes, per-node extra delay (a slow node),
// pauses (no ticks, messages held) and crashes with restarts that keep one
// persisted value. Its trace is a hash of every event, for determinism
// checks. Like sim, it is single-threaded and draws every random number
// from streams of one seed (sim.NewRand).
type Net[M any] struct {
	cfg   NetConfig
	start func(h *NetHost[M]) NetNode[M]
	hash  func(M) uint64

	now   time.Duration
	seq   uint64
	queue netQueue[M]
	slots []netSlot[M]
	rng   *rand.Rand

	trace uint64
	steps uint64
	stats NetStats
}

// NetConfig describes a Net.
type NetConfig struct {
	// Seed is the only source of randomness of the run.
	Seed uint64
	// Nodes is the cluster size, 1..MaxNetNodes; IDs are 1..Nodes.
	Nodes int
	// TickInterval is the simulated time between two ticks of a node.
	TickInterval time.Duration
	// MinDelay and MaxDelay bound a message's one-way delay (uniform).
	MinDelay, MaxDelay time.Duration
	// DropProb is the chance that a message is lost.
	DropProb float64
	// PausedBacklog bounds the messages held for a paused node.
	PausedBacklog int
}

// DefaultNetConfig mirrors sim's defaults: 10 ms ticks, 1-10 ms delays,
// 1% loss.
func DefaultNetConfig(seed uint64, nodes int) NetConfig {
	return NetConfig{Seed: seed, Nodes: nodes, TickInterval: 10 * time.Millisecond,
		MinDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, DropProb: 0.01, PausedBacklog: 1024}
}

// Validate reports the first field out of range.
func (c NetConfig) Validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > MaxNetNodes:
		return fmt.Errorf("gossipsim: Nodes = %d, want 1..%d", c.Nodes, MaxNetNodes)
	case c.TickInterval <= 0 || c.MinDelay <= 0 || c.MaxDelay < c.MinDelay:
		return fmt.Errorf("gossipsim: want TickInterval > 0 and 0 < MinDelay <= MaxDelay")
	case !(c.DropProb >= 0 && c.DropProb <= 1):
		return fmt.Errorf("gossipsim: DropProb = %v, want in [0, 1]", c.DropProb)
	case c.PausedBacklog < 1:
		return fmt.Errorf("gossipsim: PausedBacklog = %d, want >= 1", c.PausedBacklog)
	}
	return nil
}

// NetNode is a protocol instance on a Net, as sim.Node is on a World.
type NetNode[M any] interface {
	// Deliver hands the node a message that from sent.
	Deliver(from int, msg M)
	// Tick advances the node's clock by one tick.
	Tick()
}

// NetHost is what a node incarnation may touch.
type NetHost[M any] struct {
	net *Net[M]
	id  int
	inc uint64
	rng *rand.Rand
}

// ID returns the node's ID, 1..Nodes.
func (h *NetHost[M]) ID() int { return h.id }

// Rand returns the incarnation's random stream.
func (h *NetHost[M]) Rand() *rand.Rand { return h.rng }

// Stored returns the value the node persisted before its last crash.
func (h *NetHost[M]) Stored() uint64 { return h.net.slots[h.id-1].stored }

// Store persists v (durable at once).
func (h *NetHost[M]) Store(v uint64) {
	if h.alive() {
		h.net.slots[h.id-1].stored = v
	}
}

// Send puts a message on the network; a crashed incarnation sends nothing.
func (h *NetHost[M]) Send(to int, msg M) {
	if h.alive() {
		h.net.send(h.id, to, msg)
	}
}

func (h *NetHost[M]) alive() bool {
	s := &h.net.slots[h.id-1]
	return s.up && s.inc == h.inc
}

type netSlot[M any] struct {
	node       NetNode[M]
	up, paused bool
	gen        uint64 // bumped by crash, pause and resume: voids pending ticks
	inc        uint64
	stored     uint64
	group      int           // partition group; messages cross groups only when all are 0
	extraDelay time.Duration // added to every message from or to the node
	backlog    []netHeld[M]
}

type netHeld[M any] struct {
	from int
	msg  M
}

// NetStats counts messages.
type NetStats struct {
	// Sent counts every send; Delivered those handed to a node.
	Sent, Delivered uint64
	// DroppedLoss, DroppedCut and DroppedDown count losses, partition
	// cuts and messages to down nodes or full backlogs.
	DroppedLoss, DroppedCut, DroppedDown uint64
}

// NewNet builds a net and starts every node.
func NewNet[M any](cfg NetConfig, start func(h *NetHost[M]) NetNode[M], hash func(M) uint64) (*Net[M], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Net[M]{cfg: cfg, start: start, hash: hash, slots: make([]netSlot[M], cfg.Nodes),
		rng: sim.NewRand(cfg.Seed, "net"), trace: fnvOffset}
	for id := 1; id <= cfg.Nodes; id++ {
		n.startNode(id)
	}
	return n, nil
}

// Now returns the simulated time.
func (n *Net[M]) Now() time.Duration { return n.now }

// N returns the number of nodes.
func (n *Net[M]) N() int { return n.cfg.Nodes }

// Node returns node id's current incarnation, if it is up.
func (n *Net[M]) Node(id int) (NetNode[M], bool) {
	s := &n.slots[id-1]
	return s.node, s.up
}

// Up reports whether node id is running (it may be paused).
func (n *Net[M]) Up(id int) bool { return n.slots[id-1].up }

// Paused reports whether node id is paused.
func (n *Net[M]) Paused(id int) bool { return n.slots[id-1].paused }

// Stats returns the message counters.
func (n *Net[M]) Stats() NetStats { return n.stats }

// TraceHash returns the hash of every event so far.
func (n *Net[M]) TraceHash() uint64 { return n.trace }

// Steps returns the number of events processed.
func (n *Net[M]) Steps() uint64 { return n.steps }

// SetDrop changes the loss probability.
func (n *Net[M]) SetDrop(p float64) { n.cfg.DropProb = p }

// SetGroups partitions the nodes: group[i] is node i+1's group, and
// messages only pass between nodes of the same group. Nil heals.
func (n *Net[M]) SetGroups(group []int) {
	for i := range n.slots {
		n.slots[i].group = 0
		if group != nil {
			n.slots[i].group = group[i]
		}
	}
	n.fold(uint64(len(group)), 0xa11)
}

// SetExtraDelay makes node id slow: every message from or to it takes d
// longer.
func (n *Net[M]) SetExtraDelay(id int, d time.Duration) { n.slots[id-1].extraDelay = d }

// Crash stops node id; its messages in flight are dropped on arrival.
func (n *Net[M]) Crash(id int) {
	s := &n.slots[id-1]
	if !s.up {
		return
	}
	s.up, s.paused, s.node, s.backlog = false, false, nil, nil
	s.gen++
	n.fold(uint64(id), 0xc4a5)
}

// Restart starts node id again; its node is rebuilt by start with the
// value it stored.
func (n *Net[M]) Restart(id int) {
	if !n.slots[id-1].up {
		n.startNode(id)
	}
}

// Pause stops node id's ticks and holds its incoming messages.
func (n *Net[M]) Pause(id int) {
	s := &n.slots[id-1]
	if s.up && !s.paused {
		s.paused = true
		s.gen++
		n.fold(uint64(id), 0x9a5e)
	}
}

// Resume restarts a paused node's ticks and delivers what it held.
func (n *Net[M]) Resume(id int) {
	s := &n.slots[id-1]
	if !s.up || !s.paused {
		return
	}
	s.paused = false
	s.gen++
	for _, h := range s.backlog {
		n.push(netEvent[M]{at: n.now, kind: netDeliver, node: id, from: h.from, msg: h.msg})
	}
	s.backlog = nil
	n.scheduleTick(id, n.cfg.TickInterval)
	n.fold(uint64(id), 0x4e5)
}

func (n *Net[M]) startNode(id int) {
	s := &n.slots[id-1]
	s.inc++
	s.gen++
	s.up, s.paused, s.backlog = true, false, nil
	h := &NetHost[M]{net: n, id: id, inc: s.inc, rng: sim.NewRand(n.cfg.Seed, fmt.Sprintf("node/%d/%d", id, s.inc))}
	s.node = n.start(h)
	n.scheduleTick(id, 1+time.Duration(n.rng.Int64N(int64(n.cfg.TickInterval))))
}

func (n *Net[M]) scheduleTick(id int, after time.Duration) {
	n.push(netEvent[M]{at: n.now + after, kind: netTick, node: id, gen: n.slots[id-1].gen})
}

func (n *Net[M]) send(from, to int, msg M) {
	n.stats.Sent++
	if n.slots[from-1].group != n.slots[to-1].group {
		n.stats.DroppedCut++
		return
	}
	if n.cfg.DropProb > 0 && n.rng.Float64() < n.cfg.DropProb {
		n.stats.DroppedLoss++
		return
	}
	d := n.cfg.MinDelay + time.Duration(n.rng.Int64N(int64(n.cfg.MaxDelay-n.cfg.MinDelay)+1))
	d += n.slots[from-1].extraDelay + n.slots[to-1].extraDelay
	n.push(netEvent[M]{at: n.now + d, kind: netDeliver, node: to, from: from, msg: msg})
}

// Step processes the next event. The queue is never empty while a node is
// up; with every node down it reports false.
func (n *Net[M]) Step() bool {
	for n.queue.len() > 0 {
		e := n.queue.pop()
		s := &n.slots[e.node-1]
		if e.kind == netTick && e.gen != s.gen {
			continue // a tick of an ended generation
		}
		n.now = e.at
		n.steps++
		switch e.kind {
		case netTick:
			n.fold(uint64(e.node), uint64(e.at))
			s.node.Tick()
			n.scheduleTick(e.node, n.cfg.TickInterval)
		case netDeliver:
			n.deliver(&e, s)
		}
		return true
	}
	return false
}

func (n *Net[M]) deliver(e *netEvent[M], s *netSlot[M]) {
	switch {
	case !s.up:
		n.stats.DroppedDown++
		return
	case n.slots[e.from-1].group != s.group:
		n.stats.DroppedCut++
		return
	case s.paused:
		if len(s.backlog) >= n.cfg.PausedBacklog {
			n.stats.DroppedDown++
			return
		}
		s.backlog = append(s.backlog, netHeld[M]{from: e.from, msg: e.msg})
		return
	}
	n.stats.Delivered++
	n.fold(uint64(e.from)<<32|uint64(e.node), n.hash(e.msg)^uint64(e.at))
	s.node.Deliver(e.from, e.msg)
}

// RunFor processes every event in the next d of simulated time.
func (n *Net[M]) RunFor(d time.Duration) {
	end := n.now + d
	for n.queue.len() > 0 && n.queue.peekTime() <= end {
		n.Step()
	}
	n.now = max(n.now, end)
}

// RunUntil runs until cond returns true, checked after every event, or
// until within has passed; it reports whether cond held.
func (n *Net[M]) RunUntil(within time.Duration, cond func() bool) bool {
	end := n.now + within
	for !cond() {
		if n.queue.len() == 0 || n.queue.peekTime() > end {
			n.now = max(n.now, end)
			return false
		}
		n.Step()
	}
	return true
}

// FNV-1a, as sim's trace uses.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func (n *Net[M]) fold(a, b uint64) {
	h := n.trace
	for _, v := range [2]uint64{a, b} {
		for i := 0; i < 8; i++ {
			h ^= v & 0xff
			h *= fnvPrime
			v >>= 8
		}
	}
	n.trace = h
}

type netEventKind uint8

const (
	netTick netEventKind = iota + 1
	netDeliver
)

type netEvent[M any] struct {
	at   time.Duration
	seq  uint64
	kind netEventKind
	node int
	from int
	gen  uint64
	msg  M
}

func (n *Net[M]) push(e netEvent[M]) {
	n.seq++
	e.seq = n.seq
	n.queue.push(e)
}

// netQueue is a binary min-heap by (at, seq).
type netQueue[M any] struct{ h []netEvent[M] }

func (q *netQueue[M]) len() int                { return len(q.h) }
func (q *netQueue[M]) peekTime() time.Duration { return q.h[0].at }

func (q *netQueue[M]) less(i, j int) bool {
	if q.h[i].at != q.h[j].at {
		return q.h[i].at < q.h[j].at
	}
	return q.h[i].seq < q.h[j].seq
}

func (q *netQueue[M]) push(e netEvent[M]) {
	q.h = append(q.h, e)
	for i := len(q.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *netQueue[M]) pop() netEvent[M] {
	e := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	var zero netEvent[M]
	q.h[last] = zero
	q.h = q.h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return e
}
