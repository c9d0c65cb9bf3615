package saga

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Recovery: how an executor finds sagas to take.
//
//   - A put under active/ is a new saga (Client.Start): claim it.
//   - A delete under owner/ is an owner gone: its lease expired or was
//     revoked (the saga is orphaned) or the saga finished (active/ is
//     gone too, and the claim's compare refuses it).
//   - Every ScanInterval, and whenever a watch (re)starts or a lease is
//     granted, a scan lists active/ and owner/ and claims every active saga
//     without an owner. It also adopts sagas whose owner key is on this
//     executor's current lease but which no runner here is running (a
//     runner that let go after an error and could not release them).
//
// A claim is one Txn: if the owner key does not exist and the active key
// does, put the owner key on this executor's lease. Executors race
// fairly; exactly one wins, and its owner key's create revision is its
// fence. Every executor reads each event and every scan reads all active
// sagas: recovery costs O(executors x sagas started).

func (e *Executor) scanLoop() {
	defer e.loops.Done()
	t := time.NewTicker(e.cfg.ScanInterval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		case <-e.poke:
		}
		if err := e.scan(); err != nil && e.ctx.Err() == nil {
			e.log.Warn("recovery scan failed", "err", err)
		}
	}
}

// rangeAll calls fn for every key under prefix at revision rev (0: the
// latest), in pages of ListPageSize, and returns the revision it read at.
func (e *Executor) rangeAll(prefix string, rev int64, keysOnly bool, fn func(kv *mvccpb.KeyValue)) (int64, error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	for {
		ops := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(e.cfg.ListPageSize))}
		if rev != 0 {
			ops = append(ops, clientv3.WithRev(rev))
		}
		if keysOnly {
			ops = append(ops, clientv3.WithKeysOnly())
		}
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
		resp, err := e.cli.Get(ctx, from, ops...)
		cancel()
		if err != nil {
			return rev, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			fn(kv)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

func (e *Executor) scan() error {
	lease, _ := e.currentLease()
	if lease == 0 {
		return nil
	}
	type owner struct{ lease int64 }
	// Both listings at one revision, so that an owner deleted between
	// them cannot make a live saga look orphaned.
	owners := map[string]owner{}
	rev, err := e.rangeAll(e.keys.ownerPrefix(), 0, true, func(kv *mvccpb.KeyValue) {
		if id, ok := idFrom(e.keys.ownerPrefix(), string(kv.Key)); ok {
			owners[id] = owner{lease: kv.Lease}
		}
	})
	if err != nil {
		return err
	}
	type cand struct{ id, def string }
	var orphans []cand
	_, err = e.rangeAll(e.keys.activePrefix(), rev, false, func(kv *mvccpb.KeyValue) {
		id, ok := idFrom(e.keys.activePrefix(), string(kv.Key))
		if !ok || e.isRunning(id) {
			return
		}
		def := string(kv.Value)
		if _, known := e.defs[def]; !known {
			return
		}
		if o, owned := owners[id]; owned {
			if o.lease == int64(lease) {
				e.adopt(id, def)
			}
			return
		}
		orphans = append(orphans, cand{id, def})
	})
	if err != nil {
		return err
	}
	// Claim in random order, so that executors that scan together do not
	// all contend for the same sagas first.
	rand.Shuffle(len(orphans), func(i, j int) { orphans[i], orphans[j] = orphans[j], orphans[i] })
	for _, c := range orphans {
		if e.ctx.Err() != nil {
			return nil
		}
		e.claim(c.id, c.def, "scan")
	}
	return nil
}

// watchLoop watches prefix for the events filter lets through, restarting
// the watch (and asking for a scan, for what it missed) when it breaks.
func (e *Executor) watchLoop(prefix string, filter clientv3.OpOption, on func(ev *clientv3.Event)) {
	defer e.loops.Done()
	fails := 0
	backoff := RetryPolicy{MaxAttempts: 1, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2, Jitter: 0.5}
	for e.ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(e.ctx))
		wch := e.cli.Watch(wctx, prefix, clientv3.WithPrefix(), filter)
		e.pokeScan()
		for resp := range wch {
			if err := resp.Err(); err != nil {
				if e.ctx.Err() == nil {
					e.log.Warn("watch broke; restarting", "prefix", prefix, "err", err)
				}
				break
			}
			fails = 0
			for _, ev := range resp.Events {
				on(ev)
			}
		}
		cancel()
		fails++
		sleep(e.ctx, backoff.Backoff(fails+1, rand.Float64()))
	}
}

