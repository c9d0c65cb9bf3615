package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Store is an MVCC key-value store with etcd v3 semantics on a shared
// *pebble.DB. One writer at a time (WriteTxn, Compact, Restore; further
// callers wait), any number of concurrent readers. All methods are safe for
// concurrent use.
type Store struct {
	db        *pebble.DB
	opts      Options
	keyPrefix []byte
	log       *slog.Logger
	metrics   *metrics

	// writeMu serializes everything that writes the store's keys: write
	// transactions, Compact, compaction batches and Restore. Lock order:
	// writeMu before mu.
	writeMu sync.Mutex
	// latest caches keys' newest records for the writer (under writeMu).
	latest *latestCache
	// index is the set of live keys (see keyIndex), also under writeMu.
	index *keyIndex

	mu struct {
		sync.RWMutex
		// layout is the active generation's key builder.
		layout layout
		// meta mirrors the meta record as last committed. Readers take
		// mu.RLock to capture it together with a Pebble iterator, so the
		// iterator's point-in-time view holds every record the captured
		// revisions need.
		meta   meta
		closed bool
		// restores counts Restores, so a compaction in progress notices
		// that the state it was compacting is gone.
		restores uint64
		// compactDone is closed when the physical compaction reaches
		// meta.compactRev; nil when none is pending.
		compactDone chan struct{}
	}

	// compactKick wakes the compactor (capacity 1: kicks coalesce).
	compactKick chan struct{}
	stopc       chan struct{}
	// compactorExited is closed when the compactor goroutine returns.
	compactorExited chan struct{}
}

// Open opens the store that lives under opts.KeyPrefix in db, creating it
// if absent. The Store never closes db. A generation left behind by an
// interrupted Restore is deleted, and an interrupted compaction resumes.
func Open(db *pebble.DB, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, fmt.Errorf("%w: nil DB", ErrInvalidOptions)
	}
	s := &Store{
		db:              db,
		opts:            opts,
		keyPrefix:       []byte(opts.KeyPrefix),
		log:             opts.Logger,
		compactKick:     make(chan struct{}, 1),
		stopc:           make(chan struct{}),
		compactorExited: make(chan struct{}),
		latest:          newLatestCache(opts.LatestCacheBytes),
		index:           newKeyIndex(opts.KeyIndexMaxKeys),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "mvcc")
	l, m, err := s.load()
	if err != nil {
		return nil, err
	}
	s.mu.layout, s.mu.meta = l, m
	if err := s.index.rebuild(db, l); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(opts.Registerer, s.gauges()); err != nil {
		return nil, err
	}
	if m.compactRev > m.finishedCompactRev {
		s.log.Info("resuming interrupted compaction", "compact_revision", m.compactRev,
			"finished_revision", m.finishedCompactRev)
		s.mu.compactDone = make(chan struct{})
		s.kickCompactor()
	}
	go s.compactor()
	s.log.Info("opened", "revision", m.rev, "compact_revision", m.compactRev,
		"consistent_index", m.consistentIndex, "keys", m.keys, "key_index", s.index.complete)
	return s, nil
}

// load reads the active generation and its meta record, creating the
// marker of a fresh store and deleting an abandoned generation.
func (s *Store) load() (layout, meta, error) {
	gen := genA
	v, err := s.get(activeKey(s.keyPrefix))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		for _, g := range []byte{genA, genB} {
			l := newLayout(s.keyPrefix, g)
			if found, err := s.anyKey(l.prefix, l.end); err != nil || found {
				return layout{}, meta{}, errors.Join(err, fmt.Errorf("%w: records without an active-generation marker", ErrCorrupt))
			}
		}
		if err := s.db.Set(activeKey(s.keyPrefix), []byte{genA}, pebble.NoSync); err != nil {
			return layout{}, meta{}, fmt.Errorf("mvcc: write generation marker: %w", err)
		}
	case err != nil:
		return layout{}, meta{}, fmt.Errorf("mvcc: read generation marker: %w", err)
	case len(v) != 1 || (v[0] != genA && v[0] != genB):
		return layout{}, meta{}, fmt.Errorf("%w: generation marker %x", ErrCorrupt, v)
	default:
		gen = v[0]
	}
	l := newLayout(s.keyPrefix, gen)
	if err := s.dropGeneration(otherGen(gen)); err != nil {
		return layout{}, meta{}, err
	}
	v, err = s.get(l.meta)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if found, err := s.anyKey(l.prefix, l.end); err != nil || found {
			return layout{}, meta{}, errors.Join(err, fmt.Errorf("%w: records without a meta record", ErrCorrupt))
		}
		return l, freshMeta(), nil
	case err != nil:
		return layout{}, meta{}, fmt.Errorf("mvcc: read meta: %w", err)
	}
	m, err := decodeMeta(v)
	return l, m, err
}

