package mvcc

import "errors"

// Errors with etcd's exact text; the API layer maps them to rpctypes'
// ErrGRPCCompacted and ErrGRPCFutureRev.
var (
	// ErrCompacted means the requested revision is older than the last
	// compaction.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev means the requested revision has not been written yet.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

// Errors of this package.
var (
	// ErrEmptyKey means a write named no key.
	ErrEmptyKey = errors.New("mvcc: key is empty")
	// ErrKeyTooLarge means a key is longer than Options.MaxKeySize.
	ErrKeyTooLarge = errors.New("mvcc: key is too large")
	// ErrValueTooLarge means a value is longer than Options.MaxValueSize.
	ErrValueTooLarge = errors.New("mvcc: value is too large")
	// ErrInvalidLimit means a bounded read was asked for zero or fewer items.
	ErrInvalidLimit = errors.New("mvcc: limit must be positive")
	// ErrStaleIndex means End or Compact was given a consistent index that
	// is not above the last one applied: the entry was applied already.
	ErrStaleIndex = errors.New("mvcc: consistent index is not above the applied index")
	// ErrCorrupt means stored data failed to decode or broke an invariant.
	ErrCorrupt = errors.New("mvcc: corrupt data")
	// ErrSnapshotCorrupt means a snapshot stream failed to decode or its
	// checksum did not match; Restore leaves the store as it was.
	ErrSnapshotCorrupt = errors.New("mvcc: corrupt snapshot stream")
	// ErrInvalidOptions means Options.Validate failed.
	ErrInvalidOptions = errors.New("mvcc: invalid options")
	// ErrClosed means the Store was closed.
	ErrClosed = errors.New("mvcc: store closed")
)
