package saga

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

var crashSeed = flag.Uint64("saga.seed", 0, "seed of TestCrashChain (0: from the clock)")

// crashFamily is a kind of saga run, decided by the fake world from the
// saga ID's prefix.
type crashFamily struct {
	name string
	want Status
}

var crashFamilies = []crashFamily{
	{"ok", StatusCompleted},     // every action succeeds
	{"fail", StatusCompensated}, // payment declined (permanent, no effect)
	{"unc", StatusCompensated},  // payment takes effect but its reply is always lost
}

// crashWorld is a booking world whose failures depend on the saga's
// family, and the saga definition the crash tests use.
func crashWorld() (*bookingWorld, Definition) {
	w := newBookingWorld()
	w.fail = func(c *Call) error {
		if strings.HasPrefix(c.SagaID, "fail-") && c.Step == "payment" && c.Kind == KindAction {
			return Permanentf("card declined")
		}
		return nil
	}
	w.failAfter = func(c *Call) error {
		if strings.HasPrefix(c.SagaID, "unc-") && c.Step == "payment" && c.Kind == KindAction {
			return fmt.Errorf("payment gateway timeout")
		}
		return nil
	}
	def := w.definition("trip")
	def.Retry = RetryPolicy{MaxAttempts: 2, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	def.CompensationRetry = RetryPolicy{MaxAttempts: 3, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	return w, def
}

// crashLeaseTTL is the executors' lease in TestCrashAtEveryPoint: long
// enough that a live executor of the 3-node cluster, on a loaded machine,
// does not lose its lease (and its saga) before it reaches its crash
// point; each takeover waits for it once, all in parallel.
const crashLeaseTTL = 5 * time.Second

type visit struct {
	point          Point
	index, attempt int
}

func (v visit) String() string { return fmt.Sprintf("%s[%d]#%d", v.point, v.index, v.attempt) }

// TestCrashAtEveryPoint is the executor's crash test. For each family of
// run (completed, compensated after a declined payment, compensated after
// a payment whose outcome stayed uncertain) a dry run lists every crash
// point the executor passes: each step boundary and each gap between a
// call and the log write that records it. Then, for every point, an
// executor runs a fresh saga and stops dead exactly there (no further
// write, no revoke: its lease is left to expire), and a second executor,
// running all along, takes the saga over when the lease ends. Every saga
// must end completed or fully compensated, as its family says, finished
// by the second executor, with each step's action and compensation
// taking effect at most once: the fake services deduplicate by the
// idempotency key, and record each effect with the key that caused it,
// so a key that changed across attempts or executors would show as a
// double booking.
func TestCrashAtEveryPoint(t *testing.T) {
	c := startCluster(t, 3, t.TempDir())
	defer c.close()
	eps := c.endpoints()
	w, def := crashWorld()

	// The dry runs: the points each family passes, in order.
	visits := map[string][]visit{}
	var vmu sync.Mutex
	dryCfg := testConfig(t, "dry")
	dryCfg.CrashHook = func(cp CrashPoint) bool {
		vmu.Lock()
		defer vmu.Unlock()
		fam, _, _ := strings.Cut(cp.SagaID, "-")
		visits[fam] = append(visits[fam], visit{cp.Point, cp.Index, cp.Attempt})
		return false
	}
	dry := startExecutor(t, newEtcdClient(t, eps), dryCfg, def)
	ctx := waitCtx(t, 5*time.Minute)
	for _, f := range crashFamilies {
		id := f.name + "-dry"
		if err := dry.Submit(ctx, "trip", id, nil); err != nil {
			t.Fatal(err)
		}
		s, err := dry.Client().Wait(ctx, id)
		if err != nil || s.Status != f.want {
			t.Fatalf("dry run %s: %+v %v", id, s, err)
		}
		w.check(t, id, f.want)
	}
	dry.Close()
	total := 0
	for _, f := range crashFamilies {
		t.Logf("%s: %d crash points: %v", f.name, len(visits[f.name]), visits[f.name])
		total += len(visits[f.name])
	}

	// The survivor runs from the start; it takes each saga when the
	// crashed executor's lease expires.
	survCfg := testConfig(t, "survivor")
	survCfg.MaxConcurrent = 2 * total
	survCfg.LeaseTTL = crashLeaseTTL
	surv := startExecutor(t, newEtcdClient(t, eps), survCfg, def)

	type scenario struct {
		id      string
		fam     crashFamily
		at      visit
		crashed atomic.Bool
		seen    atomic.Int32
		ex      *Executor
	}
	var scens []*scenario
	var cfgs []ExecutorConfig
	for _, f := range crashFamilies {
		for k, v := range visits[f.name] {
			sc := &scenario{id: fmt.Sprintf("%s-%02d", f.name, k), fam: f, at: v}
			cfg := testConfig(t, "crasher-"+sc.id)
			cfg.LeaseTTL = crashLeaseTTL
			cfg.CrashHook = func(cp CrashPoint) bool {
				if cp.SagaID != sc.id {
					return false
				}
				n := int(sc.seen.Add(1))
				if n-1 != k {
					return false
				}
				if got := (visit{cp.Point, cp.Index, cp.Attempt}); got != sc.at {
					t.Errorf("%s: crash point %d is %v, the dry run had %v", sc.id, k, got, sc.at)
				}
				sc.crashed.Store(true)
				return true
			}
			scens, cfgs = append(scens, sc), append(cfgs, cfg)
		}
	}
	// One executor, with its own client, per scenario; started in
	// parallel, as their number makes a serial start slow.
	var wg sync.WaitGroup
	errs := make([]error, len(scens))
	for i, sc := range scens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(func() { cli.Close() })
			ex, err := NewExecutor(cli, cfgs[i])
			if err == nil {
				err = ex.Register(def)
			}
			if err == nil {
				err = ex.Start(ctx)
			}
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(ex.Close)
			sc.ex = ex
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, sc := range scens {
		if err := sc.ex.Submit(ctx, "trip", sc.id, []byte(sc.id)); err != nil {
			t.Fatal(err)
		}
	}
	reruns := 0
	finishers := map[bool]int{}
	for _, sc := range scens {
		s, err := surv.Client().Wait(ctx, sc.id)
		if err != nil {
			t.Fatalf("%s: %v", sc.id, err)
		}
		if !sc.crashed.Load() {
			t.Errorf("%s: the executor never reached crash point %v", sc.id, sc.at)
		}
		if s.Status != sc.fam.want {
			t.Errorf("%s (crash at %v): ended %s, want %s: %s", sc.id, sc.at, s.Status, sc.fam.want, s.Error)
		}
		// Any live executor may take a saga over: the survivor, or a
		// crasher that has not reached its own crash point yet.
		if s.LastExecutor == "crasher-"+sc.id {
			t.Errorf("%s: finished by the executor that crashed on it", sc.id)
		}
		finishers[s.LastExecutor == "survivor"]++
		w.check(t, sc.id, s.Status)
		// A crash between a call and its log write makes the survivor
		// call again with the same key (unless that was the last
		// attempt): the repeat reaches the service and is absorbed.
		if sc.at.point == PointAfterAction || sc.at.point == PointAfterCompensation {
			kind := KindAction
			if sc.at.point == PointAfterCompensation {
				kind = KindCompensation
			}
			key := IdempotencyKey(sc.id, tripSteps[sc.at.index], kind)
			lastAttempt := kind == KindAction && sc.at.attempt == def.Retry.MaxAttempts
			if n := w.rawCalls(key); !lastAttempt && n < sc.at.attempt+1 {
				t.Errorf("%s: %s called %d times; the survivor should have called it again", sc.id, key, n)
			} else if !lastAttempt {
				reruns++
			}
		}
	}
	t.Logf("%d sagas, each crashed at its own point, finished in %v by another executor (%d by the survivor, %d by live crashers); %d calls re-run after a crash between call and log write, absorbed by their idempotency keys",
		len(scens), time.Since(start).Round(time.Millisecond), finishers[true], finishers[false], reruns)
}

// TestCrashChain crashes executors at random points, over and over: a
// saga may be taken over several times, by executors that crash in turn.
// Two executors run at any time; when one crashes a new one starts; after
// a bounded number of crashes a last executor runs without crashing. The
// seed is printed; -saga.seed replays the choice of crash points (the
// interleaving of goroutines is not replayed).
func TestCrashChain(t *testing.T) {
	c := sharedCluster(t)
	eps := c.endpoints()
	w, def := crashWorld()
	def.Retry.MaxAttempts = 4
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -saga.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var rmu sync.Mutex
	const maxCrashers = 10
	ctx := waitCtx(t, 5*time.Minute)

	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("%s-%d", crashFamilies[i%3].name, i))
	}
	client, err := NewClient(newEtcdClient(t, eps), testConfig(t, "").ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := client.Start(ctx, "trip", id, nil); err != nil {
			t.Fatal(err)
		}
	}
	crashed := make(chan string, maxCrashers+2)
	started := 0
	launch := func(mayCrash bool) {
		started++
		name := fmt.Sprintf("exec-%02d", started)
		cfg := testConfig(t, name)
		if mayCrash {
			var once sync.Once
			cfg.CrashHook = func(cp CrashPoint) bool {
				rmu.Lock()
				crash := rng.Float64() < 0.04
				rmu.Unlock()
				if crash {
					once.Do(func() { crashed <- fmt.Sprintf("%s at %s", name, cp) })
				}
				return crash
			}
		}
		startExecutor(t, newEtcdClient(t, eps), cfg, def)
	}
	launch(true)
	launch(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, id := range ids {
			if _, err := client.Wait(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
		}
	}()
	crashes := 0
wait:
	for {
		select {
		case what := <-crashed:
			crashes++
			t.Logf("crash %d: %s", crashes, what)
			launch(crashes < maxCrashers)
		case <-done:
			break wait
		}
	}
	for i, id := range ids {
		s, err := client.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Attempts cut short by crashes count, so a saga that should
		// complete may run out of attempts and compensate instead.
		want := crashFamilies[i%3].want
		spent := s.Status == StatusCompensated && strings.Contains(s.Error, "cut short")
		if s.Status != want && !spent {
			t.Errorf("%s ended %s, want %s: %s", id, s.Status, want, s.Error)
		}
		w.check(t, id, s.Status)
	}
	t.Logf("%d sagas finished through %d crashes and %d executors", len(ids), crashes, started)
}
