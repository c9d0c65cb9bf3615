package watch

import (
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// maxJoinGapRevisions bounds the revisions a watcher joining the synced
// group is fed from the history under the Hub's lock (those notified
// while its catch-up read ran outside the lock). A larger gap is left to
// the next round, which reads the history outside the lock.
const maxJoinGapRevisions = 64

// runSyncer is the catch-up goroutine: it serves unsynced watchers when
// woken (a watcher fell behind, a queue drained) or every
// SyncRetryInterval.
func (h *Hub) runSyncer() {
	defer close(h.syncerDone)
	t := time.NewTicker(h.opts.SyncRetryInterval)
	defer t.Stop()
	for {
		for h.syncRound() {
			select {
			case <-h.stopc:
				return
			default:
			}
		}
		select {
		case <-h.kickc:
		case <-t.C:
		case <-h.stopc:
			return
		}
	}
}

// pick is an unsynced watcher chosen for a round, with its nextRev then.
type pick struct {
	w    *watcher
	from int64
}

// syncRound serves up to MaxWatchersPerSync unsynced watchers that have
// room in their queues with one read: from the history when it reaches
// back to the oldest revision they miss, else from the Source. Reads run
// outside the Hub's lock; delivery runs under it, checking that nothing
// changed meanwhile. It reports whether any watcher moved on.
func (h *Hub) syncRound() bool {
	h.mu.Lock()
	empty := len(h.mu.unsynced) == 0 || h.mu.closed
	h.mu.Unlock()
	if empty {
		return false
	}
	// Read before choosing: a watcher whose nextRev is below it is
	// compacted; one above it may be read.
	compactRev := h.src.CompactRev()

	h.mu.Lock()
	picks := h.chooseLocked()
	var live []pick
	for _, p := range picks {
		if p.from >= compactRev {
			live = append(live, p)
		}
	}
	var revs []revision
	var coverage int64 // every revision up to coverage is in revs
	readSource := false
	if len(live) > 0 {
		from := minFrom(live)
		if hist, ok := h.mu.hist.since(from, h.mu.notifiedRev); ok {
			revs, coverage = append([]revision(nil), hist...), h.mu.notifiedRev
			h.metrics.catchupHistory.Inc()
		} else {
			readSource = true
		}
	}
	h.mu.Unlock()
	if len(picks) == 0 {
		return false
	}

	readOK := true
	if readSource {
		var err error
		revs, coverage, err = h.readSource(live)
		if err != nil {
			// A compaction since CompactRev was read is noticed next
			// round; anything else is retried after SyncRetryInterval.
			h.metrics.catchupErrors.Inc()
			h.log.Warn("catch-up read failed", "from", minFrom(live), "err", err)
			readOK = false
		}
	}
	// Filtering and batching run here, outside the lock (a watcher's
	// filter never changes); under it only ready responses are queued.
	plans := make([][]batch, len(picks))
	for i, p := range picks {
		if readOK && p.from >= compactRev {
			plans[i] = h.planBatches(p.w, revs, p.from, coverage)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	progressed := false
	for i, p := range picks {
		w := p.w
		if w.state != stateUnsynced || w.nextRev != p.from {
			continue // canceled, or moved on, while the lock was released
		}
		if p.from < compactRev {
			progressed = h.compactLocked(w, compactRev) || progressed
			continue
		}
		if !readOK {
			continue
		}
		h.queueBatchesLocked(w, plans[i], coverage)
		h.tryJoinLocked(w)
		progressed = progressed || w.nextRev != p.from || w.state != stateUnsynced
	}
	return progressed
}

// chooseLocked picks unsynced watchers whose queues have room.
func (h *Hub) chooseLocked() []pick {
	var picks []pick
	for w := range h.mu.unsynced {
		if len(picks) == h.opts.MaxWatchersPerSync {
			break
		}
		if int(w.queued.Load()) < h.opts.WatcherQueueLength && len(w.stream.out) < cap(w.stream.out) {
			picks = append(picks, pick{w: w, from: w.nextRev})
		}
	}
	return picks
}

func minFrom(picks []pick) int64 {
	from := picks[0].from
	for _, p := range picks[1:] {
		from = min(from, p.from)
	}
	return from
}

// readSource reads one batch of history for the picks from the Source,
// over the smallest range holding all of theirs.
func (h *Hub) readSource(picks []pick) ([]revision, int64, error) {
	ranges := make([]keyRange, len(picks))
	for i, p := range picks {
		ranges[i] = p.w.filter.rng
	}
	key, end := boundingRange(ranges)
	from := minFrom(picks)
	evs, next, err := h.src.Changes(from, key, end, h.opts.CatchupBatchEvents)
	h.metrics.catchupSource.Inc()
	if err != nil {
		return nil, 0, err
	}
	return groupByRevision(evs), next - 1, nil
}

// groupByRevision splits events in revision order into revisions.
func groupByRevision(evs []*mvccpb.Event) []revision {
	var revs []revision
	for i := 0; i < len(evs); {
		j, rev := i+1, evs[i].Kv.ModRevision
		for j < len(evs) && evs[j].Kv.ModRevision == rev {
			j++
		}
		revs = append(revs, revision{rev: rev, events: evs[i:j:j]})
		i = j
	}
	return revs
}

// batch is one planned catch-up response: whole revisions, the last of
// them last.
type batch struct {
	events []*mvccpb.Event
	last   int64
}

// planBatches cuts what w wants of revs (which hold every revision from
// before from up to coverage that may concern it) into responses of whole
// revisions within CatchupBatchEvents and CatchupBatchBytes (a larger
// revision goes alone). It only reads w's immutable filter.
func (h *Hub) planBatches(w *watcher, revs []revision, from, coverage int64) []batch {
	var out []batch
	var cur batch
	curBytes := 0
	owned := false // cur.events is shared (one revision's events) until appended to
	for _, r := range revs {
		if r.rev < from || r.rev > coverage {
			continue
		}
		evs := w.filter.selectEvents(r.events)
		if len(evs) == 0 {
			continue
		}
		size := revisionBytes(evs)
		if len(cur.events) > 0 && (len(cur.events)+len(evs) > h.opts.CatchupBatchEvents || curBytes+size > h.opts.CatchupBatchBytes) {
			out = append(out, cur)
			cur, curBytes, owned = batch{}, 0, false
		}
		curBytes += size
		switch {
		case cur.events == nil:
			cur.events = evs
		case !owned:
			cur.events = append(append(make([]*mvccpb.Event, 0, 2*(len(cur.events)+len(evs))), cur.events...), evs...)
			owned = true
		default:
			cur.events = append(cur.events, evs...)
		}
		cur.last = r.rev
	}
	if len(cur.events) > 0 {
		out = append(out, cur)
	}
	return out
}

// queueBatchesLocked queues the planned responses for the unsynced
// watcher w in order, and advances w.nextRev past what was queued: to
// coverage+1 when all of it was. The last response's Revision is coverage:
// after it the watcher has seen everything up to there.
func (h *Hub) queueBatchesLocked(w *watcher, batches []batch, coverage int64) {
	if coverage < w.nextRev {
		return
	}
	for i, b := range batches {
		rev := b.last
		if i == len(batches)-1 {
			rev = coverage
		}
		r := Response{Kind: KindEvents, WatchID: w.id, Revision: rev, Events: b.events, PrevKV: w.spec.PrevKV, Fragment: w.spec.Fragment}
		if !w.stream.tryPush(w, r) {
			return
		}
		w.nextRev = b.last + 1
	}
	w.nextRev = coverage + 1
}

// tryJoinLocked moves w to the synced group if it has everything up to
// the last notified revision queued, first feeding it from the history
// the few revisions notified while its read ran.
func (h *Hub) tryJoinLocked(w *watcher) {
	last := h.mu.notifiedRev
	if w.nextRev <= last && last-w.nextRev < maxJoinGapRevisions {
		if gap, ok := h.mu.hist.since(w.nextRev, last); ok {
			h.queueBatchesLocked(w, h.planBatches(w, gap, w.nextRev, last), last)
		}
	}
	if w.nextRev > last {
		h.joinLocked(w)
	}
}

// compactLocked queues the compaction notice for w and removes it; false
// if its queue is full (retried next round).
func (h *Hub) compactLocked(w *watcher, compactRev int64) bool {
	r := Response{Kind: KindCompacted, WatchID: w.id, Revision: h.mu.notifiedRev, CompactRevision: compactRev}
	if !w.stream.tryPush(w, r) {
		return false
	}
	h.removeLocked(w, false)
	h.metrics.compactedWatchers.Inc()
	return true
}