func (e *Executor) onActivePut(ev *clientv3.Event) {
	if ev.Type != clientv3.EventTypePut {
		return
	}
	id, ok := idFrom(e.keys.activePrefix(), string(ev.Kv.Key))
	if !ok {
		return
	}
	e.claim(id, string(ev.Kv.Value), "watch")
}

func (e *Executor) onOwnerDelete(ev *clientv3.Event) {
	if ev.Type != clientv3.EventTypeDelete {
		return
	}
	id, ok := idFrom(e.keys.ownerPrefix(), string(ev.Kv.Key))
	if !ok || e.isRunning(id) {
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
	resp, err := e.cli.Get(ctx, e.keys.active(id))
	cancel()
	if err != nil || len(resp.Kvs) == 0 {
		return // finished, or the scan will see it
	}
	e.claim(id, string(resp.Kvs[0].Value), "watch")
}

// claim tries to take saga id; it runs it if the Txn wins.
func (e *Executor) claim(id, definition, how string) {
	def, ok := e.defs[definition]
	if !ok {
		return
	}
	if !e.reserve(id) {
		return
	}
	lease, epoch := e.currentLease()
	if lease == 0 {
		e.unreserve(id)
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
	resp, err := e.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.keys.owner(id)), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(e.keys.active(id)), ">", 0)).
		Then(clientv3.OpPut(e.keys.owner(id), e.id, clientv3.WithLease(lease))).
		Commit()
	cancel()
	if err != nil || !resp.Succeeded {
		e.unreserve(id)
		if err != nil && e.ctx.Err() == nil {
			e.log.Debug("claim failed", "saga", id, "err", err)
		}
		return
	}
	e.m.claims.WithLabelValues(how).Inc()
	e.log.Info("claimed saga", "saga", id, "definition", definition, "how", how)
	e.startRunner(id, def, ownership{rev: resp.Header.Revision, lease: lease, epoch: epoch})
}

// adopt runs a saga whose owner key is on this executor's lease but that
// no runner here runs. The scan's listing may be older than the end of
// the runner that just finished it, so adopt reads the owner key again
// once the slot is reserved: from then on no runner here can change it.
func (e *Executor) adopt(id, definition string) {
	def := e.defs[definition]
	if !e.reserve(id) {
		return
	}
	lease, epoch := e.currentLease()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
	resp, err := e.cli.Get(ctx, e.keys.owner(id))
	cancel()
	if lease == 0 || err != nil || len(resp.Kvs) == 0 || resp.Kvs[0].Lease != int64(lease) {
		e.unreserve(id)
		return
	}
	e.m.claims.WithLabelValues("adopt").Inc()
	e.log.Info("adopted saga", "saga", id, "definition", definition)
	e.startRunner(id, def, ownership{rev: resp.Kvs[0].CreateRevision, lease: lease, epoch: epoch})
}

// startRunner runs saga id (its slot reserved) in a goroutine.
func (e *Executor) startRunner(id string, def *Definition, own ownership) {
	e.m.owned.Inc()
	go func() {
		defer e.m.owned.Dec()
		defer e.unreserve(id)
		r := newRunner(e, id, def, own)
		err := r.run()
		switch {
		case err == nil:
		case errors.Is(err, errStopped), errors.Is(err, errCrashed):
		case errors.Is(err, ErrFenced):
			r.log.Warn("lost the saga to another executor; stopped")
		default:
			e.m.runnerErrors.Inc()
			r.log.Error("letting the saga go after an error", "err", err)
			e.coolDown(id)
			e.release(id, own)
		}
	}()
}

// release deletes the owner key if it is still ours, so that any
// executor may take the saga again.
func (e *Executor) release(id string, own ownership) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
	defer cancel()
	_, err := e.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.keys.owner(id)), "=", own.rev)).
		Then(clientv3.OpDelete(e.keys.owner(id))).Commit()
	if err != nil && e.ctx.Err() == nil {
		e.log.Warn("release failed; this executor adopts the saga again on a scan", "saga", id, "err", fmt.Sprint(err))
	}
}
