package raft

import (
	"fmt"
	"sync"

	"github.com/cairndb/cairn/raft/raftpb"
)

// Storage is the application's stable log, read by Raft. Raft never writes
// it: the application persists Ready.Entries, Ready.HardState and
// Ready.Snapshot into it before acknowledging the Ready.
//
// Index ranges are half-open, [lo, hi). Entries at indexes up to and
// including a snapshot's index are compacted; the storage still knows the
// term of the snapshot's last entry (Term(FirstIndex()-1) works).
//
// Errors: ErrCompacted for an index before FirstIndex (or before
// FirstIndex-1 for Term), ErrUnavailable for an index after LastIndex,
// ErrSnapshotTemporarilyUnavailable from Snapshot. Any other error is
// treated as fatal by Raft (it panics): storage must not fail silently.
type Storage interface {
	// InitialState returns the persisted HardState and configuration.
	InitialState() (raftpb.HardState, raftpb.ConfState, error)
	// Entries returns entries in [lo, hi), totalling at most maxSize bytes
	// (by Entry.Size) but always at least one entry if lo < hi.
	Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error)
	// Term returns the term of entry i, for FirstIndex()-1 <= i <= LastIndex().
	Term(i uint64) (uint64, error)
	// LastIndex returns the index of the last entry (or the snapshot index
	// if there are no entries).
	LastIndex() (uint64, error)
	// FirstIndex returns the index of the first available entry.
	FirstIndex() (uint64, error)
	// Snapshot returns the most recent snapshot.
	Snapshot() (raftpb.Snapshot, error)
}

// MemoryStorage is a Storage held in memory, for tests and the simulator.
// It is safe for concurrent use. Its contents survive a "restart" of the
// RawNode in a simulation only when the application put them there, which is
// exactly what a durable storage would have.
type MemoryStorage struct {
	mu        sync.Mutex
	hardState raftpb.HardState
	snapshot  raftpb.Snapshot
	// ents[0] is a dummy entry holding the snapshot's index and term.
	ents []raftpb.Entry
}

var _ Storage = (*MemoryStorage)(nil)

// NewMemoryStorage returns an empty storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{ents: make([]raftpb.Entry, 1)}
}

// Bootstrap sets the configuration of a brand-new cluster. It fails unless
// the storage is empty.
func (ms *MemoryStorage) Bootstrap(cs raftpb.ConfState) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.ents) > 1 || !ms.snapshot.IsEmpty() || !ms.hardState.IsEmpty() {
		return fmt.Errorf("raft: bootstrap of non-empty storage")
	}
	if len(cs.Voters) == 0 {
		return fmt.Errorf("raft: bootstrap needs at least one voter")
	}
	ms.snapshot.Metadata.ConfState = cs
	return nil
}

// InitialState implements Storage.
func (ms *MemoryStorage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.hardState, ms.snapshot.Metadata.ConfState, nil
}

// SetHardState saves the HardState.
func (ms *MemoryStorage) SetHardState(st raftpb.HardState) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.hardState = st
	return nil
}

// HardState returns the saved HardState (for invariant checks).
func (ms *MemoryStorage) HardState() raftpb.HardState {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.hardState
}

func (ms *MemoryStorage) offset() uint64 { return ms.ents[0].Index }

func (ms *MemoryStorage) lastIndex() uint64 { return ms.offset() + uint64(len(ms.ents)) - 1 }

// Entries implements Storage.
func (ms *MemoryStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if lo <= ms.offset() {
		return nil, ErrCompacted
	}
	if hi > ms.lastIndex()+1 {
		return nil, fmt.Errorf("%w: entries [%d, %d) beyond last index %d", ErrUnavailable, lo, hi, ms.lastIndex())
	}
	if lo >= hi {
		return nil, nil
	}
	ents := ms.ents[lo-ms.offset() : hi-ms.offset()]
	ents = limitSize(ents, maxSize)
	// The caller may append to the result; cap it so it never writes into
	// our backing array.
	return ents[:len(ents):len(ents)], nil
}

