package watch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLiveWatchRanges(t *testing.T) {
	h, src := newTestHub(t, nil)
	s := newTestStream(t, h)
	specs := []WatchSpec{
		{Key: []byte("a")},                     // one key
		{Key: []byte("a"), End: []byte("b")},   // prefix "a"
		{Key: []byte("b"), End: []byte{0}},     // every key >= "b"
		{Key: nil, End: []byte{0}},             // every key
		{Key: []byte("ab"), End: []byte("ac")}, // prefix "ab"
		{Key: []byte("a"), NoPut: true},        // deletes of "a"
		{Key: []byte("a"), End: []byte("c"), NoDelete: true},
	}
	ids := make([]int64, len(specs))
	for i, spec := range specs {
		ids[i], _ = mustWatch(t, s, spec)
		if ids[i] != int64(i) {
			t.Fatalf("auto watch ID %d, want %d", ids[i], i)
		}
	}
	start := src.Rev() + 1
	src.commit(put("a", "1"))
	src.commit(put("ab", "2"), put("b", "3"), put("zz", "4"))
	src.commit(del("a"))
	src.commit(put("abc", "5"), del("ab"))
	src.commit(put("c", "6"))
	end := src.Rev()

	logs := make([]eventLog, len(specs))
	// Every watcher gets its events of each revision in one response, so
	// count the non-empty expected revisions.
	pending := 0
	for _, spec := range specs {
		pending += len(src.expected(spec, start, end))
	}
	for ; pending > 0; pending-- {
		r := mustRecv(t, s)
		logs[r.WatchID].add(t, r)
	}
	for i, spec := range specs {
		want := evString(flatten(src.expected(spec, start, end)), true)
		if got := evString(logs[i].events, true); got != want {
			t.Errorf("watcher %d %+v:\n got %s\nwant %s", i, spec, got, want)
		}
	}
	recvNothing(t, s, 20*time.Millisecond)
}

