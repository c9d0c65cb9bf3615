package watch

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Hub. Start from DefaultOptions.
type Options struct {
	// StreamQueueLength bounds the responses queued for one stream (one
	// gRPC Watch call) and not yet sent. A watcher whose response does not
	// fit falls behind (becomes unsynced) instead of blocking Notify.
	StreamQueueLength int
	// WatcherQueueLength bounds the event responses one watcher may have
	// in its stream's queue, so that one busy watcher cannot push every
	// other watcher of its stream behind. At most StreamQueueLength.
	WatcherQueueLength int
	// MaxWatchersPerStream bounds the watchers of one stream; a create
	// beyond it fails with ErrTooManyWatchers.
	MaxWatchersPerStream int
	// HistoryEvents and HistoryBytes bound the recent revisions the Hub
	// keeps in memory (events are shared with the store, so this is a
	// retention bound), from which watchers that fell a little behind are
	// caught up without reading the Source. Bytes count keys and values,
	// current and previous.
	HistoryEvents int
	HistoryBytes  int
	// CatchupBatchEvents is the limit passed to Source.Changes and the
	// most events (in whole revisions) one catch-up response carries.
	CatchupBatchEvents int
	// CatchupBatchBytes bounds the keys and values (current and previous)
	// of one catch-up response, in whole revisions: a revision larger than
	// it goes alone. Live responses hold one revision each.
	CatchupBatchBytes int
	// MaxWatchersPerSync bounds the unsynced watchers one catch-up round
	// serves with one read.
	MaxWatchersPerSync int
	// SyncRetryInterval is how often the catch-up goroutine looks at the
	// unsynced watchers when nothing woke it (after a Source error, say).
	SyncRetryInterval time.Duration
	// ProgressNotifyInterval is the period of the progress notifications
	// sent to watchers created with progress_notify (plus up to 10%
	// jitter, as etcd).
	ProgressNotifyInterval time.Duration
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Bounds checked by Validate.
const (
	// MaxQueueLength bounds StreamQueueLength: each slot is a small struct
	// allocated with the stream.
	MaxQueueLength = 1 << 16
	// MaxWatchersPerStreamLimit bounds MaxWatchersPerStream.
	MaxWatchersPerStreamLimit = 1 << 20
	// MaxHistoryEvents bounds HistoryEvents.
	MaxHistoryEvents = 1 << 22
	// MaxHistoryBytes bounds HistoryBytes.
	MaxHistoryBytes = 1 << 34
	// MaxCatchupBatchEvents bounds CatchupBatchEvents.
	MaxCatchupBatchEvents = 1 << 20
	// MaxCatchupBatchBytes bounds CatchupBatchBytes.
	MaxCatchupBatchBytes = 1 << 30
	// MinInterval bounds both intervals from below.
	MinInterval = time.Millisecond
)

// DefaultOptions returns the defaults:
//   - StreamQueueLength 128, etcd's per-stream channel length;
//   - WatcherQueueLength 64: one watcher may fill half its stream's queue;
//   - MaxWatchersPerStream 10,000: far above what one client opens (etcd
//     has no bound), low enough that one stream cannot exhaust memory;
//   - HistoryEvents 4096 and HistoryBytes 16 MiB: a few seconds of a
//     busy store, enough for watchers that lag by one burst;
//   - CatchupBatchEvents 1000: about a millisecond of reading, and the
//     size of etcd's catch-up batches (1000 revisions);
//   - CatchupBatchBytes 1 MiB: well under gRPC's default 4 MiB receive
//     limit, which clients other than clientv3 keep;
//   - MaxWatchersPerSync 512, etcd's;
//   - SyncRetryInterval 100 ms, etcd's sync loop period;
//   - ProgressNotifyInterval 10 minutes, etcd's default.
func DefaultOptions() Options {
	return Options{
		StreamQueueLength:      128,
		WatcherQueueLength:     64,
		MaxWatchersPerStream:   10000,
		HistoryEvents:          4096,
		HistoryBytes:           16 << 20,
		CatchupBatchEvents:     1000,
		CatchupBatchBytes:      1 << 20,
		MaxWatchersPerSync:     512,
		SyncRetryInterval:      100 * time.Millisecond,
		ProgressNotifyInterval: 10 * time.Minute,
	}
}

// Validate checks every field and the rules between them.
func (o Options) Validate() error {
	in := func(v, lo, hi int) bool { return v >= lo && v <= hi }
	switch {
	case !in(o.StreamQueueLength, 1, MaxQueueLength):
		return fmt.Errorf("%w: StreamQueueLength %d outside [1, %d]", ErrInvalidOptions, o.StreamQueueLength, MaxQueueLength)
	case !in(o.WatcherQueueLength, 1, o.StreamQueueLength):
		return fmt.Errorf("%w: WatcherQueueLength %d outside [1, StreamQueueLength %d]", ErrInvalidOptions, o.WatcherQueueLength, o.StreamQueueLength)
	case !in(o.MaxWatchersPerStream, 1, MaxWatchersPerStreamLimit):
		return fmt.Errorf("%w: MaxWatchersPerStream %d outside [1, %d]", ErrInvalidOptions, o.MaxWatchersPerStream, MaxWatchersPerStreamLimit)
	case !in(o.HistoryEvents, 1, MaxHistoryEvents):
		return fmt.Errorf("%w: HistoryEvents %d outside [1, %d]", ErrInvalidOptions, o.HistoryEvents, MaxHistoryEvents)
	case !in(o.HistoryBytes, 1, MaxHistoryBytes):
		return fmt.Errorf("%w: HistoryBytes %d outside [1, %d]", ErrInvalidOptions, o.HistoryBytes, MaxHistoryBytes)
	case !in(o.CatchupBatchEvents, 1, MaxCatchupBatchEvents):
		return fmt.Errorf("%w: CatchupBatchEvents %d outside [1, %d]", ErrInvalidOptions, o.CatchupBatchEvents, MaxCatchupBatchEvents)
	case !in(o.CatchupBatchBytes, 1, MaxCatchupBatchBytes):
		return fmt.Errorf("%w: CatchupBatchBytes %d outside [1, %d]", ErrInvalidOptions, o.CatchupBatchBytes, MaxCatchupBatchBytes)
	case !in(o.MaxWatchersPerSync, 1, MaxWatchersPerStreamLimit):
		return fmt.Errorf("%w: MaxWatchersPerSync %d outside [1, %d]", ErrInvalidOptions, o.MaxWatchersPerSync, MaxWatchersPerStreamLimit)
	case o.SyncRetryInterval < MinInterval:
		return fmt.Errorf("%w: SyncRetryInterval %v below %v", ErrInvalidOptions, o.SyncRetryInterval, MinInterval)
	case o.ProgressNotifyInterval < MinInterval:
		return fmt.Errorf("%w: ProgressNotifyInterval %v below %v", ErrInvalidOptions, o.ProgressNotifyInterval, MinInterval)
	}
	return nil
}

// ServiceOptions configures the gRPC Watch service. Start from
// DefaultServiceOptions.
type ServiceOptions struct {
	// MaxResponseBytes is the size above which a response to a watcher
	// created with fragment=true is split into fragments (a fragment
	// holds at least one event, so one huge event still goes whole).
	MaxResponseBytes int
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Bounds of ServiceOptions.MaxResponseBytes.
const (
	MinResponseBytes = 1 << 10
	MaxResponseBytes = 1 << 30
)

// DefaultServiceOptions returns the defaults: MaxResponseBytes 2 MiB,
// etcd's default request limit (1.5 MiB) plus its gRPC overhead allowance
// (512 KiB), the threshold etcd fragments at.
func DefaultServiceOptions() ServiceOptions {
	return ServiceOptions{MaxResponseBytes: 3<<19 + 512<<10}
}

// Validate checks every field.
func (o ServiceOptions) Validate() error {
	if o.MaxResponseBytes < MinResponseBytes || o.MaxResponseBytes > MaxResponseBytes {
		return fmt.Errorf("%w: MaxResponseBytes %d outside [%d, %d]", ErrInvalidOptions, o.MaxResponseBytes, MinResponseBytes, MaxResponseBytes)
	}
	return nil
}
