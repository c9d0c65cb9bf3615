package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Executor runs the steps of the sagas it owns. It holds one lease; it
// owns a saga while the saga's owner key, attached to that lease, exists,
// and every log write it makes is a Txn fenced on that key's create
// revision. It takes sagas that are new (Submit, or Client.Start and a
// watch) or orphaned (their owner's lease ended: a watch and a periodic
// scan) and runs each in its own goroutine, forward to completion or
// backward through the compensations.
type Executor struct {
	cli    *clientv3.Client
	cfg    ExecutorConfig
	id     string
	keys   keyspace
	client *Client
	log    *slog.Logger
	m      *metrics

	// defs is written by Register before Start and only read after.
	defs map[string]*Definition

	ctx    context.Context // ends at Close or at a crash
	cancel context.CancelFunc
	loops  sync.WaitGroup // lease, scan and watch loops
	runs   sync.WaitGroup // reserved slots: claims in flight and runners
	poke   chan struct{}  // capacity 1: asks for a scan now
	ready  chan struct{}  // closed when the first lease is granted

	mu struct {
		sync.Mutex
		state execState
		lease clientv3.LeaseID // 0 while the executor holds no lease
		epoch context.Context  // ends when lease ends; nil with lease 0
		// endEpoch stops the keepalives of lease (tests: dropKeepAlive).
		endEpoch context.CancelFunc
		last     clientv3.LeaseID // the last lease granted, revoked by Close
		running  map[string]struct{}
		// cooldown holds sagas let go after an error, with the time
		// before which this executor will not take them again (bounded
		// by cooldownMax; the oldest go first).
		cooldown map[string]time.Time
	}
}

type execState uint8

const (
	stateNew execState = iota + 1
	stateStarted
	stateClosed
	stateCrashed
)

// cooldownMax bounds the cooldown set; past it the entry that ends first
// is dropped (a dropped saga may be retried early, nothing worse).
const cooldownMax = 1024

// errStopped: the executor is closing or crashed; the runner stops
// without writing anything more.
var errStopped = errors.New("saga: executor stopping")

// NewExecutor returns an executor over an etcd API client. Register the
// definitions, then Start it.
func NewExecutor(cli *clientv3.Client, cfg ExecutorConfig) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		cfg.ID = defaultExecutorID()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	client, err := NewClient(cli, cfg.ClientConfig)
	if err != nil {
		return nil, err
	}
	e := &Executor{
		cli: cli, cfg: cfg, id: cfg.ID, keys: keyspace{prefix: cfg.Prefix}, client: client,
		log: log.With("component", "saga", "executor", cfg.ID), m: m,
		defs: map[string]*Definition{}, poke: make(chan struct{}, 1), ready: make(chan struct{}),
	}
	e.mu.state = stateNew
	e.mu.running = map[string]struct{}{}
	e.mu.cooldown = map[string]time.Time{}
	return e, nil
}

func defaultExecutorID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 128 && validToken("", string(r), 1) == nil {
			return r
		}
		return '-'
	}, host)
	if len(host) > 64 {
		host = host[:64]
	}
	if host == "" {
		host = "executor"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.Uint32N(1<<16))
}

// ID returns the executor's ID.
func (e *Executor) ID() string { return e.id }

// Client returns the executor's client (same prefix and bounds).
func (e *Executor) Client() *Client { return e.client }

// Register adds a definition. Every executor that may run a saga must
// register its definition under the same name with the same steps.
// Register must be called before Start.
func (e *Executor) Register(def Definition) error {
	if err := def.validate(e.cfg.MaxSteps); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.state != stateNew {
		return fmt.Errorf("%w: Register after Start", ErrInvalid)
	}
	if _, dup := e.defs[def.Name]; dup {
		return fmt.Errorf("%w: definition %q registered twice", ErrInvalid, def.Name)
	}
	d := def
	d.Steps = slices.Clone(def.Steps)
	e.defs[d.Name] = &d
	return nil
}

