package workload

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
)

// Watch workload sizes.
const (
	watchWriters = 2
	watchKeys    = 8
	// watchResumeEvery is the mean time between a watcher's deliberate
	// cancel-and-resume.
	watchResumeEvery = 4 * time.Second
)

type watch struct {
	*base
	sc    strongClients
	from  int64
	fence string

	mu struct {
		sync.Mutex
		writes []check.WatchWrite
	}
	watchers []*watcher
	wg       sync.WaitGroup
	stop     context.CancelFunc
}

// watcher is one watch over the prefix, through one client.
type watcher struct {
	name string
	cli  *clientv3.Client
	w    *worker
	// fenced is closed when the watcher has seen the fence.
	fenced chan struct{}

	mu struct {
		sync.Mutex
		stream check.WatchStream
		errs   int
		last   string // last error
	}
}

func (wt *watch) Setup(ctx context.Context) (err error) {
	if wt.sc, err = wt.connect(); err != nil {
		return err
	}
	// The prefix is empty until now: the watchers start at the next
	// revision, so every key starts absent.
	var resp *clientv3.GetResponse
	if resp, err = linearizableGet(ctx, wt.sc.all, wt.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		return err
	}
	if resp.Count != 0 {
		return fmt.Errorf("watch prefix %q is not empty", wt.prefix)
	}
	wt.from = resp.Header.Revision + 1
	wt.fence = wt.prefix + "fence"
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	wt.stop = cancel
	for i := range wt.cfg.Cluster.Size() + 1 {
		node := i
		name := fmt.Sprintf("watcher%d via %s", i, "all members")
		if i < wt.cfg.Cluster.Size() {
			name = fmt.Sprintf("watcher%d via %s", i, wt.cfg.Cluster.Member(i).Name)
		} else {
			node = -1
		}
		w := &watcher{name: name, cli: wt.sc.of(node), w: wt.newWorker(100+i, 1, node), fenced: make(chan struct{})}
		w.mu.stream = check.WatchStream{Watcher: name, From: wt.from}
		wt.watchers = append(wt.watchers, w)
		wt.wg.Add(1)
		go func() {
			defer wt.wg.Done()
			wt.watchLoop(wctx, w)
		}()
	}
	return nil
}

