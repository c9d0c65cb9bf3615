package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// Storage is a durable raft.Storage backed by a shared *pebble.DB. It is
// safe for concurrent use: reads run in parallel with each other and with
// the fsync of a Save; writers (Save, Compact, CreateSnapshot, Bootstrap)
// run one at a time.
type Storage struct {
	db      *pebble.DB
	keys    keys
	log     *slog.Logger
	metrics *metrics

	// writeMu serializes writers, so a writer can plan its batch from the
	// state below without holding mu across the commit. Taken before mu.
	writeMu sync.Mutex
	// scratch and keyScratch are the encoding buffers of writers (under
	// writeMu); Pebble copies keys and values into the batch.
	scratch    []byte
	keyScratch []byte

	mu struct {
		sync.RWMutex
		// Invariants: truncated.Index <= lastIndex;
		// hardState.Commit <= lastIndex; the stored entries are exactly
		// (truncated.Index, lastIndex]; cache holds a suffix of them.
		hardState raftpb.HardState
		snapshot  raftpb.Snapshot
		truncated truncatedState
		lastIndex uint64
		cache     tailCache
	}
}

var _ raft.Storage = (*Storage)(nil)

// Open loads the Raft state stored under opts.KeyPrefix in db (an empty
// prefix range is a new, empty storage; see Bootstrap) and warms the tail
// cache. The caller keeps ownership of db.
func Open(db *pebble.DB, opts Options) (*Storage, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Storage{db: db, keys: newKeys(opts.KeyPrefix), log: opts.Logger, metrics: newMetrics()}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "raftlog", "prefix", fmt.Sprintf("%q", opts.KeyPrefix))
	s.mu.cache.maxBytes = opts.CacheBytes
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.metrics.register(opts.Registerer); err != nil {
		return nil, err
	}
	s.metrics.setCache(&s.mu.cache)
	s.log.Info("raft log opened",
		"hard_state", s.mu.hardState.String(), "first_index", s.mu.truncated.Index+1,
		"last_index", s.mu.lastIndex, "snapshot_index", s.mu.snapshot.Metadata.Index,
		"cached_entries", len(s.mu.cache.ents))
	return s, nil
}

// load reads the stored state and checks its invariants.
func (s *Storage) load() error {
	if v, ok, err := s.get(s.keys.hardState); err != nil {
		return err
	} else if ok {
		if s.mu.hardState, err = raftpb.UnmarshalHardState(v); err != nil {
			return fmt.Errorf("%w: hard state: %w", ErrCorrupt, err)
		}
	}
	if v, ok, err := s.get(s.keys.snapshot); err != nil {
		return err
	} else if ok {
		if s.mu.snapshot, err = raftpb.UnmarshalSnapshot(v); err != nil {
			return fmt.Errorf("%w: snapshot: %w", ErrCorrupt, err)
		}
	}
	if v, ok, err := s.get(s.keys.truncated); err != nil {
		return err
	} else if ok {
		if s.mu.truncated, err = decodeTruncatedState(v); err != nil {
			return err
		}
	}
	first, last, err := s.storedEntrySpan()
	if err != nil {
		return err
	}
	trunc := s.mu.truncated
	s.mu.lastIndex = trunc.Index
	if last != 0 {
		if first != trunc.Index+1 {
			return fmt.Errorf("%w: first stored entry %d, but the log is truncated at %d", ErrCorrupt, first, trunc.Index)
		}
		s.mu.lastIndex = last
	}
	if c := s.mu.hardState.Commit; c > s.mu.lastIndex {
		return fmt.Errorf("%w: commit index %d beyond last index %d", ErrCorrupt, c, s.mu.lastIndex)
	}
	return s.warmCache()
}

// get returns a copy of the value at key; ok is false if it is absent.
func (s *Storage) get(key []byte) (v []byte, ok bool, err error) {
	val, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("raftlog: read %q: %w", key, err)
	}
	v = bytes.Clone(val)
	return v, true, closer.Close()
}

// storedEntrySpan returns the indexes of the first and last stored entries,
// or zeros if there are none.
func (s *Storage) storedEntrySpan() (first, last uint64, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: s.keys.entry(nil, 0), UpperBound: s.keys.entryEnd})
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	if !it.First() {
		return 0, 0, it.Error()
	}
	if first, err = s.keys.entryIndex(it.Key()); err != nil {
		return 0, 0, err
	}
	it.Last()
	if last, err = s.keys.entryIndex(it.Key()); err != nil {
		return 0, 0, err
	}
	// Indexes are unique keys, so a contiguous log has exactly
	// last-first+1 of them; gaps are found when read (readEntries).
	return first, last, it.Error()
}

