package workload

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/cluster"
	"github.com/cairndb/cairn/verify/history"
)

// Config is what every workload shares.
type Config struct {
	// Cluster is the target.
	Cluster cluster.Cluster
	// Recorder records every operation.
	Recorder *history.Recorder
	// Seed derives each worker's random source.
	Seed uint64
	// Prefix is the key prefix of this run; every key a workload uses is
	// under Prefix + name + "/".
	Prefix string
	// OpTimeout bounds one operation (default 2 s).
	OpTimeout time.Duration
	// Rate bounds one workload's operations per second (default 50).
	Rate float64
	// MaxOps bounds one workload's operations (default 200000).
	MaxOps int
	// UnsafeSerializableReads makes the register and bank workloads read
	// serializably but record the reads as linearizable: a deliberately
	// broken client that the checkers must catch under partitions.
	UnsafeSerializableReads bool
	// Logger (nil = slog.Default()).
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.OpTimeout <= 0 {
		c.OpTimeout = 2 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 50
	}
	if c.MaxOps <= 0 {
		c.MaxOps = 200_000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// FinishConfig is what the workloads' final phase needs.
type FinishConfig struct {
	// OutDir receives artifacts (Porcupine's visualization).
	OutDir string
	// Annotations mark the faults in the visualization.
	Annotations []porcupine.Annotation
	// Timeout bounds the final reads and convergence waits.
	Timeout time.Duration
}

// Workload is one workload.
type Workload interface {
	// Name is the workload's flag name.
	Name() string
	// Setup connects and creates the initial state, on a healthy
	// cluster.
	Setup(ctx context.Context) error
	// Run issues operations until ctx is done.
	Run(ctx context.Context)
	// Finish reads the final state after the faults were healed and
	// checks the history.
	Finish(ctx context.Context, f FinishConfig) []check.Result
	// Close releases the clients.
	Close()
}

// Names lists the workloads New knows, strong tier first.
var Names = []string{"register", "bank", "watch", "lock", "counter", "set", "session", "setnx"}

// New returns the named workload.
func New(name string, cfg Config) (Workload, error) {
	cfg.fill()
	b := &base{cfg: cfg, name: name, prefix: cfg.Prefix + name + "/"}
	switch name {
	case "register":
		return &register{base: b}, nil
	case "bank":
		return &bank{base: b}, nil
	case "watch":
		return &watch{base: b}, nil
	case "lock":
		return &lock{base: b}, nil
	case "counter":
		return &counter{resp: resp{base: b}}, nil
	case "set":
		return &set{resp: resp{base: b}}, nil
	case "session":
		return &session{resp: resp{base: b}}, nil
	case "setnx":
		return &setnx{resp: resp{base: b}}, nil
	}
	return nil, fmt.Errorf("unknown workload %q (want %s)", name, strings.Join(Names, ", "))
}

// clientIDs numbers the workers of every workload of the process (the
// visualization draws one line per client).
var clientIDs atomic.Int64

// base is what the workloads share: config, name, prefix, clients and
// the operation budget.
type base struct {
	cfg    Config
	name   string
	prefix string
	ops    atomic.Int64
	// capped is set once MaxOps is reached.
	capped atomic.Bool

	mu      sync.Mutex
	clients []*clientv3.Client
}

// Name implements Workload.
func (b *base) Name() string { return b.name }

func (b *base) log() *slog.Logger { return b.cfg.Logger }

// newClient connects a clientv3 client to member node, or to every
// member if node < 0; Close closes it.
func (b *base) newClient(node int) (*clientv3.Client, error) {
	eps := b.cfg.Cluster.Endpoints()
	if node >= 0 {
		eps = eps[node : node+1]
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.clients = append(b.clients, cli)
	b.mu.Unlock()
	return cli, nil
}

// Close implements Workload.
func (b *base) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.clients {
		c.Close()
	}
	b.clients = nil
}

// worker is one sequential client of a workload.
type worker struct {
	b *base
	// id is the worker's client id; renew after an unknown outcome.
	id   int
	node int // bound member, or -1
	rng  *rand.Rand
	pace time.Duration
	last time.Time
}

// newWorker returns worker i of n, bound to node (-1: any), pacing its
// operations so that the n workers stay within the workload's Rate.
func (b *base) newWorker(i, n, node int) *worker {
	seed := b.cfg.Seed ^ uint64(len(b.name))<<56 ^ uint64(i)<<40
	for _, c := range b.name {
		seed = seed*31 + uint64(c)
	}
	return &worker{b: b, id: int(clientIDs.Add(1) - 1), node: node,
		rng:  rand.New(rand.NewPCG(seed, seed^0x776f726b6572)),
		pace: time.Duration(float64(n) / b.cfg.Rate * float64(time.Second))}
}

// next waits for the worker's next slot and reports whether it may issue
// an operation (false when ctx is done or the budget is spent).
func (w *worker) next(ctx context.Context) bool {
	if d := time.Until(w.last.Add(w.pace)); d > 0 && !sleep(ctx, d) {
		return false
	}
	w.last = time.Now()
	if ctx.Err() != nil {
		return false
	}
	if w.b.ops.Add(1) > int64(w.b.cfg.MaxOps) {
		if !w.b.capped.Swap(true) {
			w.b.log().Warn("verify: workload reached its operation bound and stops issuing", "workload", w.b.name, "max_ops", w.b.cfg.MaxOps)
		}
		return false
	}
	return true
}

// renew gives the worker a new client id, after an unknown outcome: its
// pending operation may still take effect, and a client's operations
// must not overlap in the visualization.
func (w *worker) renew() { w.id = int(clientIDs.Add(1) - 1) }

// opCtx returns a context bounded by OpTimeout.
func (w *worker) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, w.b.cfg.OpTimeout)
}

// record adds an operation to the recorder.
func (w *worker) record(kind string, call, ret time.Duration, o history.Outcome, desc string) {
	w.b.cfg.Recorder.Add(history.Op{Workload: w.b.name, Client: w.id, Node: w.node, Kind: kind,
		Call: call, Return: ret, Outcome: o, Desc: desc})
}

func (b *base) now() time.Duration { return b.cfg.Recorder.Now() }

// run starts fn for each worker and waits for them.
func run(ctx context.Context, ws []*worker, fn func(context.Context, *worker)) {
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, w)
		}()
	}
	wg.Wait()
}

// nodeOf binds worker i to a member: most workers to one member each (so
// that followers serve, forward and fail on their own), every third to
// all members (so that the client fails over).
func (b *base) nodeOf(i int) int {
	if i%3 == 2 {
		return -1
	}
	return i % b.cfg.Cluster.Size()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// cappedNote is a detail line for a workload that hit MaxOps.
func (b *base) cappedNote(r check.Result) check.Result {
	if b.capped.Load() {
		r.Details = append(r.Details, fmt.Sprintf("note: the workload reached its bound of %d operations and stopped issuing before the end", b.cfg.MaxOps))
	}
	return r
}

// retryRead calls f until it succeeds or timeout passes.
func retryRead(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(cctx)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
