package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// NodeID names a simulated node: 1..Config.Nodes. Zero is never a node.
type NodeID uint64

// Node is a protocol instance as the simulator drives it: a state machine
// that reacts to messages and ticks. It sends messages and touches its disk
// only through the Host it was started with, and it must be deterministic:
// no clock, no goroutines, no global random source, no map iteration whose
// order reaches its output (see the package HAZARDs).
//
// There is no Crash method: a crash discards the Node value, which is the
// strongest way to drop all volatile state. The next incarnation is built
// by Protocol.Start from the disk.
type Node[M any] interface {
	// Deliver hands the node a message that from sent.
	Deliver(from NodeID, msg M)
	// Tick advances the node's logical clock by one tick.
	Tick()
}

// Protocol is how a protocol plugs into the simulator.
type Protocol[M any] struct {
	// Start builds a node incarnation: at the beginning of the run on an
	// empty disk, and at every restart on the disk the crash left. It must
	// rebuild every piece of state from h.Disk() alone.
	Start func(h *Host[M]) Node[M]
	// Describe returns a canonical, deterministic text for a message (no
	// pointers, no map order): it is folded into the trace hash and shown
	// in failure reports.
	Describe func(msg M) string
}

// World owns one simulated run: the clock, the event queue, the network,
// the disks and the nodes. It is single-threaded: every method must be
// called from the goroutine that runs it, including from inside Node
// methods and scheduled callbacks.
type World[M any] struct {
	cfg   Config
	proto Protocol[M]

	now       time.Duration
	seq       uint64
	queue     eventQueue[M]
	trace     *trace
	err       error
	instant   time.Duration // time of the current run of same-instant events
	atInstant int

	nodes []nodeSlot[M] // index id-1
	net   network

	invariants []invariant
}

// nodeSlot is the simulator's view of one node.
type nodeSlot[M any] struct {
	node    Node[M] // nil while down
	host    *Host[M]
	disk    *Disk
	up      bool
	paused  bool
	gen     uint64 // bumped by crash, restart, pause and resume; stale timers carry an old one
	inc     uint64 // incarnation: bumped by each start
	backlog []held[M]
}

// held is a message that arrived while its destination was paused.
type held[M any] struct {
	from NodeID
	msg  M
}

type invariant struct {
	name  string
	check func() error
}

// New builds a world and starts every node on an empty disk.
func New[M any](cfg Config, proto Protocol[M]) (*World[M], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if proto.Start == nil || proto.Describe == nil {
		return nil, errors.New("sim: Protocol needs Start and Describe")
	}
	w := &World[M]{
		cfg:   cfg,
		proto: proto,
		trace: newTrace(cfg.TraceTail),
		nodes: make([]nodeSlot[M], cfg.Nodes),
		net:   newNetwork(cfg),
	}
	for i := range w.nodes {
		w.nodes[i].disk = NewDisk()
	}
	for id := NodeID(1); int(id) <= cfg.Nodes; id++ {
		w.start(id)
	}
	return w, nil
}

// Config returns the configuration the world was built with.
func (w *World[M]) Config() Config { return w.cfg }

// Seed returns the run's seed.
func (w *World[M]) Seed() uint64 { return w.cfg.Seed }

// N returns the number of nodes.
func (w *World[M]) N() int { return w.cfg.Nodes }

// Now returns the simulated time since the start of the run.
func (w *World[M]) Now() time.Duration { return w.now }

// Stream returns a new random generator for the named stream of this run's
// seed (see NewRand). Each call starts the stream over: call it once per
// component and keep the result. The simulator itself uses "net",
// "nemesis" and "node/<id>/<incarnation>"; pick other names.
func (w *World[M]) Stream(name string) *rand.Rand { return NewRand(w.cfg.Seed, name) }

// Node returns the running incarnation of node id, or false if it is down.
// Adapters type-assert it to their concrete type to submit client requests.
func (w *World[M]) Node(id NodeID) (Node[M], bool) {
	s := w.slot(id)
	return s.node, s.up
}

// Disk returns node id's disk, which survives crashes.
func (w *World[M]) Disk(id NodeID) *Disk { return w.slot(id).disk }

// Up reports whether node id is running (it may still be paused).
func (w *World[M]) Up(id NodeID) bool { return w.slot(id).up }

// Paused reports whether node id is paused.
func (w *World[M]) Paused(id NodeID) bool { return w.slot(id).paused }

// Err returns the first failure of the run (an invariant violation or a
// livelock), or nil. Once set, Step returns it and does nothing else.
func (w *World[M]) Err() error { return w.err }

// Steps returns the number of events processed so far.
func (w *World[M]) Steps() uint64 { return w.trace.count }

// TraceHash returns the hash of every event processed so far. Two runs of
// the same seed must give the same hash.
func (w *World[M]) TraceHash() uint64 { return w.trace.hash }

// TraceTail returns the last Config.TraceTail events, one per line.
func (w *World[M]) TraceTail() string { return w.trace.tail() }

// Report formats err with the seed, the time and the trace tail, for a
// failure message.
func (w *World[M]) Report(err error) string {
	return fmt.Sprintf("seed %d failed at %v after %d steps: %v\nlast events:\n%s",
		w.cfg.Seed, w.now, w.trace.count, err, w.trace.tail())
}