// watchLoop watches the prefix from the first revision to the fence,
// resuming after every error and, now and then, on purpose.
func (wt *watch) watchLoop(ctx context.Context, w *watcher) {
	next := wt.from
	first := true
	for ctx.Err() == nil {
		if !first {
			w.mu.Lock()
			w.mu.stream.Resumes++
			w.mu.Unlock()
		}
		first = false
		// RequireLeader: a member cut off from the leader cancels the
		// watch instead of going silent, and the watcher resumes.
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		resume := time.Duration(float64(watchResumeEvery) * (0.5 + w.w.rng.Float64()))
		timer := time.AfterFunc(resume, cancel)
		ch := w.cli.Watch(wctx, wt.prefix, clientv3.WithPrefix(), clientv3.WithRev(next), clientv3.WithPrevKV())
		done := false
		for resp := range ch {
			if err := resp.Err(); err != nil {
				w.mu.Lock()
				w.mu.errs++
				w.mu.last = err.Error()
				w.mu.Unlock()
				break
			}
			for _, ev := range resp.Events {
				e := toEvent(ev)
				w.mu.Lock()
				w.mu.stream.Events = append(w.mu.stream.Events, e)
				if e.Key == wt.fence && !e.Delete && w.mu.stream.Until == 0 {
					w.mu.stream.Until = e.Revision
					done = true
				}
				w.mu.Unlock()
				next = e.Revision + 1
			}
			if done {
				break
			}
		}
		timer.Stop()
		cancel()
		if done {
			close(w.fenced)
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

func toEvent(ev *clientv3.Event) check.WatchEvent {
	e := check.WatchEvent{
		Delete:   ev.Type == mvccpb.DELETE,
		Key:      string(ev.Kv.Key),
		Revision: ev.Kv.ModRevision,
	}
	if !e.Delete {
		e.Value, e.CreateRevision, e.Version = string(ev.Kv.Value), ev.Kv.CreateRevision, ev.Kv.Version
	}
	if ev.PrevKv != nil {
		e.HasPrev, e.PrevValue, e.PrevModRevision = true, string(ev.PrevKv.Value), ev.PrevKv.ModRevision
	}
	return e
}

func (wt *watch) Run(ctx context.Context) {
	var ws []*worker
	for i := range watchWriters {
		ws = append(ws, wt.newWorker(i, watchWriters, wt.nodeOf(i)))
	}
	run(ctx, ws, func(ctx context.Context, w *worker) {
		cli := wt.sc.of(w.node)
		seq := 0
		for w.next(ctx) {
			seq++
			ww := check.WatchWrite{Key: fmt.Sprintf("%sk%d", wt.prefix, w.rng.IntN(watchKeys))}
			del := w.rng.IntN(4) == 0
			cctx, cancel := w.opCtx(ctx)
			call := wt.now()
			var desc string
			var err error
			if del {
				ww.Delete = true
				var resp *clientv3.DeleteResponse
				if resp, err = cli.Delete(cctx, ww.Key); err == nil {
					ww.Revision, ww.Deleted = resp.Header.Revision, resp.Deleted
				}
				desc = fmt.Sprintf("delete %s", ww.Key)
			} else {
				ww.Value = fmt.Sprintf("%d.%d", w.id, seq)
				var resp *clientv3.PutResponse
				if resp, err = cli.Put(cctx, ww.Key, ww.Value); err == nil {
					ww.Revision = resp.Header.Revision
				}
				desc = fmt.Sprintf("put %s=%s", ww.Key, ww.Value)
			}
			cancel()
			ret := wt.now()
			if err != nil {
				ww.Outcome = history.Unknown
				desc += " (" + errString(err) + ")"
			} else {
				ww.Outcome = history.OK
				desc += fmt.Sprintf(" @%d", ww.Revision)
			}
			wt.addWrite(ww)
			w.record("watch-write", call, ret, ww.Outcome, desc)
			if ww.Outcome == history.Unknown {
				w.renew()
			}
		}
	})
}

func (wt *watch) addWrite(w check.WatchWrite) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	wt.mu.writes = append(wt.mu.writes, w)
}

func (wt *watch) Finish(ctx context.Context, f FinishConfig) []check.Result {
	// The fence: one put after every other write, which every watcher
	// must receive; its revision bounds what each stream must hold.
	attempt := 0
	err := retryRead(ctx, f.Timeout, func(cctx context.Context) error {
		attempt++
		// Each attempt writes its own value: an attempt that timed out
		// may still land, and must not be mistaken for a later one.
		val := fmt.Sprintf("fence.%d", attempt)
		resp, err := wt.sc.all.Put(cctx, wt.fence, val)
		ww := check.WatchWrite{Key: wt.fence, Value: val, Outcome: history.Unknown}
		if err == nil {
			ww.Outcome, ww.Revision = history.OK, resp.Header.Revision
		}
		wt.addWrite(ww)
		return err
	})
	if err != nil {
		wt.stop()
		wt.wg.Wait()
		return []check.Result{{Checker: "watch guarantees", Verdict: check.Fail, Summary: "could not write the fence after heal: " + err.Error()}}
	}
	deadline := time.After(f.Timeout)
	for _, w := range wt.watchers {
		select {
		case <-w.fenced:
		case <-deadline:
		case <-ctx.Done():
		}
	}
	wt.stop()
	wt.wg.Wait()
	var streams []check.WatchStream
	var notes []string
	for _, w := range wt.watchers {
		w.mu.Lock()
		streams = append(streams, w.mu.stream)
		if w.mu.errs > 0 {
			notes = append(notes, fmt.Sprintf("note: %s resumed after %d errors (last: %s)", w.name, w.mu.errs, w.mu.last))
		}
		w.mu.Unlock()
	}
	wt.mu.Lock()
	writes := append([]check.WatchWrite(nil), wt.mu.writes...)
	wt.mu.Unlock()
	r := check.CheckWatch(streams, writes)
	if r.Verdict == check.Fail {
		r.Details = append(r.Details, notes...)
	}
	return []check.Result{wt.cappedNote(r)}
}

func (wt *watch) Close() {
	if wt.stop != nil {
		wt.stop()
		wt.wg.Wait()
	}
	wt.base.Close()
}
