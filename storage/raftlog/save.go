package raftlog

import (
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// Update is what one Ready asks to persist.
type Update struct {
	// HardState to store; empty means unchanged.
	HardState raftpb.HardState
	// Entries to append; they replace any stored entries at the same or
	// later indexes. Entries at or before the truncation point are skipped.
	Entries []raftpb.Entry
	// Snapshot to install; empty means none. It replaces the whole log.
	Snapshot raftpb.Snapshot
	// Sync commits with an fsync before Save returns.
	Sync bool
}

// ReadyUpdate returns the Update that persists rd, synced iff rd.MustSync.
func ReadyUpdate(rd raft.Ready) Update {
	return Update{HardState: rd.HardState, Entries: rd.Entries, Snapshot: rd.Snapshot, Sync: rd.MustSync}
}

// savePlan is the state after an Update, computed before it is committed.
type savePlan struct {
	hardState raftpb.HardState
	snapshot  raftpb.Snapshot
	truncated truncatedState
	lastIndex uint64
	// newLog is set when a snapshot replaced the whole log.
	newLog bool
	// dropsEntries is set when the batch deletes stored entries.
	dropsEntries bool
	// entries are the Update's entries after the truncation point.
	entries []raftpb.Entry
}

// Save persists u in one Pebble batch: the snapshot, then the entries, then
// the hard state (the order of the Ready contract), committed with
// pebble.Sync when u.Sync. An update that does not fit the log
// (ErrBadUpdate, raft.ErrSnapOutOfDate) writes nothing; an error from
// Pebble's commit leaves the durable state unknown, and the caller must
// treat it as fatal.
func (s *Storage) Save(u Update) error {
	start := time.Now()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.RLock()
	plan := savePlan{hardState: s.mu.hardState, snapshot: s.mu.snapshot,
		truncated: s.mu.truncated, lastIndex: s.mu.lastIndex}
	s.mu.RUnlock()
	oldLast := plan.lastIndex

	batch := s.db.NewBatchWithSize(batchSizeHint(u))
	defer batch.Close()
	if !u.Snapshot.IsEmpty() {
		if u.Snapshot.Metadata.Index <= plan.snapshot.Metadata.Index {
			return fmt.Errorf("%w: snapshot at %d, have %d", raft.ErrSnapOutOfDate, u.Snapshot.Metadata.Index, plan.snapshot.Metadata.Index)
		}
		plan.snapshot, plan.newLog, plan.dropsEntries = u.Snapshot, true, true
		plan.truncated = truncatedState{Index: u.Snapshot.Metadata.Index, Term: u.Snapshot.Metadata.Term}
		plan.lastIndex = plan.truncated.Index
		s.scratch = raftpb.AppendSnapshot(s.scratch[:0], u.Snapshot)
		must(batch.Set(s.keys.snapshot, s.scratch, nil))
		s.scratch = appendTruncatedState(s.scratch[:0], plan.truncated)
		must(batch.Set(s.keys.truncated, s.scratch, nil))
		must(batch.DeleteRange(s.keys.entry(nil, 0), s.keys.entryEnd, nil))
	}
	if err := planEntries(&plan, u.Entries); err != nil {
		return err
	}
	for i := range plan.entries {
		e := &plan.entries[i]
		s.scratch = raftpb.AppendEntry(s.scratch[:0], *e)
		s.keyScratch = s.keys.entry(s.keyScratch[:0], e.Index)
		must(batch.Set(s.keyScratch, s.scratch, nil))
	}
	if n := len(plan.entries); n > 0 {
		newLast := plan.entries[n-1].Index
		if !plan.newLog && newLast < oldLast {
			// The new entries overwrite [first, newLast]; what lies
			// beyond them belongs to the replaced suffix.
			must(batch.DeleteRange(s.keys.entry(nil, newLast+1), s.keys.entry(nil, oldLast+1), nil))
			plan.dropsEntries = true
		}
		plan.lastIndex = newLast
	}
	if !u.HardState.IsEmpty() {
		plan.hardState = u.HardState
		s.scratch = raftpb.AppendHardState(s.scratch[:0], u.HardState)
		must(batch.Set(s.keys.hardState, s.scratch, nil))
	}
	if plan.hardState.Commit > plan.lastIndex {
		return fmt.Errorf("%w: commit index %d beyond last index %d", ErrBadUpdate, plan.hardState.Commit, plan.lastIndex)
	}
	if batch.Empty() {
		return nil
	}
	publish := func() {
		s.mu.hardState, s.mu.snapshot = plan.hardState, plan.snapshot
		s.mu.truncated, s.mu.lastIndex = plan.truncated, plan.lastIndex
		if plan.newLog {
			s.mu.cache.reset()
		}
		s.mu.cache.put(plan.entries)
		s.metrics.setCache(&s.mu.cache)
	}
	if err := s.commit(batch, u.Sync, plan.dropsEntries, publish); err != nil {
		return err
	}
	s.metrics.savedEntries.Add(float64(len(plan.entries)))
	s.metrics.savedBytes.Add(float64(batch.Len()))
	if u.Sync {
		s.metrics.syncedSaves.Inc()
	}
	s.metrics.saveSeconds.Observe(time.Since(start).Seconds())
	return nil
}

// planEntries checks ents against plan and keeps those after the
// truncation point in plan.entries.
func planEntries(plan *savePlan, ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	for i := 1; i < len(ents); i++ {
		if ents[i].Index != ents[i-1].Index+1 {
			return fmt.Errorf("%w: entry %d follows entry %d", ErrBadUpdate, ents[i].Index, ents[i-1].Index)
		}
	}
	if skip := plan.truncated.Index + 1; ents[0].Index < skip {
		if ents[len(ents)-1].Index < skip {
			return nil
		}
		ents = ents[skip-ents[0].Index:]
	}
	if ents[0].Index > plan.lastIndex+1 {
		return fmt.Errorf("%w: entries start at %d, after last index %d", ErrBadUpdate, ents[0].Index, plan.lastIndex)
	}
	plan.entries = ents
	return nil
}

// commit applies batch, synced or not, then runs publish under the write
// lock to make the new state visible. A batch that deletes entries is
// committed under that lock too, so no reader ever finds a stored entry
// missing; the usual append commits (and fsyncs) while readers go on.
func (s *Storage) commit(batch *pebble.Batch, sync, exclusive bool, publish func()) error {
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if exclusive {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if err := batch.Commit(opts); err != nil {
		return fmt.Errorf("raftlog: commit: %w", err)
	}
	if !exclusive {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	publish()
	return nil
}

// must panics on an error that only a programming error can cause: adding
// to an open, writable batch fails only if the batch was misused.
func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("raftlog: batch write: %v", err))
	}
}

// batchSizeHint estimates the batch size of u, so the batch is allocated
// once: per entry the payload, the key and the encoding's overhead.
func batchSizeHint(u Update) int {
	const perRecord = 64
	n := 2*perRecord + len(u.Snapshot.Data)
	for i := range u.Entries {
		n += perRecord + len(u.Entries[i].Data)
	}
	return n
}
