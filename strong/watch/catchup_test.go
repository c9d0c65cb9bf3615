package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCatchupBoundary is the central property: a watcher created at any
// moment, from any start revision (past, current, 0, future), while
// writes go on and its consumer reads at its own pace, receives exactly
// the changes of its range from its start on, each once, in order, each
// revision whole in one response, with nothing missing at the point where
// it switches from catch-up to live delivery. It runs under several
// configurations (metamorphic), so that catch-up is served from the
// history, from the Source, in tiny and large batches, with queues that
// overflow all the time or never.
func TestCatchupBoundary(t *testing.T) {
	configs := []struct {
		name string
		mod  func(*Options)
	}{
		{"defaults", nil},
		{"tiny-queues", func(o *Options) { o.StreamQueueLength, o.WatcherQueueLength = 2, 1 }},
		{"no-history", func(o *Options) { o.HistoryEvents = 1 }},
		{"tiny-batches", func(o *Options) { o.CatchupBatchEvents, o.StreamQueueLength, o.WatcherQueueLength = 1, 4, 2 }},
		{"one-per-sync", func(o *Options) {
			o.MaxWatchersPerSync, o.HistoryEvents, o.StreamQueueLength, o.WatcherQueueLength = 1, 16, 8, 3
		}},
	}
	seed := uint64(time.Now().UnixNano())
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Logf("seed %d", seed)
			runCatchupBoundary(t, seed, cfg.mod)
		})
	}
}