// Term implements Storage.
func (ms *MemoryStorage) Term(i uint64) (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if i < ms.offset() {
		return 0, ErrCompacted
	}
	if i > ms.lastIndex() {
		return 0, ErrUnavailable
	}
	return ms.ents[i-ms.offset()].Term, nil
}

// LastIndex implements Storage.
func (ms *MemoryStorage) LastIndex() (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.lastIndex(), nil
}

// FirstIndex implements Storage.
func (ms *MemoryStorage) FirstIndex() (uint64, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.offset() + 1, nil
}

// Snapshot implements Storage.
func (ms *MemoryStorage) Snapshot() (raftpb.Snapshot, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.snapshot, nil
}

// ApplySnapshot replaces the storage's contents with snap (a snapshot
// received from the leader, from Ready.Snapshot).
func (ms *MemoryStorage) ApplySnapshot(snap raftpb.Snapshot) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if snap.Metadata.Index <= ms.snapshot.Metadata.Index {
		return ErrSnapOutOfDate
	}
	ms.snapshot = snap
	ms.ents = []raftpb.Entry{{Term: snap.Metadata.Term, Index: snap.Metadata.Index}}
	return nil
}

// CreateSnapshot records a snapshot of the application state as of index i
// (which must be applied, so at most LastIndex) with configuration cs, so
// that the log before it can be compacted and lagging followers served.
func (ms *MemoryStorage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (raftpb.Snapshot, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if i <= ms.snapshot.Metadata.Index {
		return raftpb.Snapshot{}, ErrSnapOutOfDate
	}
	if i > ms.lastIndex() {
		return raftpb.Snapshot{}, fmt.Errorf("raft: snapshot index %d is out of bound (last index %d)", i, ms.lastIndex())
	}
	ms.snapshot.Metadata.Index = i
	ms.snapshot.Metadata.Term = ms.ents[i-ms.offset()].Term
	if cs != nil {
		ms.snapshot.Metadata.ConfState = *cs
	}
	ms.snapshot.Data = data
	return ms.snapshot, nil
}

// Compact discards entries before compactIndex; compactIndex becomes the
// dummy entry. The application must not compact beyond its applied index.
func (ms *MemoryStorage) Compact(compactIndex uint64) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if compactIndex <= ms.offset() {
		return ErrCompacted
	}
	if compactIndex > ms.lastIndex() {
		return fmt.Errorf("raft: compact %d is out of bound (last index %d)", compactIndex, ms.lastIndex())
	}
	i := compactIndex - ms.offset()
	ents := make([]raftpb.Entry, 1, uint64(len(ms.ents))-i)
	ents[0] = raftpb.Entry{Index: ms.ents[i].Index, Term: ms.ents[i].Term}
	ms.ents = append(ents, ms.ents[i+1:]...)
	return nil
}

// Append adds entries, replacing any existing entries at the same or later
// indexes (a conflicting suffix). Entries must be contiguous and must not
// leave a gap after LastIndex; entries already compacted are skipped.
func (ms *MemoryStorage) Append(entries []raftpb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	first := ms.offset() + 1
	last := entries[0].Index + uint64(len(entries)) - 1
	if last < first {
		return nil
	}
	if first > entries[0].Index {
		entries = entries[first-entries[0].Index:]
	}
	off := entries[0].Index - ms.offset()
	switch {
	case uint64(len(ms.ents)) > off:
		ms.ents = append(ms.ents[:off:off], entries...)
	case uint64(len(ms.ents)) == off:
		ms.ents = append(ms.ents, entries...)
	default:
		return fmt.Errorf("raft: missing log entry [last: %d, append at: %d]", ms.lastIndex(), entries[0].Index)
	}
	return nil
}

// limitSize returns the longest prefix of ents whose total Size is at most
// maxSize, but never fewer than one entry.
func limitSize(ents []raftpb.Entry, maxSize uint64) []raftpb.Entry {
	if len(ents) == 0 {
		return ents
	}
	size := ents[0].Size()
	for i := 1; i < len(ents); i++ {
		size += ents[i].Size()
		if size > maxSize {
			return ents[:i]
		}
	}
	return ents
}
