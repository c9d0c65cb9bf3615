package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/ring"
)

// Coordinator runs the eventual tier's requests on one node: it places
// keys on the ring, coordinates writes and reads at their consistency level,
// serves peers' requests, and replays hints. It implements
// transport.Handler for the eventual channel.
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	metrics *merkle.Metrics
	pend    pending
	px      *paxosDriver
	sem     chan struct{}
	local   chan localJob // store requests for the workers (local.go)
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	// serving guards isClosed against the start of a served request;
	// served counts those running.
	serving  sync.RWMutex
	isClosed bool
	served   sync.WaitGroup
	// streaming is set while the anti-entropy pass after a ring change
	// has not completed (CaughtUp).
	streaming atomic.Bool
}

// New starts a Coordinator. Close stops it.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger.With("component", "eventual"), m: m,
		pend: pending{calls: map[uint64]pendingCall{}}, sem: make(chan struct{}, cfg.MaxInFlight),
		closed: make(chan struct{})}
	if c.metrics, err = merkle.NewMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if err := c.registerCatchUp(); err != nil {
		return nil, err
	}
	if !cfg.DisablePaxos {
		if err := c.startPaxos(); err != nil {
			return nil, err
		}
	}
	c.startLocal()
	c.wg.Add(3)
	go c.handoffLoop()
	go c.gcLoop()
	go c.sweepLoop()
	if cfg.Trees != nil {
		c.streaming.Store(true) // until the first pass
		c.wg.Add(1)
		go c.antiEntropyLoop()
	}
	return c, nil
}

// background runs fn on a goroutine that Close waits for, or, once the
// coordinator is closed, calls refused instead (on the caller's goroutine).
func (c *Coordinator) background(fn, refused func()) {
	c.serving.RLock()
	if c.isClosed {
		c.serving.RUnlock()
		refused()
		return
	}
	c.served.Add(1)
	c.serving.RUnlock()
	go func() {
		defer c.served.Done()
		fn()
	}()
}

// Close stops the hint replay and anti-entropy, fails the requests this
// node sent, and waits for the peer requests being served. It does not
// close the store, which must outlive it.
func (c *Coordinator) Close() {
	c.once.Do(func() {
		close(c.closed)
		c.serving.Lock()
		c.isClosed = true
		c.serving.Unlock()
	})
	c.wg.Wait()
	c.failPending()
	c.dropQueuedLocal()
	c.served.Wait()
}

// placement returns the key's replicas (the preference list, at most N
// nodes) and the nodes after them in ring order, which stand in for
// replicas that are down (sloppy quorum).
func (c *Coordinator) placement(key []byte) (prefs, fallbacks []uint64) {
	r := c.cfg.Membership.Ring()
	if r == nil {
		return nil, nil
	}
	nodes := len(r.Nodes())
	n := min(c.cfg.Replicas, nodes)
	ids := r.AppendReplicas(make([]ring.NodeID, 0, min(2*n, nodes)), key, min(2*n, nodes))
	all := make([]uint64, 0, len(ids))
	for _, id := range ids {
		if v, err := ParseNodeID(id); err == nil {
			all = append(all, v)
		}
	}
	if len(all) < n {
		return all, nil
	}
	return all[:n], all[n:]
}

func (c *Coordinator) alive(id uint64) bool {
	return id == c.cfg.LocalID || c.cfg.Membership.Alive(id)
}

func contains(ids []uint64, id uint64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func (c *Coordinator) observe(kind string, level Level, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, ErrUnavailable):
		result = "unavailable"
	case err != nil:
		result = "error"
	}
	c.m.requests.WithLabelValues(kind, level.String(), result).Inc()
	c.m.seconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// Write runs op on key at the write level: on this node if it is one of
// the key's replicas, else forwarded to one that is. It returns once W
// replicas (hinted stand-ins count, as in Dynamo) hold the write, or an
// *UnavailableError naming how many did.
func (c *Coordinator) Write(ctx context.Context, key []byte, op Op, level Level) (Result, error) {
	start := time.Now()
	key = append([]byte(nil), key...) // kept by hints and late answers after Write returns
	prefs, fallbacks := c.placement(key)
	var (
		res  Result
		err  error
		kind = "write"
	)
	if len(prefs) == 0 {
		err = &UnavailableError{Op: "write", Level: level, Need: 1}
	} else if contains(prefs, c.cfg.LocalID) {
		res, err = c.coordinateWrite(ctx, key, op, level, prefs, fallbacks)
	} else {
		kind = "forward"
		res, err = c.forward(ctx, key, op, level, prefs)
	}
	c.observe(kind, level, start, err)
	return res, err
}

