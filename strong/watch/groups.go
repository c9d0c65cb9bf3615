package watch

// Moves between the synced and unsynced groups; all under Hub.mu.

// addSyncedLocked puts w in the synced group.
func (h *Hub) addSyncedLocked(w *watcher) {
	w.state = stateSynced
	h.mu.synced.add(w)
}

// addUnsyncedLocked puts w (in no group) in the unsynced group, missing
// revisions from nextRev on, and wakes the catch-up goroutine.
func (h *Hub) addUnsyncedLocked(w *watcher, nextRev int64) {
	w.state, w.nextRev = stateUnsynced, nextRev
	h.mu.unsynced[w] = struct{}{}
	w.stream.unsynced.Add(1)
	h.kick()
}

// demoteLocked moves the synced watcher w, which could not take revision
// rev, to the unsynced group.
func (h *Hub) demoteLocked(w *watcher, rev int64) {
	h.mu.synced.remove(w)
	h.addUnsyncedLocked(w, rev)
	h.metrics.slowWatchers.Inc()
}

// demoteAllLocked moves every synced watcher to the unsynced group, to
// catch up from the Source past the last notified revision.
func (h *Hub) demoteAllLocked() {
	next := h.mu.notifiedRev + 1
	for _, w := range h.mu.synced.all(nil) {
		h.addUnsyncedLocked(w, max(w.nextRev, next))
	}
	h.mu.synced = newSyncedGroup()
}

// joinLocked moves the unsynced watcher w, which has everything up to the
// last notified revision queued, to the synced group.
func (h *Hub) joinLocked(w *watcher) {
	delete(h.mu.unsynced, w)
	w.stream.unsynced.Add(-1)
	h.addSyncedLocked(w)
	w.stream.flushProgressLocked()
}

// removeLocked takes w out of the Hub and its stream's table. dropQueued
// drops its queued events (a cancel) rather than sending them (a
// compaction, whose notice follows them).
func (h *Hub) removeLocked(w *watcher, dropQueued bool) {
	switch w.state {
	case stateSynced:
		h.mu.synced.remove(w)
	case stateUnsynced:
		delete(h.mu.unsynced, w)
		w.stream.unsynced.Add(-1)
	case stateRemoved:
		return
	}
	if dropQueued {
		w.dropQueued.Store(true)
	}
	w.state = stateRemoved
	h.mu.watchers--
	if w.stream.watchers[w.id] == w {
		delete(w.stream.watchers, w.id)
	}
}
