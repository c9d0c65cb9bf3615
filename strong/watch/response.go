package watch

import (
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// InvalidWatchID is the watch ID of responses that concern no single
// watcher: a failed create, and a progress notification for the whole
// stream (clientv3.InvalidWatchID).
const InvalidWatchID int64 = -1

// AutoWatchID in a create request asks the stream to choose the ID
// (clientv3.AutoWatchID).
const AutoWatchID int64 = 0

// ResponseKind says what a Response reports.
type ResponseKind int

const (
	// KindCreated answers a create: WatchID is the new watcher's ID and
	// Revision the revision it watches after (for a start revision of 0).
	KindCreated ResponseKind = iota + 1
	// KindCreateFailed answers a create that failed: WatchID is
	// InvalidWatchID and CancelReason the error.
	KindCreateFailed
	// KindEvents carries Events, in revision order, never a revision split
	// across responses; after it the watcher has seen every change of its
	// range up to Revision.
	KindEvents
	// KindProgress says the watcher WatchID (every watcher of the stream
	// when InvalidWatchID) has seen every change up to Revision.
	KindProgress
	// KindCanceled answers a cancel.
	KindCanceled
	// KindCompacted cancels a watcher whose next revision was compacted
	// away: CompactRevision is the compaction revision.
	KindCompacted
)

// String implements fmt.Stringer.
func (k ResponseKind) String() string {
	switch k {
	case KindCreated:
		return "created"
	case KindCreateFailed:
		return "create-failed"
	case KindEvents:
		return "events"
	case KindProgress:
		return "progress"
	case KindCanceled:
		return "canceled"
	case KindCompacted:
		return "compacted"
	}
	return fmt.Sprintf("ResponseKind(%d)", int(k))
}

// Response is one message for a stream's client, in the order the client
// must see it. Events are shared: read-only.
type Response struct {
	Kind            ResponseKind
	WatchID         int64
	Revision        int64
	Events          []*mvccpb.Event
	CompactRevision int64
	CancelReason    string
	// PrevKV and Fragment repeat the watcher's create options for
	// KindEvents: whether to keep the events' PrevKv, and whether the
	// response may be split.
	PrevKV   bool
	Fragment bool

	// w is the watcher whose queue quota this response holds (KindEvents
	// and KindCompacted), released when Recv takes it.
	w *watcher
}