// forward hands a mutation to the first live replica that takes it. It
// moves on to the next replica only when the transport refused to send the
// request: once a replica may have applied the operation, trying another
// could apply it twice (an INCRBY counted twice), so its answer, error or
// timeout, is the answer.
func (c *Coordinator) forward(ctx context.Context, key []byte, op Op, level Level, prefs []uint64) (Result, error) {
	var seen []byte
	if op.RemovesObserved() && !op.Seen.IsZero() {
		seen = op.Seen.AppendBinary(nil)
	}
	for _, p := range prefs {
		if !c.alive(p) {
			continue
		}
		ans := c.wait(ctx, c.start(p, message{typ: msgMutate, key: key, level: level, op: op, obj: seen}))
		if ans.err == errNotSent {
			continue
		}
		if ans.typ != msgMutateResp {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			return Result{}, fmt.Errorf("%w: replica %x did not answer in time; the write may or may not have been applied", ErrTimeout, p)
		}
		res := Result{N: ans.result.N, OK: ans.result.OK}
		if d, derr := object.Decode(ans.obj); derr == nil {
			res.Delta = d
		}
		return res, errFromText(ans.err)
	}
	return Result{}, &UnavailableError{Op: "write", Level: level, Need: level.Need(len(prefs)), Replicas: len(prefs)}
}

// coordinateWrite applies op locally, then ships the delta to the other
// replicas (or to stand-ins for those that are down) and waits for W.
func (c *Coordinator) coordinateWrite(ctx context.Context, key []byte, op Op, level Level, prefs, fallbacks []uint64) (Result, error) {
	// A remove removes what this replica has seen (Op.RemovesObserved).
	// It first merges what the requesting connection saw (Op.Seen), so a
	// connection removes what it wrote or read at any level; and above ONE
	// a read quorum of the key, so it removes every element a quorum
	// acknowledged before it (their replica sets intersect): an SREM at
	// QUORUM after an SADD at QUORUM removes the member even when this
	// replica missed the SADD. Both are merged under the key's lock, in
	// the same write as the remove.
	var seen object.Object
	if op.RemovesObserved() {
		seen = op.Seen
		if level.Need(len(prefs)) > 1 {
			c.m.removeReads.Inc()
			merged, err := c.readFrom(ctx, key, level, false)
			if err != nil {
				return Result{}, err
			}
			merged.Merge(seen)
			seen = merged
		}
	}
	st := object.Stamp{Replica: c.cfg.Store.ReplicaID(), TS: c.cfg.Clock.Now()}
	var res Result
	delta, wrote, err := c.cfg.Store.MutateUnsynced(key, func(o *object.Object) (object.Object, error) {
		if !seen.IsZero() {
			o.Merge(seen)
		}
		d, r, err := op.apply(o, st)
		res = r
		return d, err
	})
	if err != nil || !wrote {
		return res, err
	}
	res.Delta = delta
	need := level.Need(len(prefs))
	enc := delta.AppendBinary(nil)
	// Each replica's answer comes back through a callback (startThen):
	// the write goes on after W answered, and only a real failure of a
	// replica may leave a hint for it.
	calls := 0
	results := make(chan bool, len(prefs))
	ship := func(to, replica uint64, hinted bool) {
		calls++
		c.startThen(to, message{typ: msgApply, key: key, obj: enc, hintFor: hintFor(hinted, replica)}, func(ans message) {
			ok := ans.typ == msgApplyResp && ans.err == ""
			if !ok {
				// The write reaches the replica later. Storing the hint
				// syncs: off the goroutine that delivered the answer.
				hint := func() { c.keepHint(replica, key, delta) }
				c.background(hint, hint)
			} else if hinted {
				c.m.hints.WithLabelValues("sloppy").Inc()
			}
			results <- ok
		})
	}
	fb := 0
	for _, p := range prefs {
		if p == c.cfg.LocalID {
			continue
		}
		if c.alive(p) {
			ship(p, p, false)
			continue
		}
		// Sloppy quorum: the next live node outside the preference list
		// keeps the write as a hint for p.
		for fb < len(fallbacks) && !c.alive(fallbacks[fb]) {
			fb++
		}
		if fb < len(fallbacks) {
			ship(fallbacks[fb], p, true)
			fb++
			continue
		}
		c.keepHint(p, key, delta)
	}
	// This node's fsync runs while the other replicas take the delta.
	acks := 0
	if err := c.cfg.Store.Sync(); err != nil {
		c.log.Warn("local write not durable", "err", err)
	} else {
		acks = 1
	}
	for answered := 0; acks < need && answered < calls; answered++ {
		if <-results {
			acks++
		}
	}
	if acks < need {
		return res, &UnavailableError{Op: "write", Level: level, Need: need, Answered: acks, Replicas: len(prefs)}
	}
	return res, nil
}

// hintFor is msgApply's hintFor: the replica a stand-in keeps the write
// for, or 0 when the receiver is the replica.
func hintFor(hinted bool, replica uint64) uint64 {
	if hinted {
		return replica
	}
	return 0
}

// keepHint stores a write for a replica that did not take it.
func (c *Coordinator) keepHint(replica uint64, key []byte, delta object.Object) {
	if err := c.cfg.Store.AddHint(replica, key, delta, time.Now()); err != nil {
		c.log.Warn("could not keep a hint; anti-entropy will repair", "replica", fmt.Sprintf("%x", replica), "err", err)
		return
	}
	c.m.hints.WithLabelValues("local").Inc()
}

