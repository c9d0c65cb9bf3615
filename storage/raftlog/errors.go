package raftlog

import "errors"

var (
	// ErrInvalidOptions is wrapped by Options.Validate errors.
	ErrInvalidOptions = errors.New("raftlog: invalid options")
	// ErrCorrupt is wrapped by errors about stored state that breaks the
	// log's invariants (a gap, a record that does not decode, a commit
	// index beyond the log). Open refuses such a log.
	ErrCorrupt = errors.New("raftlog: corrupt raft log")
	// ErrNotEmpty is returned by Bootstrap for a storage that holds state.
	ErrNotEmpty = errors.New("raftlog: storage is not empty")
	// ErrBadUpdate is wrapped by errors for a Save that would break the
	// log's invariants: entries that are not contiguous, leave a gap after
	// the last index, or a commit index beyond the last index. Nothing is
	// written.
	ErrBadUpdate = errors.New("raftlog: update does not fit the log")
)
