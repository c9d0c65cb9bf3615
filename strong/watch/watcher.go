package watch

import "sync/atomic"

// watcherState is where a watcher is in its life.
type watcherState int

const (
	// stateCreating: its ID is taken and its created response is being
	// queued; it is in no group yet.
	stateCreating watcherState = iota + 1
	// stateSynced: Notify delivers each new revision to it.
	stateSynced
	// stateUnsynced: it misses revisions from nextRev on; the catch-up
	// goroutine feeds it from the history or the Source.
	stateUnsynced
	// stateRemoved: canceled, compacted, or its stream closed.
	stateRemoved
)

// WatchSpec is a create request, as etcd's WatchCreateRequest.
type WatchSpec struct {
	// ID is the watch ID the client chose, or AutoWatchID.
	ID int64
	// Key and End are the watched range, with etcd's conventions: End
	// empty is the single Key, "\x00" every key >= Key; an empty Key is
	// "\x00".
	Key, End []byte
	// StartRev is the first revision to report; 0 means after the
	// current one.
	StartRev int64
	// NoPut and NoDelete filter out PUT and DELETE events.
	NoPut, NoDelete bool
	// PrevKV keeps the events' previous KeyValues.
	PrevKV bool
	// Fragment allows large event responses to be split.
	Fragment bool
	// ProgressNotify asks for periodic progress notifications when idle.
	ProgressNotify bool
}

// watcher is one watch of one stream.
type watcher struct {
	id     int64
	stream *Stream
	filter filter
	spec   WatchSpec // PrevKV, Fragment, ProgressNotify, StartRev

	// queued counts this watcher's responses in its stream's queue that
	// hold quota (bounded by Options.WatcherQueueLength).
	queued atomic.Int32
	// dropQueued is set when the client canceled the watcher or closed
	// the stream: its queued events are then dropped, not sent.
	dropQueued atomic.Bool
	// sentSinceTick is touched only by the stream's Recv goroutine: it
	// elides one periodic progress notification after events were sent.
	sentSinceTick bool

	// Under Hub.mu:
	state watcherState
	// nextRev is the first revision not yet queued for the watcher: an
	// unsynced watcher is missing [nextRev, ...]; a synced one ignores
	// revisions below it (a future start revision, or revisions a
	// catch-up read already delivered).
	nextRev int64
	// pos is the watcher's index in its synced group's slice.
	pos int
}
