package watch

import (
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Hub fans the store's committed revisions out to watchers. Notify runs on
// the apply goroutine and never waits for a client: a watcher whose queue
// is full becomes unsynced and a background goroutine catches it up from
// the recent history or the Source. All methods are safe for concurrent
// use.
type Hub struct {
	src     Source
	opts    Options
	log     *slog.Logger
	metrics *metrics

	// kickc wakes the catch-up goroutine (capacity 1: kicks coalesce).
	kickc chan struct{}
	// stopc is closed by Close; syncerDone when the goroutine returned.
	stopc      chan struct{}
	syncerDone chan struct{}
	closeOnce  sync.Once

	// mu guards the groups, every watcher's state, nextRev and pos, and
	// every stream's watcher table. Nothing under it blocks or calls the
	// Source. Lock order: a Source's own locks, then mu.
	mu struct {
		sync.Mutex
		closed bool
		// notifiedRev is the last revision passed to Notify (or the
		// Source's revision at NewHub or Resync).
		notifiedRev int64
		// synced is the synced group.
		synced syncedGroup
		// unsynced is the unsynced group.
		unsynced map[*watcher]struct{}
		// watchers counts watchers in any state but removed.
		watchers int
		streams  map[*Stream]struct{}
		hist     history
		// fan, candidates and stalled are Notify's scratch space, reused.
		fan        fanout
		candidates []*watcher
		stalled    []*watcher
	}
}

// NewHub returns a Hub over src, whose current revision is taken as
// already notified, and starts its catch-up goroutine. Close it.
func NewHub(src Source, opts Options) (*Hub, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("%w: nil Source", ErrInvalidOptions)
	}
	h := &Hub{
		src:        src,
		opts:       opts,
		log:        opts.Logger,
		kickc:      make(chan struct{}, 1),
		stopc:      make(chan struct{}),
		syncerDone: make(chan struct{}),
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.log = h.log.With("component", "watch")
	h.mu.notifiedRev = src.Rev()
	h.mu.synced = newSyncedGroup()
	h.mu.unsynced = make(map[*watcher]struct{})
	h.mu.streams = make(map[*Stream]struct{})
	h.mu.hist = history{maxEvents: opts.HistoryEvents, maxBytes: opts.HistoryBytes}
	h.mu.fan.index = make(map[*watcher]int)
	var err error
	if h.metrics, err = newMetrics(opts.Registerer, h.gauges()); err != nil {
		return nil, err
	}
	go h.runSyncer()
	return h, nil
}

// Close stops the catch-up goroutine and ends every stream: their Recv
// returns ErrClosed. Notify does nothing afterwards.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.mu.closed = true
		h.mu.Unlock()
		close(h.stopc)
		<-h.syncerDone
		h.metrics.unregister()
	})
}

// Notify delivers the events of revision rev (in sub-revision order, as
// the store's commit hook hands them) to the watchers. Call it once per
// revision that changed something, in revision order, on one goroutine.
// It never blocks on a client. The events are shared, not copied: the
// caller must not modify them afterwards.
//
// A revision at or below the last notified one is ignored (logged); a
// revision past the next one means notifications were skipped, and every
// watcher then catches up from the Source.
func (h *Hub) Notify(rev int64, events []*mvccpb.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return
	}
	last := h.mu.notifiedRev
	switch {
	case rev <= last:
		h.log.Error("revision notified twice or out of order; ignored", "revision", rev, "last", last)
		return
	case rev > last+1:
		h.log.Warn("revisions were not notified; watchers catch up from the store", "from", last+1, "to", rev-1)
		h.demoteAllLocked()
		h.mu.hist.reset()
		h.mu.notifiedRev = rev
		h.mu.hist.add(rev, events)
		return
	}
	h.mu.notifiedRev = rev
	h.mu.hist.add(rev, events)
	h.fanOutLocked(rev, events)
}

// Resync tells the Hub that the Source's state was replaced (a snapshot
// was restored): every synced watcher catches up from the Source, and
// revisions up to the Source's current one count as notified. Call it on
// the goroutine that calls Notify.
func (h *Hub) Resync() {
	rev := h.src.Rev()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.demoteAllLocked()
	h.mu.hist.reset()
	h.mu.notifiedRev = max(h.mu.notifiedRev, rev)
}