// warmCache loads the newest entries, up to the cache's byte limit.
func (s *Storage) warmCache() error {
	c := &s.mu.cache
	if s.mu.lastIndex == s.mu.truncated.Index {
		return nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: s.keys.entry(nil, s.mu.truncated.Index+1),
		UpperBound: s.keys.entry(nil, s.mu.lastIndex+1),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	var newestFirst []raftpb.Entry
	var size uint64
	want := s.mu.lastIndex
	for ok := it.Last(); ok; ok = it.Prev() {
		e, err := s.decodeEntry(it, want)
		if err != nil {
			return err
		}
		if size+e.Size() > c.maxBytes {
			break
		}
		size += e.Size()
		newestFirst = append(newestFirst, e)
		want--
	}
	if err := it.Error(); err != nil {
		return err
	}
	slices.Reverse(newestFirst)
	c.put(newestFirst)
	return nil
}

// decodeEntry decodes the entry under the iterator, which must be at index
// want. The value is copied: Pebble reuses it after the iterator moves.
func (s *Storage) decodeEntry(it *pebble.Iterator, want uint64) (raftpb.Entry, error) {
	idx, err := s.keys.entryIndex(it.Key())
	if err != nil {
		return raftpb.Entry{}, err
	}
	if idx != want {
		return raftpb.Entry{}, fmt.Errorf("%w: found entry %d where %d belongs (a gap in the log)", ErrCorrupt, idx, want)
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return raftpb.Entry{}, err
	}
	e, err := raftpb.UnmarshalEntry(bytes.Clone(v))
	if err != nil {
		return raftpb.Entry{}, fmt.Errorf("%w: entry %d: %w", ErrCorrupt, idx, err)
	}
	if e.Index != idx {
		return raftpb.Entry{}, fmt.Errorf("%w: entry key %d holds entry %d", ErrCorrupt, idx, e.Index)
	}
	return e, nil
}

// InitialState implements raft.Storage: the hard state and the
// configuration of the latest snapshot (or of Bootstrap).
func (s *Storage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.hardState, s.mu.snapshot.Metadata.ConfState, nil
}

// HardState returns the stored hard state.
func (s *Storage) HardState() raftpb.HardState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.hardState
}

// FirstIndex implements raft.Storage.
func (s *Storage) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.truncated.Index + 1, nil
}

// LastIndex implements raft.Storage.
func (s *Storage) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.lastIndex, nil
}

// Snapshot implements raft.Storage: the latest snapshot from Save or
// CreateSnapshot, with the Data its caller gave.
func (s *Storage) Snapshot() (raftpb.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.snapshot, nil
}

// Term implements raft.Storage.
func (s *Storage) Term(i uint64) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case i < s.mu.truncated.Index:
		return 0, raft.ErrCompacted
	case i > s.mu.lastIndex:
		return 0, raft.ErrUnavailable
	case i == s.mu.truncated.Index:
		return s.mu.truncated.Term, nil
	}
	return s.termLocked(i)
}

// termLocked returns the term of a stored entry (truncated.Index < i <=
// lastIndex).
func (s *Storage) termLocked(i uint64) (uint64, error) {
	if e, ok := s.mu.cache.get(i); ok {
		s.metrics.cacheHits.Inc()
		return e.Term, nil
	}
	s.metrics.cacheMisses.Inc()
	val, closer, err := s.db.Get(s.keys.entry(nil, i))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, fmt.Errorf("%w: entry %d is missing", ErrCorrupt, i)
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	e, err := raftpb.UnmarshalEntry(val)
	if err != nil || e.Index != i {
		return 0, fmt.Errorf("%w: entry %d does not decode (index %d): %v", ErrCorrupt, i, e.Index, err)
	}
	return e.Term, nil
}

// Entries implements raft.Storage: entries [lo, hi), at most maxSize bytes
// by Entry.Size but at least one. The slice is the caller's; the entries'
// Data is shared and must not be modified.
func (s *Storage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if lo <= s.mu.truncated.Index {
		return nil, fmt.Errorf("%w: entries from %d, log truncated at %d", raft.ErrCompacted, lo, s.mu.truncated.Index)
	}
	if hi > s.mu.lastIndex+1 {
		return nil, fmt.Errorf("%w: entries [%d, %d) beyond last index %d", raft.ErrUnavailable, lo, hi, s.mu.lastIndex)
	}
	if lo >= hi {
		return nil, nil
	}
	lim := sizeLimit{max: maxSize}
	cached := s.mu.cache.firstIndex()
	if cached == 0 {
		cached = s.mu.lastIndex + 1
	}
	// Sized for the whole range, within reason: maxSize may cut it short.
	out := make([]raftpb.Entry, 0, min(hi-lo, maxEntriesPrealloc))
	if lo < cached {
		s.metrics.cacheMisses.Inc()
		var err error
		end := min(hi, cached)
		if out, err = s.readEntriesLocked(out, lo, end, &lim); err != nil {
			return nil, err
		}
		if uint64(len(out)) < end-lo || end == hi {
			return out, nil // the size limit stopped the read, or it is done
		}
		lo = end
	} else {
		s.metrics.cacheHits.Inc()
	}
	return s.mu.cache.appendRange(out, lo, hi, &lim), nil
}

// maxEntriesPrealloc bounds the capacity Entries reserves up front.
const maxEntriesPrealloc = 256

// readEntriesLocked appends the stored entries [lo, hi) from Pebble to out
// while lim admits them.
func (s *Storage) readEntriesLocked(out []raftpb.Entry, lo, hi uint64, lim *sizeLimit) ([]raftpb.Entry, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: s.keys.entry(nil, lo), UpperBound: s.keys.entry(nil, hi)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	want := lo
	for ok := it.First(); ok; ok = it.Next() {
		e, err := s.decodeEntry(it, want)
		if err != nil {
			return nil, err
		}
		if !lim.admit(e) {
			return out, nil
		}
		out = append(out, e)
		want++
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if want != hi {
		return nil, fmt.Errorf("%w: entries [%d, %d) end at %d", ErrCorrupt, lo, hi, want)
	}
	return out, nil
}
