package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Compact discards the history before rev, as etcd's compaction: from the
// moment it returns, reads below rev fail with ErrCompacted, and for each
// key only the newest record at or below rev survives, unless that record
// is a tombstone older than rev (a tombstone exactly at rev is kept, so a
// watcher starting at rev still sees that delete). The revision does not
// change. consistentIndex is recorded as by WriteTxn.End.
//
// Errors as etcd's: ErrCompacted when rev <= CompactRev(), ErrFutureRev
// when rev > Rev(); then nothing is recorded, not even the index.
//
// The records are deleted in the background, in batches of at most
// Options.CompactionBatchLimit records, each holding the writer lock; the
// returned channel is closed when they are all gone (or the store is
// closed). Reads, HashKV and snapshots do not depend on that progress.
func (s *Store) Compact(rev int64, consistentIndex uint64) (<-chan struct{}, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	l, m, closed := s.mu.layout, s.mu.meta, s.mu.closed
	s.mu.RUnlock()
	switch {
	case closed:
		return nil, ErrClosed
	case consistentIndex <= m.consistentIndex:
		return nil, fmt.Errorf("%w: %d <= %d", ErrStaleIndex, consistentIndex, m.consistentIndex)
	case rev <= m.compactRev:
		return nil, ErrCompacted
	case rev > m.rev:
		return nil, ErrFutureRev
	}
	m.compactRev, m.consistentIndex = rev, consistentIndex
	if err := s.db.Set(l.meta, m.encode(), pebble.NoSync); err != nil {
		return nil, fmt.Errorf("mvcc: write compaction: %w", err)
	}
	s.mu.Lock()
	s.mu.meta = m
	if s.mu.compactDone == nil {
		s.mu.compactDone = make(chan struct{})
	}
	done := s.mu.compactDone
	s.mu.Unlock()
	s.kickCompactor()
	return done, nil
}

func (s *Store) kickCompactor() {
	select {
	case s.compactKick <- struct{}{}:
	default:
	}
}

// errStopped ends a compaction when the store closes.
var errStopped = errors.New("mvcc: compaction stopped")

// compactor runs physical compactions, one at a time, until Close.
func (s *Store) compactor() {
	defer close(s.compactorExited)
	defer s.releaseCompactWaiters()
	for {
		select {
		case <-s.stopc:
			return
		case <-s.compactKick:
		}
		for {
			s.mu.RLock()
			target, finished, restores := s.mu.meta.compactRev, s.mu.meta.finishedCompactRev, s.mu.restores
			s.mu.RUnlock()
			if target <= finished {
				break
			}
			start := time.Now()
			err := s.compactTo(target, restores)
			if errors.Is(err, errStopped) {
				return
			}
			if err != nil {
				s.metrics.compactFailures.Inc()
				s.log.Error("compaction failed; it resumes on the next Compact or Open", "target", target, "err", err)
				break
			}
			s.metrics.compactSeconds.Observe(time.Since(start).Seconds())
		}
	}
}

// releaseCompactWaiters closes a pending Compact channel on Close.
func (s *Store) releaseCompactWaiters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.compactDone != nil {
		close(s.mu.compactDone)
		s.mu.compactDone = nil
	}
}

// compactTo deletes the records that compaction at target drops, batch by
// batch, resuming each batch at the user key where the last one stopped. It
// returns early (nil) when a Restore replaced the state.
func (s *Store) compactTo(target int64, restores uint64) error {
	var from []byte
	for {
		select {
		case <-s.stopc:
			return errStopped
		default:
		}
		next, finished, err := s.compactBatch(target, restores, from)
		if err != nil || finished {
			return err
		}
		from = next
	}
}

// compactBatch runs one batch under the writer lock. Within a key, newer
// records sort first: the newest at or below target is kept (deleted last,
// only once its older records are gone, if it is a tombstone older than
// target), and everything after it is deleted with its revision record.
func (s *Store) compactBatch(target int64, restores uint64, from []byte) (next []byte, finished bool, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	l, m, r := s.mu.layout, s.mu.meta, s.mu.restores
	s.mu.RUnlock()
	if r != restores || m.finishedCompactRev >= target {
		return nil, true, nil // restored or superseded: the caller re-reads the target
	}
	if from == nil {
		from = l.kLower
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: l.kLower, UpperBound: l.kUpper})
	if err != nil {
		return nil, false, err
	}
	defer closeIter(it, &err)
	batch := s.db.NewBatch()
	defer func() { err = errors.Join(err, batch.Close()) }()

	limit := s.opts.CompactionBatchLimit
	visited, deleted := 0, 0
	del := func(k []byte, rk recordKey) error {
		deleted++
		return errors.Join(batch.Delete(k, nil), batch.Delete(l.revKey(rk.main, rk.sub), nil))
	}
	var cur, seek []byte
	valid := it.SeekGE(from)
	for valid && visited < limit {
		p := recordPrefixOf(it.Key())
		if p == nil {
			return nil, false, fmt.Errorf("%w: KV record key of %d bytes", ErrCorrupt, len(it.Key()))
		}
		cur = append(cur[:0], p...)
		visited++
		seek = seekAtRev(seek, cur, target)
		if valid = it.SeekGE(seek); !valid || !bytes.Equal(recordPrefixOf(it.Key()), cur) {
			continue // no record at or below target: nothing to drop
		}
		keepKey := bytes.Clone(it.Key())
		keep, err := splitRecordKey(keepKey)
		if err != nil {
			return nil, false, err
		}
		for valid = it.Next(); valid && bytes.Equal(recordPrefixOf(it.Key()), cur); valid = it.Next() {
			if visited >= limit && deleted > 0 { // deleting one record per batch ensures progress
				break
			}
			visited++
			rk, err := splitRecordKey(it.Key())
			if err != nil {
				return nil, false, err
			}
			if err := del(it.Key(), rk); err != nil {
				return nil, false, err
			}
		}
		if valid && bytes.Equal(recordPrefixOf(it.Key()), cur) {
			next = bytes.Clone(cur) // resume inside this key; its newest record stays for now
			break
		}
		if keep.kind == kindTombstone && keep.main < target {
			if err := del(keepKey, keep); err != nil {
				return nil, false, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, false, err
	}
	if next == nil && valid {
		next = bytes.Clone(recordPrefixOf(it.Key()))
	}
	finished = next == nil
	if finished {
		m.finishedCompactRev = target
		if err := batch.Set(l.meta, m.encode(), nil); err != nil {
			return nil, false, err
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return nil, false, fmt.Errorf("mvcc: commit compaction batch: %w", err)
	}
	s.metrics.compactedTotal.Add(float64(deleted))
	if finished {
		s.mu.Lock()
		s.mu.meta.finishedCompactRev = target
		if s.mu.meta.compactRev == target && s.mu.compactDone != nil {
			close(s.mu.compactDone)
			s.mu.compactDone = nil
		}
		s.mu.Unlock()
		s.log.Debug("compaction finished", "revision", target)
	}
	return next, finished, nil
}
