package watch

import "errors"

// Errors a watch create or cancel request can fail with. The first three
// carry etcd's exact text, because clients see it as CancelReason.
var (
	// ErrWatcherNotExist means a cancel named a watch ID the stream does
	// not have (never created, canceled, or compacted away).
	ErrWatcherNotExist = errors.New("mvcc: watcher does not exist")
	// ErrEmptyWatcherRange means the range end is not above the key.
	ErrEmptyWatcherRange = errors.New("mvcc: watcher range is empty")
	// ErrWatcherDuplicateID means the client chose a watch ID the stream
	// already uses.
	ErrWatcherDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
	// ErrCompactedStart is etcd's reply to a negative start revision
	// (rpctypes.ErrCompacted's text).
	ErrCompactedStart = errors.New("etcdserver: mvcc: required revision has been compacted")
	// ErrNegativeWatchID means the client chose a negative watch ID; -1
	// is the protocol's "no watcher", so etcd's behavior (accepting it) would
	// confuse every client.
	ErrNegativeWatchID = errors.New("watch: watch ID must not be negative")
	// ErrTooManyWatchers means the stream already has
	// Options.MaxWatchersPerStream watchers.
	ErrTooManyWatchers = errors.New("watch: too many watchers on this stream")
)

// Errors of the Hub itself.
var (
	// ErrClosed means the Hub was closed.
	ErrClosed = errors.New("watch: hub closed")
	// ErrStreamClosed means the Stream was closed.
	ErrStreamClosed = errors.New("watch: stream closed")
	// ErrInvalidOptions means Options.Validate or ServiceOptions.Validate
	// failed.
	ErrInvalidOptions = errors.New("watch: invalid options")
)