func runCatchupBoundary(t *testing.T, seed uint64, mod func(*Options)) {
	rng := rand.New(rand.NewPCG(seed, 1))
	h, src := newTestHub(t, mod)
	const (
		writes   = 1500
		watchers = 24
	)
	keys := []string{"a", "a/1", "a/2", "b", "b/1", "c", "d/x", "d/y"}
	// Some history before any watcher.
	for i := range 50 {
		src.commit(put(keys[i%len(keys)], fmt.Sprint("pre", i)))
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		wr := rand.New(rand.NewPCG(seed, 2))
		for i := range writes {
			var ops []op
			for range 1 + wr.IntN(3) {
				k := keys[wr.IntN(len(keys))]
				if wr.IntN(4) == 0 {
					ops = append(ops, del(k))
				} else {
					ops = append(ops, put(k, fmt.Sprint(i)))
				}
			}
			src.commit(ops...)
			if wr.IntN(50) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()

	type result struct {
		spec  WatchSpec
		from  int64
		log   eventLog
		err   error
		until int64
	}
	results := make([]*result, watchers)
	var wg sync.WaitGroup
	specs := []WatchSpec{
		{Key: []byte("a")},
		{Key: []byte("a"), End: []byte("b")},
		{Key: []byte("b"), End: []byte{0}},
		{Key: nil, End: []byte{0}},
		{Key: []byte("d/"), End: []byte("d0"), NoDelete: true},
		{Key: []byte("a"), End: []byte("c"), NoPut: true},
	}
	for i := range watchers {
		spec := specs[rng.IntN(len(specs))]
		// Start: 0, a past revision, the next one, or a future one.
		switch rng.IntN(4) {
		case 1:
			spec.StartRev = 2 + rng.Int64N(src.Rev())
		case 2:
			spec.StartRev = src.Rev() + 1
		case 3:
			spec.StartRev = src.Rev() + 1 + rng.Int64N(writes)
		}
		delay := time.Duration(rng.IntN(30)) * time.Millisecond
		slow := rng.IntN(3) == 0
		res := &result{spec: spec}
		results[i] = res
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(delay)
			s, err := h.NewStream()
			if err != nil {
				res.err = err
				return
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := s.Watch(ctx, spec); err != nil {
				res.err = err
				return
			}
			created, err := s.Recv(ctx)
			if err != nil || created.Kind != KindCreated {
				res.err = fmt.Errorf("created: %+v, %v", created, err)
				return
			}
			res.from = spec.StartRev
			if res.from == 0 {
				res.from = created.Revision + 1
			}
			<-writerDone
			res.until = src.Rev()
			progress, err := drainUntilProgress(t, ctx, s, func(r Response) {
				if slow {
					time.Sleep(100 * time.Microsecond)
				}
				res.log.add(t, r)
			})
			if err == nil && progress != res.until {
				err = fmt.Errorf("progress at %d, want %d", progress, res.until)
			}
			res.err = err
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.err != nil {
			t.Errorf("watcher %d %+v: %v", i, res.spec, res.err)
			continue
		}
		want := evString(flatten(src.expected(res.spec, res.from, res.until)), true)
		if got := evString(res.log.events, true); got != want {
			t.Errorf("watcher %d %+v from %d:\n got %s\nwant %s", i, res.spec, res.from, got, want)
		}
	}
}

// TestSlowConsumerCatchesUp: a consumer that does not read while a burst
// is committed falls behind (Notify does not wait for it), and then gets
// every event, in order, once it reads again; it ends synced.
func TestSlowConsumerCatchesUp(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, src := newTestHub(t, func(o *Options) {
		o.StreamQueueLength, o.WatcherQueueLength, o.HistoryEvents = 4, 2, 64
		o.Registerer = reg
	})
	s := newTestStream(t, h)
	spec := WatchSpec{Key: []byte("k/"), End: []byte("k0"), PrevKV: true}
	_, created := mustWatch(t, s, spec)
	start := time.Now()
	for i := range 2000 {
		src.commit(put(fmt.Sprintf("k/%d", i%7), fmt.Sprint(i)))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("2000 commits with a stalled watcher took %v: Notify waited", d)
	}
	if n := metricValue(t, reg, "cairn_watch_slow_watchers_total"); n < 1 {
		t.Fatalf("slow watcher transitions %v, want >= 1", n)
	}
	var log eventLog
	for log.lastRev < src.Rev() {
		log.add(t, mustRecv(t, s))
	}
	want := evString(flatten(src.expected(spec, created+1, src.Rev())), true)
	if got := evString(log.events, true); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if n := metricValue(t, reg, "cairn_watch_catchup_store_reads_total"); n < 1 {
		t.Errorf("store reads %v: the history (64 events) cannot hold a 2000-revision lag", n)
	}
	waitFor(t, func() bool { return metricValue(t, reg, "cairn_watch_synced_watchers") == 1 })
	// Live again.
	rev := src.commit(put("k/x", "live"))
	if r := mustRecv(t, s); r.Revision != rev || len(r.Events) != 1 {
		t.Fatalf("live response %+v", r)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCompaction(t *testing.T) {
	t.Run("start below the compaction", func(t *testing.T) {
		h, src := newTestHub(t, nil)
		for i := range 10 {
			src.commit(put("k", fmt.Sprint(i)))
		}
		src.compactTo(8)
		s := newTestStream(t, h)
		id, _ := mustWatch(t, s, WatchSpec{Key: []byte("k"), StartRev: 5})
		r := mustRecv(t, s)
		if r.Kind != KindCompacted || r.WatchID != id || r.CompactRevision != 8 {
			t.Fatalf("response %+v, want compacted at 8", r)
		}
		// The watcher is gone: no more events, and its ID is free.
		src.commit(put("k", "x"))
		recvNothing(t, s, 30*time.Millisecond)
		if err := s.Cancel(context.Background(), id); err != nil && !errors.Is(err, ErrWatcherNotExist) {
			t.Fatal(err)
		}
		// At the compaction revision itself the history is still there.
		id2, _ := mustWatch(t, s, WatchSpec{Key: []byte("k"), StartRev: 8})
		var log eventLog
		for log.lastRev < src.Rev() {
			log.add(t, mustRecv(t, s))
		}
		if int64(len(log.events)) != src.Rev()-7 || log.events[0].Kv.ModRevision != 8 {
			t.Fatalf("watcher %d from 8 got %s", id2, evString(log.events, false))
		}
	})
	t.Run("slow watcher overtaken", func(t *testing.T) {
		h, src := newTestHub(t, func(o *Options) { o.StreamQueueLength, o.WatcherQueueLength, o.HistoryEvents = 2, 1, 1 })
		s := newTestStream(t, h)
		id, _ := mustWatch(t, s, WatchSpec{Key: []byte("k")})
		for i := range 50 {
			src.commit(put("k", fmt.Sprint(i)))
		}
		src.compactTo(40)
		// The queued responses come first, then the compaction notice.
		var log eventLog
		for {
			r := mustRecv(t, s)
			if r.Kind == KindCompacted {
				if r.WatchID != id || r.CompactRevision != 40 {
					t.Fatalf("compacted %+v", r)
				}
				break
			}
			log.add(t, r)
		}
		if last := log.lastRev; last >= 40 {
			t.Fatalf("got events up to %d, yet was compacted", last)
		}
	})
}

func TestRequestProgress(t *testing.T) {
	h, src := newTestHub(t, func(o *Options) { o.StreamQueueLength, o.WatcherQueueLength, o.HistoryEvents = 4, 2, 8 })
	s := newTestStream(t, h)
	// No watchers: no notification, as etcd.
	s.RequestProgress()
	recvNothing(t, s, 20*time.Millisecond)

	mustWatch(t, s, WatchSpec{Key: []byte("a")})
	mustWatch(t, s, WatchSpec{Key: []byte("zzz")}) // a synced watcher with nothing to say
	src.commit(put("a", "1"))
	s.RequestProgress()
	if r := mustRecv(t, s); r.Kind != KindEvents {
		t.Fatalf("got %+v, want the event first", r)
	}
	if r := mustRecv(t, s); r.Kind != KindProgress || r.WatchID != InvalidWatchID || r.Revision != src.Rev() {
		t.Fatalf("got %+v, want progress at %d", r, src.Rev())
	}

	// With a watcher behind, the notification waits until it caught up,
	// and comes after all of its events.
	for i := range 100 {
		src.commit(put("a", fmt.Sprint(i)))
	}
	s.RequestProgress()
	var log eventLog
	for {
		r := mustRecv(t, s)
		if r.Kind == KindProgress {
			if r.Revision != src.Rev() || log.lastRev != src.Rev() {
				t.Fatalf("progress at %d after events up to %d; want both %d", r.Revision, log.lastRev, src.Rev())
			}
			break
		}
		log.add(t, r)
	}
}

func TestPeriodicProgress(t *testing.T) {
	h, src := newTestHub(t, func(o *Options) { o.ProgressNotifyInterval = 20 * time.Millisecond })
	s := newTestStream(t, h)
	id, _ := mustWatch(t, s, WatchSpec{Key: []byte("a"), ProgressNotify: true})
	mustWatch(t, s, WatchSpec{Key: []byte("a")}) // no progress for this one
	src.commit(put("b", "1"))
	r := mustRecv(t, s)
	if r.Kind != KindProgress || r.WatchID != id || r.Revision != src.Rev() {
		t.Fatalf("got %+v, want progress for %d at %d", r, id, src.Rev())
	}
	r = mustRecv(t, s)
	if r.Kind != KindProgress || r.WatchID != id {
		t.Fatalf("got %+v, want a second progress for %d", r, id)
	}
}

// TestNotifyGap: a revision skipped by the notifier is caught up from the
// Source, so watchers see no gap.
func TestNotifyGap(t *testing.T) {
	h, src := newTestHub(t, nil)
	s := newTestStream(t, h)
	spec := WatchSpec{Key: []byte("k")}
	_, created := mustWatch(t, s, spec)
	src.hook = nil
	src.commit(put("k", "lost-1"))
	src.commit(put("k", "lost-2"))
	src.hook = h.Notify
	src.commit(put("k", "3"))
	var log eventLog
	for log.lastRev < src.Rev() {
		log.add(t, mustRecv(t, s))
	}
	want := evString(flatten(src.expected(spec, created+1, src.Rev())), true)
	if got := evString(log.events, true); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// A stale notification is ignored.
	h.Notify(2, nil)
	recvNothing(t, s, 20*time.Millisecond)
}

// TestResync: after the Source's state is replaced, watchers catch up on
// the revisions it brought without a notification.
func TestResync(t *testing.T) {
	h, src := newTestHub(t, nil)
	s := newTestStream(t, h)
	spec := WatchSpec{Key: []byte("k"), End: []byte{0}}
	_, created := mustWatch(t, s, spec)
	src.hook = nil
	for i := range 5 {
		src.commit(put("k", fmt.Sprint(i))) // as if restored from a snapshot
	}
	h.Resync()
	src.hook = h.Notify
	var log eventLog
	for log.lastRev < src.Rev() {
		log.add(t, mustRecv(t, s))
	}
	if got, want := evString(log.events, false), evString(flatten(src.expected(spec, created+1, src.Rev())), false); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// TestSourceErrorRetried: a failing catch-up read is retried.
func TestSourceErrorRetried(t *testing.T) {
	h, src := newTestHub(t, func(o *Options) { o.HistoryEvents = 1 })
	for i := range 5 {
		src.commit(put("k", fmt.Sprint(i)))
	}
	src.mu.Lock()
	src.failChanges = fmt.Errorf("injected")
	src.mu.Unlock()
	s := newTestStream(t, h)
	mustWatch(t, s, WatchSpec{Key: []byte("k"), StartRev: 2})
	waitFor(t, func() bool { src.mu.Lock(); defer src.mu.Unlock(); return src.changes >= 3 })
	src.mu.Lock()
	src.failChanges = nil
	src.mu.Unlock()
	var log eventLog
	for log.lastRev < src.Rev() {
		log.add(t, mustRecv(t, s))
	}
	if len(log.events) != 5 {
		t.Fatalf("got %s", evString(log.events, false))
	}
}

// TestCatchupConvergesUnderLoad: a watcher catching up joins the synced
// group while revisions keep being notified as fast as the writer can go,
// because the revisions notified during its catch-up read are fed from
// the history at the join, instead of starting another read that the
// writer outruns again. Most writes miss the watched range, so the
// consumer keeps up and the watcher, once synced, stays synced.
func TestCatchupConvergesUnderLoad(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, src := newTestHub(t, func(o *Options) { o.Registerer = reg; o.HistoryEvents = 1000 })
	write := func(i int) {
		if i%100 == 0 {
			src.commit(put(fmt.Sprint("k", i%10), fmt.Sprint(i)))
		} else {
			src.commit(put(fmt.Sprint("x", i%10), fmt.Sprint(i)))
		}
	}
	for i := range 3000 {
		write(i)
	}
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			write(i)
		}
	}()
	s := newTestStream(t, h)
	spec := WatchSpec{Key: []byte("k"), End: []byte("l")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Watch(ctx, WatchSpec{Key: spec.Key, End: spec.End, StartRev: 2}); err != nil {
		t.Fatal(err)
	}
	mustRecv(t, s) // created
	// The consumer reads everything until a stream-wide progress at or
	// after finalRev (set once the writer stopped).
	var log eventLog
	var finalRev atomic.Int64
	recvErr := make(chan error, 1)
	go func() {
		for {
			r, err := s.Recv(ctx)
			if err != nil {
				recvErr <- err
				return
			}
			if r.Kind == KindProgress {
				if f := finalRev.Load(); f > 0 && r.Revision >= f {
					recvErr <- nil
					return
				}
				continue
			}
			log.add(t, r)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, reg, "cairn_watch_synced_watchers") != 1 {
		if time.Now().After(deadline) {
			close(stop)
			t.Fatalf("the watcher never joined the synced group while writes went on (unsynced %v)",
				metricValue(t, reg, "cairn_watch_unsynced_watchers"))
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-writerDone
	finalRev.Store(src.Rev())
	s.RequestProgress()
	if err := <-recvErr; err != nil {
		t.Fatal(err)
	}
	want := evString(flatten(src.expected(spec, 2, log.lastRev)), false)
	if got := evString(log.events, false); got != want {
		t.Fatalf("events differ from the history (%d vs %d bytes)", len(got), len(want))
	}
}
