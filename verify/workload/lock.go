package workload

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

// Lock workload settings.
const (
	lockWorkers = 3
	// lockTTL is the session lease's TTL in seconds: short, so that a
	// holder cut off by a fault loses the lock within the run.
	lockTTL = 2
	// lockWritesPerHold is how many fenced increments a holder makes.
	lockWritesPerHold = 2
	// lockAcquireTimeout bounds one Lock call.
	lockAcquireTimeout = 10 * time.Second
)

type lock struct {
	*base
	sc strongClients

	mu struct {
		sync.Mutex
		writes []check.LockWrite
	}
}

func (l *lock) counter() string { return l.prefix + "counter" }

func (l *lock) Setup(ctx context.Context) (err error) {
	l.sc, err = l.connect()
	return err
}

func (l *lock) Run(ctx context.Context) {
	var ws []*worker
	for i := range lockWorkers {
		ws = append(ws, l.newWorker(i, lockWorkers, l.nodeOf(i)))
	}
	run(ctx, ws, l.work)
}

func (l *lock) work(ctx context.Context, w *worker) {
	cli := l.sc.of(w.node)
	for w.next(ctx) {
		l.hold(ctx, w, cli)
	}
}

// hold takes the lock once, makes its fenced writes and lets go.
func (l *lock) hold(ctx context.Context, w *worker, cli *clientv3.Client) {
	gctx, cancel := w.opCtx(ctx)
	call := l.now()
	lease, err := cli.Grant(gctx, lockTTL)
	cancel()
	if err != nil {
		w.record("lock", call, l.now(), history.Failed, "grant ("+errString(err)+")")
		return
	}
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(lease.ID), concurrency.WithContext(sctx))
	if err != nil {
		w.record("lock", call, l.now(), history.Failed, "session ("+errString(err)+")")
		return
	}
	defer func() {
		// Orphan: revoking the lease releases the lock even if Unlock
		// failed; the session's context ends its keepalive.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.OpTimeout)
		_, _ = cli.Revoke(rctx, lease.ID)
		rcancel()
		sess.Orphan()
	}()
	m := concurrency.NewMutex(sess, l.prefix+"lock/")
	lctx, lcancel := context.WithTimeout(ctx, lockAcquireTimeout)
	err = m.Lock(lctx)
	lcancel()
	if err != nil {
		w.record("lock", call, l.now(), history.Failed, "lock ("+errString(err)+")")
		return
	}
	tctx, tcancel := w.opCtx(ctx)
	own, err := cli.Get(tctx, m.Key())
	tcancel()
	if err != nil || len(own.Kvs) != 1 {
		w.record("lock", call, l.now(), history.Failed, "lock key gone at once")
		return
	}
	token := own.Kvs[0].CreateRevision
	w.record("lock", call, l.now(), history.OK, fmt.Sprintf("acquired %s token %d", m.Key(), token))
	for range lockWritesPerHold {
		if !l.fencedIncrement(ctx, w, cli, m, token) || ctx.Err() != nil {
			break
		}
	}
	uctx, ucancel := w.opCtx(context.WithoutCancel(ctx))
	call = l.now()
	err = m.Unlock(uctx)
	ucancel()
	o, desc := history.OK, fmt.Sprintf("released token %d", token)
	if err != nil {
		o, desc = history.Unknown, desc+" ("+errString(err)+")"
	}
	w.record("unlock", call, l.now(), o, desc)
}

// fencedIncrement reads the counter and writes it plus one, guarded by
// the lock key's create revision; it reports whether to go on holding.
func (l *lock) fencedIncrement(ctx context.Context, w *worker, cli *clientv3.Client, m *concurrency.Mutex, token int64) bool {
	cctx, cancel := w.opCtx(ctx)
	defer cancel()
	call := l.now()
	resp, err := cli.Get(cctx, l.counter(), l.getOpts()...)
	if err != nil {
		w.record("fenced-read", call, l.now(), history.Failed, "read counter ("+errString(err)+")")
		return false
	}
	var cur int64
	if len(resp.Kvs) == 1 {
		cur, _ = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
	}
	lw := check.LockWrite{Client: w.id, Token: token, Value: cur + 1, Call: call}
	tresp, err := cli.Txn(cctx).If(m.IsOwner()).Then(clientv3.OpPut(l.counter(), strconv.FormatInt(cur+1, 10))).Commit()
	lw.Return = l.now()
	desc := fmt.Sprintf("token %d: counter %d -> %d", token, cur, cur+1)
	switch {
	case err != nil:
		lw.Outcome = history.Unknown
		desc += " (" + errString(err) + ")"
	case !tresp.Succeeded:
		lw.Outcome = history.Failed
		desc += " fenced out: the lock was lost"
	default:
		lw.Outcome, lw.Revision = history.OK, tresp.Header.Revision
		desc += fmt.Sprintf(" @%d", lw.Revision)
	}
	w.record("fenced-write", lw.Call, lw.Return, lw.Outcome, desc)
	l.mu.Lock()
	l.mu.writes = append(l.mu.writes, lw)
	l.mu.Unlock()
	if lw.Outcome == history.Unknown {
		w.renew()
	}
	return lw.Outcome == history.OK
}

func (l *lock) Finish(ctx context.Context, f FinishConfig) []check.Result {
	var final check.LockFinal
	resp, err := linearizableGet(ctx, l.sc.all, l.counter())
	if err != nil {
		return []check.Result{{Checker: "lock mutual exclusion (fencing)", Verdict: check.Fail, Summary: "could not read the counter after heal: " + err.Error()}}
	}
	if len(resp.Kvs) == 1 {
		final.Found = true
		final.Value, _ = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
	}
	l.mu.Lock()
	writes := append([]check.LockWrite(nil), l.mu.writes...)
	l.mu.Unlock()
	return []check.Result{l.cappedNote(check.CheckLock(writes, final))}
}
