package mvcc

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// SnapshotInfo describes the state a snapshot stream holds.
type SnapshotInfo struct {
	// ConsistentIndex is the raft index of the last entry applied.
	ConsistentIndex uint64
	// Revision is the store's revision.
	Revision int64
	// CompactRevision is the store's compaction revision.
	CompactRevision int64
	// Records is the number of records in the stream.
	Records uint64
}

// Snapshot writes the whole store, as of one point in time, to w as a
// checksummed stream (format in snapstream.go) that Restore reads, for
// sending to a lagging follower. Writers are not blocked while it runs.
// The point in time is fixed before the first bytes (the stream's magic)
// reach w, so a caller streaming through a pipe may release a lock that
// keeps other state in step once they arrive.
func (s *Store) Snapshot(w io.Writer) (info SnapshotInfo, err error) {
	s.mu.RLock()
	l, m, closed := s.mu.layout, s.mu.meta, s.mu.closed
	var it *pebble.Iterator
	if !closed {
		it, err = s.newIterLocked()
	}
	s.mu.RUnlock()
	if closed {
		return SnapshotInfo{}, ErrClosed
	}
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer closeIter(it, &err)
	sw, err := newSnapshotWriter(w)
	if err != nil {
		return SnapshotInfo{}, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return SnapshotInfo{}, err
		}
		if err := sw.record(it.Key()[len(l.prefix):], v); err != nil {
			return SnapshotInfo{}, err
		}
	}
	if err := errors.Join(it.Error(), sw.finish()); err != nil {
		return SnapshotInfo{}, err
	}
	return SnapshotInfo{ConsistentIndex: m.consistentIndex, Revision: m.rev, CompactRevision: m.compactRev, Records: sw.count}, nil
}

// Restore replaces the whole store with the snapshot stream read from r
// (which it may read past the stream's end: give it a reader that holds
// only the stream). Afterwards ConsistentIndex, Rev, CompactRev and every
// read are those of the snapshot; OnCommit is not called, so watchers must
// be re-synchronized by the caller.
//
// Atomicity: the records go to the inactive generation (see doc.go), in
// batches of Options.RestoreBatchBytes, each validated as it is decoded.
// Only when the whole stream has checked out (record count and CRC-32C)
// does one synced batch flip the active-generation marker and delete the
// old generation. A corrupt stream (ErrSnapshotCorrupt) or any failure
// before the flip leaves the store as it was; a crash before the flip
// leaves the old state, whose Open deletes the partial new generation; a
// crash after it leaves the new state.
func (s *Store) Restore(r io.Reader) (SnapshotInfo, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Whatever happens below, the cached records may no longer be the
	// store's.
	s.latest.clear()
	s.mu.RLock()
	old, closed := s.mu.layout, s.mu.closed
	s.mu.RUnlock()
	if closed {
		return SnapshotInfo{}, ErrClosed
	}
	nl := newLayout(s.keyPrefix, otherGen(old.gen))
	m, count, err := s.restoreInto(nl, r)
	if err != nil {
		if derr := s.db.DeleteRange(nl.prefix, nl.end, pebble.NoSync); derr != nil {
			s.log.Error("deleting a failed restore; Open retries", "err", derr)
		}
		return SnapshotInfo{}, err
	}
	if err := s.flip(old, nl, m); err != nil {
		s.index.drop() // which state is live is not known
		return SnapshotInfo{}, err
	}
	if err := s.index.rebuild(s.db, nl); err != nil {
		s.log.Warn("key index not rebuilt after restore; puts of new keys will seek", "err", err)
	}
	s.log.Info("restored snapshot", "revision", m.rev, "consistent_index", m.consistentIndex, "records", count)
	return SnapshotInfo{ConsistentIndex: m.consistentIndex, Revision: m.rev, CompactRevision: m.compactRev, Records: count}, nil
}

