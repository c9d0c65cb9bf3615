package raftlog

import (
	"fmt"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// Bootstrap sets the configuration of a brand-new cluster, synced. It fails
// with ErrNotEmpty unless the storage holds nothing (no hard state, no
// snapshot or configuration, no entries).
func (s *Storage) Bootstrap(cs raftpb.ConfState) error {
	if len(cs.Voters) == 0 {
		return fmt.Errorf("raftlog: bootstrap needs at least one voter")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	empty := s.mu.hardState.IsEmpty() && s.mu.lastIndex == 0 && s.mu.truncated == (truncatedState{}) &&
		s.mu.snapshot.IsEmpty() && len(s.mu.snapshot.Metadata.ConfState.Voters) == 0
	s.mu.RUnlock()
	if !empty {
		return ErrNotEmpty
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{ConfState: cs}}
	batch := s.db.NewBatch()
	defer batch.Close()
	s.scratch = raftpb.AppendSnapshot(s.scratch[:0], snap)
	must(batch.Set(s.keys.snapshot, s.scratch, nil))
	return s.commit(batch, true, false, func() { s.mu.snapshot = snap })
}

// CreateSnapshot records that the state machine has a snapshot as of index
// i (applied, so at most LastIndex) with configuration cs (nil keeps the
// current one) and data (small: see the package doc), so that Compact can
// drop the log up to i and the leader can send the snapshot to lagging
// followers. It is not synced (see the package doc).
func (s *Storage) CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (raftpb.Snapshot, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	snap, trunc, last := s.mu.snapshot, s.mu.truncated, s.mu.lastIndex
	var term uint64
	var err error
	switch {
	case i <= snap.Metadata.Index:
		err = fmt.Errorf("%w: snapshot at %d, have %d", raft.ErrSnapOutOfDate, i, snap.Metadata.Index)
	case i > last:
		err = fmt.Errorf("raftlog: snapshot index %d is out of bound (last index %d)", i, last)
	case i < trunc.Index:
		err = fmt.Errorf("%w: snapshot index %d, log truncated at %d", raft.ErrCompacted, i, trunc.Index)
	case i == trunc.Index:
		term = trunc.Term
	default:
		term, err = s.termLocked(i)
	}
	s.mu.RUnlock()
	if err != nil {
		return raftpb.Snapshot{}, err
	}
	snap.Metadata.Index, snap.Metadata.Term = i, term
	if cs != nil {
		snap.Metadata.ConfState = *cs
	}
	snap.Data = data
	batch := s.db.NewBatch()
	defer batch.Close()
	s.scratch = raftpb.AppendSnapshot(s.scratch[:0], snap)
	must(batch.Set(s.keys.snapshot, s.scratch, nil))
	if err := s.commit(batch, false, false, func() { s.mu.snapshot = snap }); err != nil {
		return raftpb.Snapshot{}, err
	}
	return snap, nil
}

// Compact drops the entries up to and including index with one range
// deletion, keeping index and its term as the truncation point
// (FirstIndex becomes index+1). The caller must not compact past what the
// state machine has durably applied. It is not synced (see the package
// doc).
func (s *Storage) Compact(index uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	trunc, last := s.mu.truncated, s.mu.lastIndex
	var term uint64
	var err error
	switch {
	case index <= trunc.Index:
		err = fmt.Errorf("%w: compact to %d, log truncated at %d", raft.ErrCompacted, index, trunc.Index)
	case index > last:
		err = fmt.Errorf("raftlog: compact %d is out of bound (last index %d)", index, last)
	default:
		term, err = s.termLocked(index)
	}
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	newTrunc := truncatedState{Index: index, Term: term}
	batch := s.db.NewBatch()
	defer batch.Close()
	must(batch.DeleteRange(s.keys.entry(nil, trunc.Index+1), s.keys.entry(nil, index+1), nil))
	s.scratch = appendTruncatedState(s.scratch[:0], newTrunc)
	must(batch.Set(s.keys.truncated, s.scratch, nil))
	return s.commit(batch, false, true, func() {
		s.mu.truncated = newTrunc
		s.mu.cache.dropThrough(index)
		s.metrics.setCache(&s.mu.cache)
	})
}
