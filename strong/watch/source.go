package watch

import "go.etcd.io/etcd/api/v3/mvccpb"

// Source is the MVCC history the Hub reads to catch watchers up. The
// node's *mvcc.Store implements it as is. All methods must be safe for
// concurrent use; the Hub never calls them while holding its own lock, so
// a Source may call Hub.Notify while holding its locks.
type Source interface {
	// Rev is the current revision: that of the last committed write. It
	// is updated before the write's Notify call, never after it.
	Rev() int64
	// CompactRev is the revision of the last compaction (-1: none).
	// History below it is gone.
	CompactRev() int64
	// Changes returns the events of revisions fromRev and later whose keys
	// fall in [key, end) (end empty: the one key; end "\x00": every key >=
	// key), in revision and sub-revision order, exactly as the commit hook
	// handed them to Notify: PUT events carry the new KeyValue, DELETE
	// events a tombstone KeyValue (Key and ModRevision), and both carry
	// PrevKv when the key existed before the change. It stops at the end
	// of the first revision at which at least limit events were collected
	// (a revision is never split) and returns next, the revision to
	// continue from: every revision in [fromRev, next) has been scanned,
	// and next is Rev()+1 of the state read once caught up. It fails when
	// fromRev < CompactRev(). The caller must treat the events as
	// read-only.
	Changes(fromRev int64, key, end []byte, limit int) (events []*mvccpb.Event, next int64, err error)
}