// AddInvariant registers a check that runs after every step. A non-nil
// error stops the run: Step returns it, wrapped with the check's name.
// Checks must only read state.
func (w *World[M]) AddInvariant(name string, check func() error) {
	w.invariants = append(w.invariants, invariant{name: name, check: check})
}

// Note adds a line of text to the trace (and its hash), e.g. a client's
// observation. It is not an event and does not run the invariants.
func (w *World[M]) Note(text string) {
	w.trace.add(traceRecord{at: w.now, kind: EventCall, text: "note: " + text})
}

// Schedule runs fn at simulated time at (or now, if at is in the past) as
// an EventCall named name. The name goes into the trace: keep it
// deterministic.
func (w *World[M]) Schedule(at time.Duration, name string, fn func()) {
	w.push(event[M]{at: max(at, w.now), kind: EventCall, name: name, fn: fn})
}

// After runs fn after simulated duration d; see Schedule.
func (w *World[M]) After(d time.Duration, name string, fn func()) { w.Schedule(w.now+d, name, fn) }

func (w *World[M]) push(e event[M]) {
	w.seq++
	e.seq = w.seq
	w.queue.push(e)
}

func (w *World[M]) slot(id NodeID) *nodeSlot[M] {
	if id < 1 || int(id) > len(w.nodes) {
		panic(fmt.Sprintf("sim: node %d outside 1..%d", id, len(w.nodes)))
	}
	return &w.nodes[id-1]
}

// Step processes the next event and then checks every invariant. It
// returns the run's failure, if any; with an empty queue it returns an
// error too, since a live cluster always has ticks pending.
func (w *World[M]) Step() error {
	if w.err != nil {
		return w.err
	}
	for {
		if w.queue.len() == 0 {
			return w.fail(errors.New("sim: event queue is empty (every node is down and nothing is scheduled)"))
		}
		e := w.queue.pop()
		if w.stale(&e) {
			continue
		}
		if e.at != w.instant {
			w.instant, w.atInstant = e.at, 0
		}
		w.atInstant++
		if w.atInstant > w.cfg.MaxEventsPerInstant {
			return w.fail(fmt.Errorf("sim: livelock: more than %d events at %v", w.cfg.MaxEventsPerInstant, e.at))
		}
		w.now = e.at
		w.process(&e)
		return w.checkInvariants()
	}
}

// stale reports whether e belongs to a node generation that has ended (a
// tick of a crashed or paused incarnation); such events are dropped
// without a trace record.
func (w *World[M]) stale(e *event[M]) bool {
	switch e.kind {
	case EventTick, EventResume, EventRestart:
		return w.slot(e.node).gen != e.gen
	}
	return false
}

func (w *World[M]) process(e *event[M]) {
	rec := traceRecord{at: e.at, kind: e.kind, node: e.node}
	switch e.kind {
	case EventDeliver:
		w.deliver(e, rec)
	case EventTick:
		w.trace.add(rec)
		s := w.slot(e.node)
		s.node.Tick()
		w.scheduleTick(e.node, w.cfg.TickInterval)
	case EventCall:
		rec.text = e.name
		w.trace.add(rec)
		e.fn()
	case EventRestart:
		w.trace.add(rec)
		w.start(e.node)
	case EventResume:
		w.trace.add(rec)
		w.resume(e.node)
	}
}

func (w *World[M]) checkInvariants() error {
	for _, inv := range w.invariants {
		if err := inv.check(); err != nil {
			return w.fail(fmt.Errorf("invariant %q violated at %v (step %d): %w", inv.name, w.now, w.trace.count, err))
		}
	}
	return nil
}

func (w *World[M]) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// RunUntil processes every event up to simulated time t and then sets the
// clock to t. It stops early on failure.
func (w *World[M]) RunUntil(t time.Duration) error {
	for w.err == nil && w.queue.len() > 0 && w.queue.peekTime() <= t {
		if err := w.Step(); err != nil {
			return err
		}
	}
	if w.err == nil && t > w.now {
		w.now = t
	}
	return w.err
}

// RunFor runs for simulated duration d; see RunUntil.
func (w *World[M]) RunFor(d time.Duration) error { return w.RunUntil(w.now + d) }

// RunSteps processes n events. It stops early on failure.
func (w *World[M]) RunSteps(n int) error {
	for i := 0; i < n; i++ {
		if err := w.Step(); err != nil {
			return err
		}
	}
	return nil
}

// Await runs until cond returns nil, checking it after every step, or
// fails once simulated duration within has passed: the liveness check
// (after the faults heal, a leader is elected and pending proposals commit
// within a bound). The error wraps cond's last error.
func (w *World[M]) Await(within time.Duration, cond func() error) error {
	deadline := w.now + within
	last := cond()
	for last != nil {
		if w.err != nil {
			return w.err
		}
		if w.queue.len() == 0 || w.queue.peekTime() > deadline {
			return fmt.Errorf("sim: liveness: not reached within %v (at %v): %w", within, w.now, last)
		}
		if err := w.Step(); err != nil {
			return err
		}
		last = cond()
	}
	return nil
}