// dropGeneration deletes every key of generation g, if it has any: what an
// interrupted Restore left behind.
func (s *Store) dropGeneration(g byte) error {
	l := newLayout(s.keyPrefix, g)
	found, err := s.anyKey(l.prefix, l.end)
	if err != nil || !found {
		return err
	}
	s.log.Warn("deleting the records of an interrupted restore", "generation", g)
	if err := s.db.DeleteRange(l.prefix, l.end, pebble.NoSync); err != nil {
		return fmt.Errorf("mvcc: delete abandoned generation: %w", err)
	}
	return nil
}

func otherGen(g byte) byte {
	if g == genA {
		return genB
	}
	return genA
}

// get returns a copy of the value of key.
func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// anyKey reports whether [lower, upper) holds a key.
func (s *Store) anyKey(lower, upper []byte) (bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return false, err
	}
	found := it.First()
	return found, errors.Join(it.Error(), it.Close())
}

// Close stops the compactor (an unfinished compaction resumes on the next
// Open) and waits for the current writer. It does not close the DB.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.closed = true
	s.mu.Unlock()
	close(s.stopc)
	<-s.compactorExited
	// An empty critical section waits for the writer in progress, if any.
	s.writeMu.Lock()
	s.writeMu.Unlock()
	s.metrics.unregister()
	return nil
}

// Rev returns the current revision: that of the last write that changed
// something, 1 on a fresh store.
func (s *Store) Rev() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.meta.rev
}

// CompactRev returns the revision of the last compaction, -1 if none (as
// etcd). Reads below it fail with ErrCompacted.
func (s *Store) CompactRev() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.meta.compactRev
}

// ConsistentIndex returns the raft index of the last entry applied (the
// argument of the last WriteTxn.End, Compact or Restore). After a restart,
// entries up to it must not be applied again.
func (s *Store) ConsistentIndex() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.meta.consistentIndex
}

// KeyCount returns the number of live keys at the current revision.
func (s *Store) KeyCount() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.meta.keys
}

// Limits returns the key and value size limits (Options.MaxKeySize and
// MaxValueSize) that Put enforces, for validating requests at the edge.
func (s *Store) Limits() (maxKeySize, maxValueSize int) {
	return s.opts.MaxKeySize, s.opts.MaxValueSize
}

// snapshotState captures the layout, meta and a Pebble snapshot together.
func (s *Store) snapshotState() (layout, meta, *pebble.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mu.closed {
		return layout{}, meta{}, nil, ErrClosed
	}
	return s.mu.layout, s.mu.meta, s.db.NewSnapshot(), nil
}

// newIterLocked opens an iterator over the whole active generation; the
// caller holds mu (either mode) so the view matches mu.meta.
func (s *Store) newIterLocked() (*pebble.Iterator, error) {
	l := s.mu.layout
	return s.db.NewIter(&pebble.IterOptions{LowerBound: l.prefix, UpperBound: l.end})
}

func (s *Store) gauges() gauges {
	read := func(f func(m meta) int64) func() float64 {
		return func() float64 {
			s.mu.RLock()
			defer s.mu.RUnlock()
			return float64(f(s.mu.meta))
		}
	}
	return gauges{
		keys:       read(func(m meta) int64 { return m.keys }),
		rev:        read(func(m meta) int64 { return m.rev }),
		compactRev: read(func(m meta) int64 { return m.compactRev }),
		dbBytes: func() float64 {
			s.mu.RLock()
			l := s.mu.layout
			s.mu.RUnlock()
			n, err := s.db.EstimateDiskUsage(l.prefix, l.end)
			if err != nil {
				return 0
			}
			return float64(n)
		},
		indexKeys: func() float64 { return float64(s.index.size.Load()) },
	}
}

// closeIter closes it and joins its error into *err.
func closeIter(it io.Closer, err *error) {
	*err = errors.Join(*err, it.Close())
}
