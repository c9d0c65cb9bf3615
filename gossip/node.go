package gossip

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cairndb/cairn/detector"
)

// Node is one member's SWIM state machine. It is driven by Tick, Step,
// Join, Leave and SetMeta, and hands its effects out through Ready. It is
// not safe for concurrent use: the driver serializes every call.
type Node struct {
	cfg Config
	rng *rand.Rand
	log *slog.Logger
	now uint64 // ticks since New

	self *member
	left bool
	// persistInc is set when self's incarnation changed since the last
	// Ready: the driver must persist it before sending.
	persistInc bool

	// The membership table. Invariants (checked by Valid): every member
	// of members is in all at its pos; live counts the members in alive or
	// suspect state, self included unless it left; down holds exactly the
	// dead members, each at its downPos; a suspect member has a suspicion
	// in suspicions and no other member has one.
	members    map[NodeID]*member
	all        []NodeID
	live       int
	down       []NodeID
	reap       []reapEntry // dead and left members in the order they went
	suspicions suspicionHeap

	probeOrder []NodeID
	probeNext  int
	probe      probeState
	nextProbe  uint64
	// health is Lifeguard's local health multiplier, 0..MaxLocalHealth:
	// probe interval and timeout are scaled by health+1.
	health int
	seq    uint64
	relays []relay

	queue *broadcastQueue

	seeds         []Seed
	joined        bool
	nextJoin      uint64
	nextPushPull  uint64
	nextReconnect uint64
	nextGossip    uint64
	repliesInTick int

	phi *detector.PhiAccrual[NodeID]

	out           []Outbound
	events        []Event
	eventsDropped int
	stats         Stats
}

// member is one row of the membership table.
type member struct {
	id      NodeID
	addr    string
	meta    string
	inc     uint64
	state   State
	since   uint64 // tick of the last change of state or incarnation
	susp    *suspicion
	pos     int32 // index in Node.all
	downPos int32 // index in Node.down, or -1
}

// reapEntry schedules forgetting a dead or left member.
type reapEntry struct {
	id    NodeID
	since uint64 // the member's since when it went; a later change voids the entry
}

// Seed is a node to join through.
type Seed struct {
	// ID is the seed's node ID.
	ID NodeID
	// Addr is its address, handed to the driver with every message to it
	// until the seed's own alive message gives one.
	Addr string
}

// maxSeeds bounds Join's seed list.
const maxSeeds = 64

// New returns a node that knows only itself, alive at
// cfg.LastIncarnation+1. Its first Ready carries that incarnation, to be
// persisted before anything is sent.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:     cfg,
		rng:     cfg.Rand,
		log:     cfg.Logger,
		members: make(map[NodeID]*member),
		queue:   newBroadcastQueue(cfg.MaxQueuedUpdates),
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if cfg.Phi != nil {
		pc := *cfg.Phi
		pc.MaxNodes = cfg.MaxMembers
		d, err := detector.NewPhiAccrual[NodeID](pc)
		if err != nil {
			return nil, err
		}
		n.phi = d
	}
	n.self = n.insert(cfg.ID, cfg.Addr, string(cfg.Meta), cfg.LastIncarnation+1, StateAlive)
	n.persistInc = true
	n.emit(EventJoin, n.self, 0, 0, 0)
	n.enqueue(n.selfUpdate())
	// Spread the periodic work over the first period so that nodes
	// started together do not probe and push-pull in lockstep.
	n.nextProbe = uint64(n.rng.IntN(cfg.ProbeIntervalTicks))
	n.nextPushPull = uint64(cfg.PushPullIntervalTicks/2 + n.rng.IntN(cfg.PushPullIntervalTicks))
	n.nextReconnect = uint64(n.rng.IntN(cfg.ReconnectIntervalTicks)) + uint64(cfg.ReconnectIntervalTicks)
	n.nextGossip = uint64(n.rng.IntN(cfg.GossipIntervalTicks))
	return n, nil
}

// ID returns this node's ID.
func (n *Node) ID() NodeID { return n.cfg.ID }

// Incarnation returns this node's current incarnation.
func (n *Node) Incarnation() uint64 { return n.self.inc }

// Left reports whether Leave was called.
func (n *Node) Left() bool { return n.left }

// Now returns the number of ticks since New.
func (n *Node) Now() uint64 { return n.now }

