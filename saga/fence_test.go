package saga

import (
	"context"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxModRevision is the highest mod revision under prefix: it moves iff
// some key under prefix was written.
func maxModRevision(t *testing.T, cli *clientv3.Client, prefix string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var m int64
	for _, kv := range resp.Kvs {
		m = max(m, kv.ModRevision)
	}
	return m
}

// TestStaleExecutorIsFenced: executor A is stuck inside a step call (it
// ignores its context, as a paused process would) while its keepalives
// stop and its lease expires. Executor B takes the saga over and
// finishes it. When A's call finally returns, A tries to log it: the
// write is refused by the revision compare, and nothing under the saga
// prefix changes. A itself carries on with a fresh lease.
func TestStaleExecutorIsFenced(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.block = func(ctx context.Context, c *Call) {
		if c.SagaID == "fence-1" && c.Step == "hotel" && c.Kind == KindAction && c.Attempt == 1 {
			once.Do(func() {
				close(entered)
				<-release // deaf to ctx: a paused executor
			})
		}
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	aCfg := testConfig(t, "exec-a")
	a := startExecutor(t, newEtcdClient(t, c.endpoints()), aCfg, w.definition("trip"))
	ctx := waitCtx(t, 2*time.Minute)
	if err := a.Submit(ctx, "trip", "fence-1", nil); err != nil {
		t.Fatal(err)
	}
	<-entered
	oldLease := a.leaseID()
	a.dropKeepAlive()

	bCfg := testConfig(t, "exec-b")
	b := startExecutor(t, newEtcdClient(t, c.endpoints()), bCfg, w.definition("trip"))
	s, err := b.Client().Wait(ctx, "fence-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompleted || s.LastExecutor != "exec-b" || s.Steps[1].Executor != "exec-b" {
		t.Fatalf("B's run: %+v", s)
	}
	if s.Steps[1].ActionAttempts != 2 {
		t.Errorf("hotel attempts %d: A's stuck attempt counts, B's is the second", s.Steps[1].ActionAttempts)
	}
	if got := counter(t, aCfg.Registerer, "cairn_saga_fenced_writes_total"); got != 0 {
		t.Fatalf("A fenced before it tried to write: %v", got)
	}
	before := maxModRevision(t, cli, aCfg.Prefix)

	close(release)
	waitCounter(t, aCfg.Registerer, 1, "cairn_saga_fenced_writes_total")
	eventually(t, 10*time.Second, "A's runner to stop", func() bool { return len(a.Running()) == 0 })
	if after := maxModRevision(t, cli, aCfg.Prefix); after != before {
		t.Errorf("the stale executor wrote under the saga prefix: revision %d -> %d", before, after)
	}
	s2, err := b.Client().Get(ctx, "fence-1")
	if err != nil || s2.Status != StatusCompleted || s2.Revision < s.Revision || s2.Steps[1].Executor != "exec-b" {
		t.Errorf("log after the stale write: %+v %v", s2, err)
	}
	w.check(t, "fence-1", StatusCompleted)

	// A lost its lease, not its life: it holds a new one and runs sagas.
	eventually(t, 10*time.Second, "A's new lease", func() bool { l := a.leaseID(); return l != 0 && l != oldLease })
	waitCounter(t, aCfg.Registerer, 1, "cairn_saga_lease_lost_total")
	if err := a.Submit(ctx, "trip", "fence-2", nil); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Client().Wait(ctx, "fence-2"); err != nil || s.Status != StatusCompleted || s.LastExecutor != "exec-a" {
		t.Fatalf("A after its new lease: %+v %v", s, err)
	}
}

// TestFencedWriteDirect checks the fence on one write: after the owner
// key is gone and re-created by another owner, a write with the old
// ownership fails with ErrFenced and changes nothing.
func TestFencedWriteDirect(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, time.Minute)
	if _, err := e.Client().Start(ctx, "trip", "direct", nil); err != nil {
		t.Fatal(err)
	}
	// Take the saga by hand, under a lease of our own, twice.
	own := func() int64 {
		l, err := cli.Grant(ctx, 60)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(cfg.Prefix+"owner/direct"), "=", 0)).
			Then(clientv3.OpPut(cfg.Prefix+"owner/direct", "hand", clientv3.WithLease(l.ID))).Commit()
		if err != nil || !resp.Succeeded {
			t.Fatalf("own: %v %v", resp, err)
		}
		return resp.Header.Revision
	}
	eventually(t, 10*time.Second, "the executor to finish its own run", func() bool {
		s, err := e.Client().Get(ctx, "direct")
		return err == nil && s.Status == StatusCompleted
	})
	// Re-activate a copy of the saga so that it can be owned again.
	if _, err := cli.Put(ctx, cfg.Prefix+"active/direct", "nobody-runs-this"); err != nil {
		t.Fatal(err)
	}
	first := own()
	if _, err := cli.Delete(ctx, cfg.Prefix+"owner/direct"); err != nil {
		t.Fatal(err)
	}
	second := own()
	r := newRunner(e, "direct", e.defs["trip"], ownership{rev: first, epoch: ctx})
	before := maxModRevision(t, cli, cfg.Prefix)
	rec := StepRecord{Name: "flight", Status: StepActionStarted, ActionAttempts: 9}
	if err := r.write(false, r.putStep(0, &rec)); err != ErrFenced {
		t.Fatalf("write with a stale ownership: %v, want ErrFenced", err)
	}
	if after := maxModRevision(t, cli, cfg.Prefix); after != before {
		t.Fatalf("a fenced write changed the log: %d -> %d", before, after)
	}
	r.own.rev = second
	if err := r.write(false, r.putStep(0, &rec)); err != nil {
		t.Fatalf("write with the current ownership: %v", err)
	}
}