func TestWatchIDs(t *testing.T) {
	h, _ := newTestHub(t, func(o *Options) { o.MaxWatchersPerStream = 6 })
	s := newTestStream(t, h)
	ctx := context.Background()
	chosen, _ := mustWatch(t, s, WatchSpec{ID: 2, Key: []byte("k")})
	if chosen != 2 {
		t.Fatalf("chosen ID %d", chosen)
	}
	var autos []int64
	for range 3 {
		id, _ := mustWatch(t, s, WatchSpec{Key: []byte("k")})
		autos = append(autos, id)
	}
	if want := []int64{0, 1, 3}; !equalIDs(autos, want) {
		t.Fatalf("auto IDs %v, want %v (skipping the chosen 2)", autos, want)
	}
	fail := func(spec WatchSpec, want error) {
		t.Helper()
		id, err := s.Watch(ctx, spec)
		if !errors.Is(err, want) || id != InvalidWatchID {
			t.Fatalf("Watch(%+v) = %d, %v; want %v", spec, id, err, want)
		}
		r := mustRecv(t, s)
		if r.Kind != KindCreateFailed || r.WatchID != InvalidWatchID || r.CancelReason != want.Error() {
			t.Fatalf("response %+v, want create-failed with %q", r, want)
		}
	}
	fail(WatchSpec{ID: 2, Key: []byte("k")}, ErrWatcherDuplicateID)
	fail(WatchSpec{ID: -5, Key: []byte("k")}, ErrNegativeWatchID)
	fail(WatchSpec{Key: []byte("b"), End: []byte("a")}, ErrEmptyWatcherRange)
	fail(WatchSpec{Key: []byte("b"), End: []byte("b")}, ErrEmptyWatcherRange)
	fail(WatchSpec{Key: []byte("k"), StartRev: -1}, ErrCompactedStart)
	mustWatch(t, s, WatchSpec{ID: 100, Key: []byte("k")})
	mustWatch(t, s, WatchSpec{Key: []byte("k")})
	fail(WatchSpec{Key: []byte("k")}, ErrTooManyWatchers)

	// A canceled ID can be chosen again.
	if err := s.Cancel(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if r := mustRecv(t, s); r.Kind != KindCanceled || r.WatchID != 2 {
		t.Fatalf("response %+v, want canceled 2", r)
	}
	mustWatch(t, s, WatchSpec{ID: 2, Key: []byte("k")})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCancel(t *testing.T) {
	h, src := newTestHub(t, nil)
	s := newTestStream(t, h)
	ctx := context.Background()
	id, _ := mustWatch(t, s, WatchSpec{Key: []byte("k")})
	other, _ := mustWatch(t, s, WatchSpec{Key: []byte("k")})
	// Events queued before the cancel are dropped, not sent.
	src.commit(put("k", "1"))
	if err := s.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	var got []Response
	for range 2 {
		got = append(got, mustRecv(t, s))
	}
	if got[0].Kind != KindEvents || got[0].WatchID != other || got[1].Kind != KindCanceled || got[1].WatchID != id {
		t.Fatalf("responses %+v, want other's event then the cancel", got)
	}
	src.commit(put("k", "2"))
	if r := mustRecv(t, s); r.WatchID != other {
		t.Fatalf("event for %d after its cancel", r.WatchID)
	}
	if err := s.Cancel(ctx, id); !errors.Is(err, ErrWatcherNotExist) {
		t.Fatalf("second cancel: %v", err)
	}
	recvNothing(t, s, 20*time.Millisecond)
}

func TestStreamCloseReleasesWatchers(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, src := newTestHub(t, func(o *Options) { o.Registerer = reg })
	s := newTestStream(t, h)
	for range 10 {
		mustWatch(t, s, WatchSpec{Key: []byte("k")})
	}
	mustWatch(t, s, WatchSpec{Key: []byte("a"), End: []byte{0}})
	mustWatch(t, s, WatchSpec{Key: []byte("k"), StartRev: 1})
	if n := metricValue(t, reg, "cairn_watch_watchers"); n != 12 {
		t.Fatalf("watchers gauge %v, want 12", n)
	}
	s.Close()
	for _, name := range []string{"cairn_watch_watchers", "cairn_watch_synced_watchers", "cairn_watch_unsynced_watchers", "cairn_watch_streams"} {
		if n := metricValue(t, reg, name); n != 0 {
			t.Errorf("%s = %v after close, want 0", name, n)
		}
	}
	src.commit(put("k", "1")) // nothing to deliver to, nothing breaks
	if _, err := s.Recv(context.Background()); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Recv after Close: %v", err)
	}
	if _, err := s.Watch(context.Background(), WatchSpec{Key: []byte("k")}); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
}

// metricValue reads one unlabeled gauge or counter of reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestHubCloseEndsStreams(t *testing.T) {
	h, src := newTestHub(t, nil)
	s := newTestStream(t, h)
	mustWatch(t, s, WatchSpec{Key: []byte("k")})
	h.Close()
	src.commit(put("k", "1"))
	if _, err := s.Recv(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after hub Close: %v", err)
	}
	if _, err := h.NewStream(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewStream after Close: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultServiceOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Options){
		func(o *Options) { o.StreamQueueLength = 0 },
		func(o *Options) { o.WatcherQueueLength = o.StreamQueueLength + 1 },
		func(o *Options) { o.MaxWatchersPerStream = 0 },
		func(o *Options) { o.HistoryEvents = 0 },
		func(o *Options) { o.HistoryBytes = 0 },
		func(o *Options) { o.CatchupBatchEvents = 0 },
		func(o *Options) { o.CatchupBatchBytes = 0 },
		func(o *Options) { o.MaxWatchersPerSync = 0 },
		func(o *Options) { o.SyncRetryInterval = 0 },
		func(o *Options) { o.ProgressNotifyInterval = 0 },
	}
	for i, mod := range bad {
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("case %d: %v", i, err)
		}
		if _, err := NewHub(newFakeSource(), o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("case %d: NewHub: %v", i, err)
		}
	}
	if err := (ServiceOptions{MaxResponseBytes: 10}).Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("small MaxResponseBytes: %v", err)
	}
}