// LocalHealth returns Lifeguard's local health multiplier: 0 is healthy;
// the probe period is scaled by LocalHealth()+1.
func (n *Node) LocalHealth() int { return n.health }

// NumLive returns the number of alive and suspect members, this node
// included unless it left.
func (n *Node) NumLive() int { return n.live }

// NumMembers returns the number of rows of the membership table, dead and
// left members included.
func (n *Node) NumMembers() int { return len(n.all) }

// Stats returns the node's counters.
func (n *Node) Stats() Stats { return n.stats }

// Member returns this node's view of member id.
func (n *Node) Member(id NodeID) (Member, bool) {
	m, ok := n.members[id]
	if !ok {
		return Member{}, false
	}
	return n.snapshot(m, true), true
}

// State returns this node's belief about member id, without copying the
// member (0 if unknown), and the incarnation it refers to.
func (n *Node) State(id NodeID) (State, uint64) {
	m, ok := n.members[id]
	if !ok {
		return 0, 0
	}
	return m.state, m.inc
}

// Members returns every member of the table, sorted by ID.
func (n *Node) Members() []Member {
	out := make([]Member, 0, len(n.all))
	for _, id := range n.all {
		out = append(out, n.snapshot(n.members[id], true))
	}
	slices.SortFunc(out, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

func (n *Node) snapshot(m *member, withPhi bool) Member {
	s := Member{ID: m.id, Addr: m.addr, Meta: m.meta, Incarnation: m.inc, State: m.state, SinceTick: m.since}
	if withPhi && n.phi != nil && m != n.self {
		s.Phi = n.phi.Suspicion(m.id, n.phiTime())
	}
	return s
}

// phiEpoch anchors tick times for the phi detector, which reads
// time.Time values but never a clock.
var phiEpoch = time.Unix(0, 0).UTC()

func (n *Node) phiTime() time.Time {
	return phiEpoch.Add(time.Duration(n.now) * n.cfg.TickDuration)
}

// Join sends this node's state to each seed and keeps doing so every
// JoinRetryTicks until one answers, and again whenever this node finds
// itself alone. Seeds naming this node are skipped.
func (n *Node) Join(seeds []Seed) error {
	if n.left {
		return ErrLeft
	}
	if len(seeds) > maxSeeds {
		return ErrTooManySeeds
	}
	n.seeds = n.seeds[:0]
	for _, s := range seeds {
		if s.ID != 0 && s.ID != n.cfg.ID {
			n.seeds = append(n.seeds, s)
		}
	}
	n.joined = false
	n.nextJoin = n.now
	n.tickJoin()
	return nil
}

// SetMeta publishes new metadata under a new incarnation.
func (n *Node) SetMeta(meta []byte) error {
	if n.left {
		return ErrLeft
	}
	if len(meta) > n.cfg.MaxMetaBytes {
		return ErrMetaTooLarge
	}
	prev := n.self.inc
	n.self.meta = string(meta)
	n.setSelfIncarnation(n.self.inc + 1)
	n.emit(EventUpdate, n.self, StateAlive, prev, 0)
	return nil
}

// Leave marks this node as left, sends the news to LeaveFanout live
// members at once and queues it for piggybacking. The node stops probing;
// it still answers pings (with its leave) so that the news keeps
// spreading. The driver should keep it running for a few probe periods,
// then stop it. A node that left can only come back as a new process with
// a higher incarnation.
func (n *Node) Leave() {
	if n.left {
		return
	}
	n.left = true
	n.probe = probeState{}
	prev := n.self.state
	n.setState(n.self, StateLeft, n.self.inc)
	n.emit(EventLeave, n.self, prev, n.self.inc, 0)
	u := n.selfUpdate()
	n.enqueue(u)
	for _, id := range n.randomLive(n.cfg.LeaveFanout, 0) {
		n.send(id, Message{Kind: MsgGossip}, &u)
	}
}

// selfUpdate is this node's own news: alive, or left.
func (n *Node) selfUpdate() Update {
	return Update{Member: n.cfg.ID, Incarnation: n.self.inc, State: n.self.state, Addr: n.self.addr, Meta: n.self.meta}
}

func (n *Node) setSelfIncarnation(inc uint64) {
	n.self.inc = inc
	n.self.since = n.now
	n.persistInc = true
	n.enqueue(n.selfUpdate())
}