// Start grants the executor's lease and starts its loops; it returns once
// the lease is held, or with ctx's error if the cluster does not answer
// in time (the executor is then closed).
func (e *Executor) Start(ctx context.Context) error {
	e.mu.Lock()
	if e.mu.state != stateNew {
		e.mu.Unlock()
		return fmt.Errorf("%w: Start called twice", ErrInvalid)
	}
	e.mu.state = stateStarted
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.mu.Unlock()

	e.loops.Add(4)
	go e.leaseLoop()
	go e.scanLoop()
	go e.watchLoop(e.keys.activePrefix(), clientv3.WithFilterDelete(), e.onActivePut)
	go e.watchLoop(e.keys.ownerPrefix(), clientv3.WithFilterPut(), e.onOwnerDelete)
	select {
	case <-e.ready:
		e.log.Info("executor started", "definitions", len(e.defs), "lease_ttl", e.cfg.LeaseTTL)
		return nil
	case <-ctx.Done():
		e.Close()
		return fmt.Errorf("saga: executor start: no lease: %w", ctx.Err())
	}
}

// Close stops the executor: it cancels the step calls in flight (their
// attempts stay counted in the log), waits for its goroutines and revokes
// its lease, which deletes its owner keys so that other executors take
// its sagas over at once. After a crash (CrashHook) Close only waits: the
// lease is left to expire.
func (e *Executor) Close() {
	e.mu.Lock()
	st := e.mu.state
	if st == stateNew || st == stateClosed {
		e.mu.state = stateClosed
		e.mu.Unlock()
		return
	}
	if st == stateStarted {
		e.mu.state = stateClosed
	}
	e.mu.Unlock()
	e.cancel()
	e.runs.Wait()
	e.loops.Wait()
	if st == stateCrashed {
		return
	}
	e.mu.Lock()
	lease := e.mu.last
	e.mu.Unlock()
	if lease != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RequestTimeout)
		defer cancel()
		if _, err := e.cli.Revoke(ctx, lease); err != nil {
			e.log.Warn("revoke lease at close; its sagas wait for it to expire", "lease", fmt.Sprintf("%x", int64(lease)), "err", err)
		}
	}
	e.log.Info("executor closed")
}

// halt is a crash: the executor stops dead. Nothing more is written: no
// revoke, no release; keepalives stop, so the lease expires after its
// TTL and other executors take the sagas over.
func (e *Executor) halt(cp CrashPoint) {
	e.log.Warn("crash point: executor stops dead", "at", cp.String())
	e.mu.Lock()
	if e.mu.state == stateStarted {
		e.mu.state = stateCrashed
	}
	e.mu.Unlock()
	e.cancel()
}

// Submit starts saga id of the named definition with input and runs it
// here: the saga and its ownership are created in one Txn, so no other
// executor races for it. Like Client.Start it is idempotent by ID (the
// same definition and input again is a no-op; see ErrConflict); an
// existing unowned saga is claimed. It fails with ErrBusy at
// MaxConcurrent. Without a lease at the moment (it ended and is being
// renewed) the saga is created unowned and the next scan takes it.
func (e *Executor) Submit(ctx context.Context, definition, id string, input []byte) error {
	def, ok := e.defs[definition]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDefinition, definition)
	}
	if err := e.client.checkStart(definition, id, input); err != nil {
		return err
	}
	if e.stopped() {
		return ErrClosed
	}
	if !e.reserve(id) {
		if e.isRunning(id) {
			return nil
		}
		return ErrBusy
	}
	lease, epoch := e.currentLease()
	if lease == 0 {
		e.unreserve(id)
		if _, _, err := e.client.create(ctx, definition, id, input, ""); err != nil {
			return err
		}
		e.pokeScan()
		return nil
	}
	created, rev, err := e.client.create(ctx, definition, id, input, e.id,
		clientv3.OpPut(e.keys.owner(id), e.id, clientv3.WithLease(lease)))
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		// The lease ended and the lease loop has not noticed yet: create
		// the saga unowned; the next scan, here or elsewhere, takes it.
		e.unreserve(id)
		if _, _, err := e.client.create(ctx, definition, id, input, ""); err != nil {
			return err
		}
		e.pokeScan()
		return nil
	}
	if err != nil {
		e.unreserve(id)
		return err
	}
	if !created {
		e.unreserve(id)
		e.claim(id, definition, "submit")
		return nil
	}
	e.m.claims.WithLabelValues("submit").Inc()
	e.startRunner(id, def, ownership{rev: rev, lease: lease, epoch: epoch})
	return nil
}

// Running returns the IDs of the sagas this executor runs now.
func (e *Executor) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.mu.running))
	for id := range e.mu.running {
		out = append(out, id)
	}
	return out
}

func (e *Executor) stopped() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mu.state != stateStarted
}