// NewStream opens a stream: an ordered sequence of responses for one
// client connection (one gRPC Watch call) and its watchers. Close it.
func (h *Hub) NewStream() (*Stream, error) {
	s := &Stream{
		hub:      h,
		out:      make(chan Response, h.opts.StreamQueueLength),
		done:     make(chan struct{}),
		watchers: make(map[int64]*watcher),
		ticker:   newProgressTicker(h.opts.ProgressNotifyInterval),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		s.ticker.Stop()
		return nil, ErrClosed
	}
	h.mu.streams[s] = struct{}{}
	return s, nil
}

// kick wakes the catch-up goroutine.
func (h *Hub) kick() {
	select {
	case h.kickc <- struct{}{}:
	default:
	}
}

// fanOutLocked queues revision rev for every synced watcher that wants
// some of its events; a watcher whose queue is full becomes unsynced.
func (h *Hub) fanOutLocked(rev int64, events []*mvccpb.Event) {
	cands := h.mu.candidates
	if len(events) == 1 {
		// The common case, without the grouping map.
		ev := events[0]
		cands = h.mu.synced.appendCandidates(cands[:0], ev.Kv.Key)
		for _, w := range cands {
			if w.filter.accepts(ev) {
				h.deliverLocked(w, rev, events)
			}
		}
	} else {
		f := &h.mu.fan
		for i, ev := range events {
			cands = h.mu.synced.appendCandidates(cands[:0], ev.Kv.Key)
			for _, w := range cands {
				if w.filter.accepts(ev) {
					f.add(w, i, events)
				}
			}
		}
		for i := range f.groups {
			g := &f.groups[i]
			h.deliverLocked(g.w, rev, g.selected(events))
		}
		f.reset()
	}
	clear(cands)
	h.mu.candidates = cands[:0]
	// Demote after the loops: demoting edits the group they read.
	for _, w := range h.mu.stalled {
		h.demoteLocked(w, rev)
	}
	clear(h.mu.stalled)
	h.mu.stalled = h.mu.stalled[:0]
}

// deliverLocked queues the events of rev for the synced watcher w, or
// marks it stalled when its queue is full.
func (h *Hub) deliverLocked(w *watcher, rev int64, evs []*mvccpb.Event) {
	if rev < w.nextRev {
		return
	}
	r := Response{Kind: KindEvents, WatchID: w.id, Revision: rev, Events: evs, PrevKV: w.spec.PrevKV, Fragment: w.spec.Fragment}
	if !w.stream.tryPush(w, r) {
		h.mu.stalled = append(h.mu.stalled, w)
		return
	}
	w.nextRev = rev + 1
}

// fanout groups a multi-event revision's events by watcher, keeping
// sub-revision order.
type fanout struct {
	index  map[*watcher]int
	groups []fanGroup
}

// fanGroup is one watcher's share of a revision: events[:n] while prefix
// holds (no copy needed), else evs.
type fanGroup struct {
	w      *watcher
	n      int
	prefix bool
	evs    []*mvccpb.Event
}

func (f *fanout) add(w *watcher, i int, events []*mvccpb.Event) {
	gi, ok := f.index[w]
	if !ok {
		gi = len(f.groups)
		f.index[w] = gi
		f.groups = append(f.groups, fanGroup{w: w, prefix: true})
	}
	g := &f.groups[gi]
	if g.prefix && g.n == i {
		g.n++
		return
	}
	if g.prefix {
		g.evs = append(make([]*mvccpb.Event, 0, g.n+1), events[:g.n]...)
		g.prefix = false
	}
	g.evs = append(g.evs, events[i])
	g.n++
}

func (g *fanGroup) selected(events []*mvccpb.Event) []*mvccpb.Event {
	if g.prefix {
		return events[:g.n:g.n]
	}
	return g.evs
}

func (f *fanout) reset() {
	clear(f.index)
	clear(f.groups)
	f.groups = f.groups[:0]
}
