package watch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairndb/cairn/storage/mvcc"
)

// The node's store is a Source as is.
var _ Source = (*mvcc.Store)(nil)

// TestRealStore runs the Hub over the real MVCC store on Pebble: live
// watchers, and watchers from the past caught up through Changes (the
// history is kept tiny), see exactly what the store's own Changes reports
// for their range, including deletes and previous values; a watcher below
// the store's compaction is canceled with its compaction revision.
func TestRealStore(t *testing.T) {
	db, err := pebble.Open(t.TempDir(), &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hub atomic.Pointer[Hub]
	opts := mvcc.DefaultOptions()
	opts.OnCommit = func(rev int64, evs []*mvccpb.Event) {
		if h := hub.Load(); h != nil {
			h.Notify(rev, evs)
		}
	}
	store, err := mvcc.Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var index uint64
	write := func(f func(w *mvcc.WriteTxn) error) {
		t.Helper()
		w := store.Write()
		if err := f(w); err != nil {
			w.Abort()
			t.Fatal(err)
		}
		index++
		if _, err := w.End(index); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	keys := []string{"a", "a/1", "a/2", "b", "c/1"}
	churn := func(n int) {
		for i := range n {
			k := keys[rng.IntN(len(keys))]
			write(func(w *mvcc.WriteTxn) error {
				if rng.IntN(4) == 0 {
					_, err := w.DeleteRange([]byte(k), nil)
					return err
				}
				_, err := w.Put([]byte(k), []byte(fmt.Sprint(i)), 0)
				if err == nil && rng.IntN(3) == 0 { // a multi-event revision
					_, err = w.Put([]byte("a/2"), []byte(fmt.Sprint("t", i)), 0)
				}
				return err
			})
		}
	}
	churn(200)

	hopts := DefaultOptions()
	hopts.HistoryEvents, hopts.CatchupBatchEvents = 1, 17
	h, err := NewHub(store, hopts)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hub.Store(h)
	s := newTestStream(t, h)

	specs := []WatchSpec{
		{Key: []byte("a"), End: []byte("b"), StartRev: 2, PrevKV: true},
		{Key: []byte("b"), StartRev: 50},
		{Key: []byte("a"), End: []byte{0}, NoDelete: true, StartRev: 120},
		{Key: []byte("a/2")},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, spec := range specs {
		if id, err := s.Watch(ctx, spec); err != nil || id != int64(i) {
			t.Fatalf("Watch: %d, %v", id, err)
		}
	}
	churn(300)
	end := store.Rev()

	// Created responses come first for each watcher, and may interleave
	// with the catch-up of the watchers created before.
	froms := make([]int64, len(specs))
	logs := make([]eventLog, len(specs))
	progress, err := drainUntilProgress(t, ctx, s, func(r Response) {
		if r.Kind == KindCreated {
			if froms[r.WatchID] = specs[r.WatchID].StartRev; froms[r.WatchID] == 0 {
				froms[r.WatchID] = r.Revision + 1
			}
			return
		}
		if froms[r.WatchID] == 0 {
			t.Fatalf("events for %d before its created response", r.WatchID)
		}
		logs[r.WatchID].add(t, r)
	})
	if err != nil || progress != end {
		t.Fatalf("progress %d, %v; want %d", progress, err, end)
	}
	for i, spec := range specs {
		evs, _, err := store.Changes(froms[i], spec.Key, spec.End, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		flt := filter{rng: mustRange(t, spec), noPut: spec.NoPut, noDelete: spec.NoDelete}
		want := evString(flt.selectEvents(evs), true)
		if got := evString(logs[i].events, true); got != want {
			t.Errorf("watcher %d %+v:\n got %s\nwant %s", i, spec, got, want)
		}
		if len(logs[i].events) == 0 {
			t.Errorf("watcher %d saw nothing: the test is too weak", i)
		}
	}

	// Compaction.
	if _, err := store.Compact(300, index+1); err != nil {
		t.Fatal(err)
	}
	index++
	id, _ := mustWatch(t, s, WatchSpec{Key: []byte("a"), StartRev: 100})
	r := mustRecv(t, s)
	if r.Kind != KindCompacted || r.WatchID != id || r.CompactRevision != 300 {
		t.Fatalf("response %+v, want compacted at 300", r)
	}
}

func mustRange(t testing.TB, spec WatchSpec) keyRange {
	t.Helper()
	r, err := newKeyRange(spec.Key, spec.End)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