// restoreInto writes the stream's records into layout nl and returns the
// stream's meta.
func (s *Store) restoreInto(nl layout, r io.Reader) (m meta, count uint64, err error) {
	if err := s.db.DeleteRange(nl.prefix, nl.end, pebble.NoSync); err != nil {
		return meta{}, 0, err
	}
	// An escaped key at most doubles, plus tags and the revision suffix.
	maxKey := 2*s.opts.MaxKeySize + 64
	maxValue := max(s.opts.MaxKeySize, s.opts.MaxValueSize) + 64
	sr, err := newSnapshotReader(r, maxKey, maxValue)
	if err != nil {
		return meta{}, 0, err
	}
	batch := s.db.NewBatch()
	defer func() { err = errors.Join(err, batch.Close()) }()
	haveMeta, haveRecords := false, false
	key := append([]byte(nil), nl.prefix...)
	for {
		ok, err := sr.next()
		if err != nil {
			return meta{}, 0, err
		}
		if !ok {
			break
		}
		key = append(key[:len(nl.prefix)], sr.key...)
		rm, isMeta, err := validateRecord(nl, key, sr.value)
		if err != nil {
			return meta{}, 0, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
		}
		if isMeta {
			m, haveMeta = rm, true
		} else {
			haveRecords = true
		}
		if err := batch.Set(key, sr.value, nil); err != nil {
			return meta{}, 0, err
		}
		if batch.Len() >= s.opts.RestoreBatchBytes {
			if err := batch.Commit(pebble.NoSync); err != nil {
				return meta{}, 0, err
			}
			batch.Reset()
		}
	}
	if !haveMeta {
		if haveRecords {
			return meta{}, 0, fmt.Errorf("%w: records without a meta record", ErrSnapshotCorrupt)
		}
		m = freshMeta()
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return meta{}, 0, err
	}
	return m, sr.count, nil
}

// validateRecord decodes one record of a stream fully.
func validateRecord(l layout, key, value []byte) (m meta, isMeta bool, err error) {
	switch key[len(l.prefix)] {
	case tagMeta:
		if len(key) != len(l.meta) {
			return meta{}, false, fmt.Errorf("%w: meta key of %d bytes", ErrCorrupt, len(key))
		}
		m, err = decodeMeta(value)
		return m, true, err
	case tagKey:
		rk, err := splitRecordKey(key)
		if err != nil {
			return meta{}, false, err
		}
		if _, err := l.appendUserKey(nil, rk.prefix); err != nil {
			return meta{}, false, err
		}
		if rk.kind == kindTombstone {
			if len(value) != 0 {
				return meta{}, false, fmt.Errorf("%w: tombstone with a value", ErrCorrupt)
			}
			return meta{}, false, nil
		}
		_, err = decodeKVValue(value, rk.main)
		return meta{}, false, err
	case tagRev:
		if _, _, err := l.decodeRevKey(key); err != nil {
			return meta{}, false, err
		}
		_, _, err = decodeRevValue(value)
		return meta{}, false, err
	case tagLease:
		if _, _, err := l.decodeLeaseKey(key); err != nil {
			return meta{}, false, err
		}
		if len(value) != 0 {
			return meta{}, false, fmt.Errorf("%w: lease record with a value", ErrCorrupt)
		}
		return meta{}, false, nil
	default:
		return meta{}, false, fmt.Errorf("%w: unknown record tag 0x%02x", ErrCorrupt, key[len(l.prefix)])
	}
}

// flip makes generation nl active in one synced batch, then swaps the
// in-memory state. mu is held across the commit so no reader pairs the old
// layout with a view in which it is deleted.
func (s *Store) flip(old, nl layout, m meta) error {
	batch := s.db.NewBatch()
	defer batch.Close()
	err := errors.Join(
		batch.Set(activeKey(s.keyPrefix), []byte{nl.gen}, nil),
		batch.DeleteRange(old.prefix, old.end, nil),
	)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("mvcc: commit restore: %w", err)
	}
	s.mu.layout, s.mu.meta = nl, m
	s.mu.restores++
	// The old state's compaction is moot; the new one may need its own.
	if s.mu.compactDone != nil {
		close(s.mu.compactDone)
		s.mu.compactDone = nil
	}
	if m.compactRev > m.finishedCompactRev {
		s.mu.compactDone = make(chan struct{})
		s.kickCompactor()
	}
	return nil
}