// reserve takes a concurrency slot for id; false if id runs here already,
// if the executor is full, or if id cools down after an error.
func (e *Executor) reserve(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.mu.running[id]; ok || len(e.mu.running) >= e.cfg.MaxConcurrent || e.mu.state != stateStarted {
		return false
	}
	if until, ok := e.mu.cooldown[id]; ok {
		if time.Now().Before(until) {
			return false
		}
		delete(e.mu.cooldown, id)
	}
	e.mu.running[id] = struct{}{}
	// Counted while the state is started, under mu: Close changes the
	// state under mu before it waits, so no Add can race with its Wait.
	e.runs.Add(1)
	return true
}

// unreserve frees the slot reserve took.
func (e *Executor) unreserve(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.mu.running[id]; !ok {
		panic("saga: unreserve of a saga not reserved: " + id)
	}
	delete(e.mu.running, id)
	e.runs.Done()
}

func (e *Executor) isRunning(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.mu.running[id]
	return ok
}

// coolDown keeps id from being taken again by this executor for one scan
// interval, so that a saga that fails to load does not spin.
func (e *Executor) coolDown(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.mu.cooldown) >= cooldownMax {
		var oldest string
		var at time.Time
		for k, t := range e.mu.cooldown {
			if oldest == "" || t.Before(at) {
				oldest, at = k, t
			}
		}
		delete(e.mu.cooldown, oldest)
	}
	e.mu.cooldown[id] = time.Now().Add(e.cfg.ScanInterval)
}

func (e *Executor) currentLease() (clientv3.LeaseID, context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mu.lease, e.mu.epoch
}

// leaseID is the lease held now (0 if none); for tests.
func (e *Executor) leaseID() clientv3.LeaseID {
	l, _ := e.currentLease()
	return l
}

// dropKeepAlive stops renewing the current lease without revoking it, as
// if the executor's keepalives stopped getting through: the lease expires
// after its TTL while the executor's runners go on. For tests.
func (e *Executor) dropKeepAlive() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.endEpoch != nil {
		e.mu.endEpoch()
	}
}

func (e *Executor) pokeScan() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// leaseLoop holds the executor's lease: grant, keep alive, and when the
// lease ends (expired because keepalives did not get through, or
// revoked) grant a new one. Runners of the old lease learn they lost
// their sagas from their next fenced write; their step calls' contexts
// end with the old lease's epoch.
func (e *Executor) leaseLoop() {
	defer e.loops.Done()
	var once sync.Once
	backoff := RetryPolicy{MaxAttempts: 1, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2, Jitter: 0.5}
	fails := 0
	for e.ctx.Err() == nil {
		gctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
		g, err := e.cli.Grant(gctx, e.cfg.leaseSeconds())
		cancel()
		if err == nil && g.Error != "" {
			err = errors.New(g.Error)
		}
		if err != nil {
			fails++
			e.log.Warn("lease grant failed", "err", err, "tries", fails)
			sleep(e.ctx, backoff.Backoff(fails+1, rand.Float64()))
			continue
		}
		epoch, endEpoch := context.WithCancel(e.ctx)
		ch, err := e.cli.KeepAlive(epoch, g.ID)
		if err != nil {
			endEpoch()
			fails++
			e.log.Warn("lease keepalive failed; the lease will expire", "err", err)
			sleep(e.ctx, backoff.Backoff(fails+1, rand.Float64()))
			continue
		}
		fails = 0
		e.mu.Lock()
		e.mu.lease, e.mu.epoch, e.mu.last, e.mu.endEpoch = g.ID, epoch, g.ID, endEpoch
		e.mu.Unlock()
		e.log.Info("lease granted", "lease", fmt.Sprintf("%x", int64(g.ID)), "ttl_s", g.TTL)
		once.Do(func() { close(e.ready) })
		e.pokeScan()
		for range ch {
			// Each response is a renewal; the channel closes when the
			// lease ends or the executor stops.
		}
		endEpoch()
		e.mu.Lock()
		e.mu.lease, e.mu.epoch, e.mu.endEpoch = 0, nil, nil
		e.mu.Unlock()
		if e.ctx.Err() == nil {
			e.m.leaseLost.Inc()
			e.log.Warn("lease ended; sagas of the old lease are lost to this executor", "lease", fmt.Sprintf("%x", int64(g.ID)))
		}
	}
}