// readAnswer is one replica's state of a key.
type readAnswer struct {
	from uint64
	obj  object.Object
	err  error
}

// Read returns the merge of R replicas' states of key, after repairing
// those among them that were behind; replicas that answer later are
// repaired in the background.
func (c *Coordinator) Read(ctx context.Context, key []byte, level Level) (object.Object, error) {
	start := time.Now()
	key = append([]byte(nil), key...) // kept by background repair after Read returns
	o, err := c.read(ctx, key, level)
	c.observe("read", level, start, err)
	return o, err
}

func (c *Coordinator) read(ctx context.Context, key []byte, level Level) (object.Object, error) {
	return c.readFrom(ctx, key, level, true)
}

// readFrom is read; withLocal false leaves this node's own state out (and
// asks one replica less when this node is one): for a caller that merges
// it itself, as a remove does under the key's lock.
func (c *Coordinator) readFrom(ctx context.Context, key []byte, level Level, withLocal bool) (object.Object, error) {
	prefs, _ := c.placement(key)
	need := level.Need(len(prefs))
	// This node first: its answer costs no round trip.
	var targets []uint64
	self := 0 // 1 when this replica's state is the caller's to merge
	if contains(prefs, c.cfg.LocalID) {
		if withLocal {
			targets = append(targets, c.cfg.LocalID)
		} else {
			self, need = 1, need-1
		}
	}
	for _, p := range prefs {
		if p != c.cfg.LocalID && c.alive(p) {
			targets = append(targets, p)
		}
	}
	if len(targets) < need {
		return object.Object{}, &UnavailableError{Op: "read", Level: level, Need: need + self, Answered: len(targets) + self, Replicas: len(prefs)}
	}
	answers := make(chan readAnswer, len(targets))
	asked := 0
	ask := func() {
		t := targets[asked]
		asked++
		if t == c.cfg.LocalID {
			o, err := c.cfg.Store.Get(key)
			answers <- readAnswer{t, o, err}
			return
		}
		// Late answers feed background repair; answers has room for all.
		c.startThen(t, message{typ: msgRead, key: key}, func(ans message) {
			a := readAnswer{from: t}
			if ans.typ != msgReadResp || ans.err != "" {
				a.err = fmt.Errorf("replica %x: %s", t, ans.err)
			} else {
				a.obj, a.err = object.Decode(ans.obj)
			}
			answers <- a
		})
	}
	// Ask R replicas; now and then (ReadRepairChance) all of them, so that
	// reads repair replicas beyond the R they need.
	initial := need
	if rand.Float64() < c.cfg.ReadRepairChance {
		initial = len(targets)
	}
	for asked < initial {
		ask()
	}
	var got []readAnswer
	var merged object.Object
	received := 0
	for received < asked && len(got) < need {
		a := <-answers
		received++
		if a.err != nil {
			if asked < len(targets) {
				ask() // a replica failed: ask the next one
			}
			continue
		}
		got = append(got, a)
		if need == 1 {
			// The only answer needed is the merge: no copy, and nothing
			// among the answers to repair (late ones are, below).
			merged = a.obj
		} else {
			merged.Merge(a.obj)
		}
	}
	if len(got) < need {
		return object.Object{}, &UnavailableError{Op: "read", Level: level, Need: need + self, Answered: len(got) + self, Replicas: len(prefs)}
	}
	if need > 1 {
		c.repair(ctx, key, merged, got, "sync")
	}
	if rest := asked - received; rest > 0 {
		mc := merged.Clone()
		c.background(func() { c.repairLate(key, mc, got, answers, rest) }, func() {})
	}
	return merged, nil
}

// repair brings every answer that differs from merged up to it, and waits
// for the repairs (bounded by ctx and the request timeout).
func (c *Coordinator) repair(ctx context.Context, key []byte, merged object.Object, answers []readAnswer, mode string) {
	var enc []byte
	var calls []*call
	for _, a := range answers {
		if a.obj.Equal(merged) {
			continue
		}
		c.m.repairs.WithLabelValues(mode).Inc()
		if a.from == c.cfg.LocalID {
			if _, err := c.cfg.Store.Apply(key, merged); err != nil {
				c.log.Warn("local read repair failed", "err", err)
			}
			continue
		}
		if enc == nil {
			enc = merged.AppendBinary(nil)
		}
		calls = append(calls, c.start(a.from, message{typ: msgApply, key: key, obj: enc}))
	}
	for _, cl := range calls {
		c.wait(ctx, cl)
	}
}

// repairLate waits for the answers that came after the read returned and
// repairs them, and the early ones if a late answer knew more.
func (c *Coordinator) repairLate(key []byte, merged object.Object, early []readAnswer, answers <-chan readAnswer, rest int) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	var late []readAnswer
	for range rest {
		if a := <-answers; a.err == nil {
			late = append(late, a)
		}
	}
	before := merged.Clone()
	for _, a := range late {
		merged.Merge(a.obj)
	}
	all := late
	if !merged.Equal(before) {
		all = append(all, early...)
	}
	c.repair(ctx, key, merged, all, "background")
}
