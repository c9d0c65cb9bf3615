package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// These tests run etcd's client-side recipes (clientv3/concurrency:
// Election, Mutex, STM) across the members of a real 3-node cluster: they
// hold only if KV, Lease, Watch and Txn keep etcd's semantics across nodes.

// blocksFor fails the test if ch yields within d (the call must block).
func blocksFor[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s returned while it must block: %v", what, v)
	case <-time.After(d):
	}
}

// returnsWithin returns what ch yields within d, or fails the test.
func returnsWithin[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		panic("unreachable")
	}
}

func newTestSession(t *testing.T, cli *clientv3.Client) *concurrency.Session {
	t.Helper()
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestElectionRecipeAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	const name = "/recipe/election"
	ea := concurrency.NewElection(newTestSession(t, c.client(0)), name)
	eb := concurrency.NewElection(newTestSession(t, c.client(1)), name)
	observer := concurrency.NewElection(newTestSession(t, c.client(2)), name)
	observed := observer.Observe(cx)
	nextObserved := func(want string) {
		t.Helper()
		resp, ok := <-observed
		if !ok {
			t.Fatalf("observe ended while waiting for %q", want)
		}
		if got := string(resp.Kvs[0].Value); got != want {
			t.Fatalf("observed leader value %q, want %q", got, want)
		}
	}

	if err := ea.Campaign(cx, "a"); err != nil {
		t.Fatal(err)
	}
	nextObserved("a")
	bWon := make(chan error, 1)
	go func() { bWon <- eb.Campaign(cx, "b") }()
	blocksFor(t, bWon, 300*time.Millisecond, "the second Campaign")

	if err := ea.Proclaim(cx, "a2"); err != nil {
		t.Fatal(err)
	}
	nextObserved("a2")
	leader, err := eb.Leader(cx)
	if err != nil || string(leader.Kvs[0].Value) != "a2" {
		t.Fatalf("leader after proclaim: %v, %v", leader, err)
	}
	blocksFor(t, bWon, 100*time.Millisecond, "the second Campaign after Proclaim")

	if err := ea.Resign(cx); err != nil {
		t.Fatal(err)
	}
	if err := returnsWithin(t, bWon, 5*time.Second, "the second Campaign after Resign"); err != nil {
		t.Fatal(err)
	}
	nextObserved("b")
	leader, err = ea.Leader(cx)
	if err != nil || string(leader.Kvs[0].Value) != "b" || string(leader.Kvs[0].Key) != eb.Key() {
		t.Fatalf("leader after resign: %v, %v (b's key %s)", leader, err, eb.Key())
	}
	if eb.Rev() <= ea.Rev() {
		t.Fatalf("the second leader's revision %d is not above the first's %d", eb.Rev(), ea.Rev())
	}
}

// lockHold is one critical section as its holder saw it.
type lockHold struct {
	holder         string
	createRevision int64 // of the holder's lock key: the fencing token
	headerRevision int64 // of the response that granted the lock
}

func TestMutexRecipeExcludesAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	const (
		lockName       = "/recipe/lock"
		counterKey     = "/recipe/counter"
		holdersPerNode = 2
		rounds         = 4
	)
	var (
		inside  atomic.Int32 // holders inside the critical section now
		overlap atomic.Bool
		mu      sync.Mutex
		holds   []lockHold // in critical-section order
	)
	criticalSection := func(cli *clientv3.Client, m *concurrency.Mutex, holder string) error {
		if inside.Add(1) != 1 {
			overlap.Store(true)
		}
		defer inside.Add(-1)
		got, err := cli.Get(cx, m.Key())
		if err != nil || len(got.Kvs) != 1 {
			return fmt.Errorf("own lock key %s: %v, %v", m.Key(), got, err)
		}
		mu.Lock()
		holds = append(holds, lockHold{holder, got.Kvs[0].CreateRevision, m.Header().Revision})
		mu.Unlock()
		cur, err := cli.Get(cx, counterKey)
		if err != nil {
			return err
		}
		n := 0
		if len(cur.Kvs) == 1 {
			n, _ = strconv.Atoi(string(cur.Kvs[0].Value))
		}
		time.Sleep(time.Millisecond) // widen the window an overlap would need
		// A fenced write: it succeeds only while this holder owns the lock.
		resp, err := cli.Txn(cx).If(m.IsOwner()).Then(clientv3.OpPut(counterKey, strconv.Itoa(n+1))).Commit()
		if err != nil || !resp.Succeeded {
			return fmt.Errorf("fenced increment by %s: %v, %v", holder, resp, err)
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*holdersPerNode)
	for node := range 3 {
		cli := c.client(node)
		for h := range holdersPerNode {
			holder := fmt.Sprintf("n%d/h%d", node, h)
			m := concurrency.NewMutex(newTestSession(t, cli), lockName)
			wg.Go(func() {
				for range rounds {
					if err := m.Lock(cx); err != nil {
						errs <- fmt.Errorf("%s lock: %w", holder, err)
						return
					}
					err := criticalSection(cli, m, holder)
					if uerr := m.Unlock(cx); err == nil {
						err = uerr
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if overlap.Load() {
		t.Fatal("two holders were inside the critical section at once")
	}
	total := 3 * holdersPerNode * rounds
	got, err := c.client(1).Get(cx, counterKey)
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != strconv.Itoa(total) {
		t.Fatalf("counter = %v, %v; want %d", got, err, total)
	}
	if len(holds) != total {
		t.Fatalf("%d critical sections recorded, want %d", len(holds), total)
	}
	for i := 1; i < len(holds); i++ {
		prev, cur := holds[i-1], holds[i]
		if cur.createRevision <= prev.createRevision || cur.headerRevision <= prev.headerRevision {
			t.Fatalf("fencing tokens not increasing: %+v then %+v", prev, cur)
		}
	}
}

// TestMutexOwnershipEndsWithUnlock checks the fencing compare after a
// release: a write guarded by the old holder's IsOwner must fail.
func TestMutexOwnershipEndsWithUnlock(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	first := concurrency.NewMutex(newTestSession(t, c.client(0)), "/recipe/fence")
	second := concurrency.NewMutex(newTestSession(t, c.client(1)), "/recipe/fence")
	if err := first.Lock(cx); err != nil {
		t.Fatal(err)
	}
	staleOwner := first.IsOwner()
	if err := first.Unlock(cx); err != nil {
		t.Fatal(err)
	}
	if err := second.Lock(cx); err != nil {
		t.Fatal(err)
	}
	resp, err := c.client(2).Txn(cx).If(staleOwner).Then(clientv3.OpPut("/recipe/fenced", "stale")).Commit()
	if err != nil || resp.Succeeded {
		t.Fatalf("a write fenced by the released holder succeeded: %v, %v", resp, err)
	}
	resp, err = c.client(2).Txn(cx).If(second.IsOwner()).Then(clientv3.OpPut("/recipe/fenced", "fresh")).Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("a write fenced by the holder failed: %v, %v", resp, err)
	}
}

func TestSTMBankTransfersKeepTheTotal(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	const (
		accounts         = 4
		initialBalance   = 100
		transfersPerNode = 8
	)
	account := func(i int) string { return fmt.Sprintf("/bank/%d", i) }
	for i := range accounts {
		if _, err := c.client(0).Put(cx, account(i), strconv.Itoa(initialBalance)); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for node := range 3 {
		cli := c.client(node)
		rng := rand.New(rand.NewPCG(seed, uint64(node)))
		wg.Go(func() {
			for range transfersPerNode {
				from := rng.IntN(accounts)
				to := (from + 1 + rng.IntN(accounts-1)) % accounts
				amount := 1 + rng.IntN(30)
				_, err := concurrency.NewSTM(cli, func(stm concurrency.STM) error {
					fromBalance, _ := strconv.Atoi(stm.Get(account(from)))
					toBalance, _ := strconv.Atoi(stm.Get(account(to)))
					move := min(amount, fromBalance)
					stm.Put(account(from), strconv.Itoa(fromBalance-move))
					stm.Put(account(to), strconv.Itoa(toBalance+move))
					return nil
				}, concurrency.WithAbortContext(cx))
				if err != nil {
					errs <- fmt.Errorf("node %d transfer: %w", node, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%v (seed %d)", err, seed)
	}
	for node := range 3 {
		got, err := c.client(node).Get(cx, "/bank/", clientv3.WithPrefix())
		if err != nil || len(got.Kvs) != accounts {
			t.Fatalf("accounts on node %d: %v, %v", node, got, err)
		}
		total, changed := 0, false
		for _, kv := range got.Kvs {
			b, err := strconv.Atoi(string(kv.Value))
			if err != nil || b < 0 {
				t.Fatalf("account %s = %q (seed %d)", kv.Key, kv.Value, seed)
			}
			total += b
			changed = changed || kv.Version > 1
		}
		if total != accounts*initialBalance || !changed {
			t.Fatalf("node %d: total %d, want %d; some account changed: %v (seed %d)",
				node, total, accounts*initialBalance, changed, seed)
		}
	}
}
