package raft

import (
	"fmt"

	"github.com/cairndb/cairn/raft/raftpb"
)

// unstable holds the entries and snapshot that Raft has accepted but the
// application has not yet acknowledged as persisted.
//
// Invariants:
//   - every log index below offset is in Storage (and matches this log);
//   - if snapshot != nil, offset == snapshot.Metadata.Index+1;
//   - offset <= offsetInProgress <= offset+len(entries): entries below
//     offsetInProgress were handed to the application in a Ready and await
//     acknowledgement.
type unstable struct {
	snapshot           *raftpb.Snapshot
	snapshotInProgress bool
	entries            []raftpb.Entry
	offset             uint64
	offsetInProgress   uint64
}

// maybeFirstIndex returns the first index if there is an unstable snapshot.
func (u *unstable) maybeFirstIndex() (uint64, bool) {
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index + 1, true
	}
	return 0, false
}

// maybeLastIndex returns the last index if there are unstable entries or a
// snapshot.
func (u *unstable) maybeLastIndex() (uint64, bool) {
	if l := len(u.entries); l != 0 {
		return u.offset + uint64(l) - 1, true
	}
	if u.snapshot != nil {
		return u.snapshot.Metadata.Index, true
	}
	return 0, false
}

// maybeTerm returns the term of entry i if the unstable part knows it.
func (u *unstable) maybeTerm(i uint64) (uint64, bool) {
	if i < u.offset {
		if u.snapshot != nil && u.snapshot.Metadata.Index == i {
			return u.snapshot.Metadata.Term, true
		}
		return 0, false
	}
	last, ok := u.maybeLastIndex()
	if !ok || i > last {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// nextEntries returns the entries not yet handed to the application.
func (u *unstable) nextEntries() []raftpb.Entry {
	inProgress := int(u.offsetInProgress - u.offset)
	if len(u.entries) == inProgress {
		return nil
	}
	return u.entries[inProgress:]
}

// nextSnapshot returns the snapshot if not yet handed to the application.
func (u *unstable) nextSnapshot() *raftpb.Snapshot {
	if u.snapshot == nil || u.snapshotInProgress {
		return nil
	}
	return u.snapshot
}

// acceptInProgress marks everything current as handed out.
func (u *unstable) acceptInProgress() {
	if len(u.entries) > 0 {
		u.offsetInProgress = u.entries[len(u.entries)-1].Index + 1
	}
	if u.snapshot != nil {
		u.snapshotInProgress = true
	}
}

// stableTo drops entries up to index i once they are persisted, but only if
// the entry at i still has term t: if the log was truncated and rewritten
// since the write began, the acknowledgement is for entries that no longer
// exist here and is ignored.
func (u *unstable) stableTo(i, t uint64) {
	gt, ok := u.maybeTerm(i)
	if !ok || gt != t || i < u.offset {
		return
	}
	num := int(i + 1 - u.offset)
	u.entries = u.entries[num:]
	u.offset = i + 1
	u.offsetInProgress = max(u.offsetInProgress, u.offset)
	u.shrinkEntriesArray()
}

// shrinkEntriesArray releases the backing array once most of it is unused.
func (u *unstable) shrinkEntriesArray() {
	const lenMultiple = 2
	if len(u.entries) == 0 {
		u.entries = nil
	} else if len(u.entries)*lenMultiple < cap(u.entries) {
		u.entries = append([]raftpb.Entry(nil), u.entries...)
	}
}

// stableSnapTo drops the snapshot once it is persisted.
func (u *unstable) stableSnapTo(i uint64) {
	if u.snapshot != nil && u.snapshot.Metadata.Index == i {
		u.snapshot = nil
		u.snapshotInProgress = false
	}
}

// restore replaces everything with a snapshot.
func (u *unstable) restore(s raftpb.Snapshot) {
	u.offset = s.Metadata.Index + 1
	u.offsetInProgress = u.offset
	u.entries = nil
	u.snapshot = &s
	u.snapshotInProgress = false
}

// truncateAndAppend appends ents, first dropping any unstable entries at or
// after ents[0].Index (the caller has already established that they
// conflict).
func (u *unstable) truncateAndAppend(ents []raftpb.Entry) {
	from := ents[0].Index
	switch {
	case from == u.offset+uint64(len(u.entries)):
		u.entries = append(u.entries, ents...)
	case from <= u.offset:
		// Replace everything unstable; the storage suffix from `from` on is
		// shadowed and will be overwritten when these entries persist.
		u.entries = append([]raftpb.Entry(nil), ents...)
		u.offset = from
		u.offsetInProgress = u.offset
	default:
		keep := u.slice(u.offset, from)
		u.entries = append(append([]raftpb.Entry(nil), keep...), ents...)
		u.offsetInProgress = min(u.offsetInProgress, from)
	}
}

// slice returns entries [lo, hi), which must be within the unstable range.
func (u *unstable) slice(lo, hi uint64) []raftpb.Entry {
	if lo > hi || lo < u.offset || hi > u.offset+uint64(len(u.entries)) {
		panic(fmt.Sprintf("raft: unstable.slice[%d,%d) out of bound [%d,%d]", lo, hi, u.offset, u.offset+uint64(len(u.entries))))
	}
	return u.entries[lo-u.offset : hi-u.offset : hi-u.offset]
}
