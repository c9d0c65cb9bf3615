package replica

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// SyncMode says when a write is made durable.
type SyncMode uint8

const (
	// SyncAlways commits every write with fsync (grouped with concurrent
	// ones).
	SyncAlways SyncMode = iota
	// SyncPeriodic syncs the write-ahead log every Config.SyncInterval.
	SyncPeriodic
	// SyncNever never syncs (the node's --unsafe-no-fsync, for tests and
	// benchmarks): a power cut loses what the OS had not written.
	SyncNever
)

// Config configures a Store.
type Config struct {
	// DB is the node's Pebble database; the store uses its own prefix.
	DB *pebble.DB
	// Sync is the durability mode; SyncInterval its period in
	// SyncPeriodic mode (default 10ms).
	Sync         SyncMode
	SyncInterval time.Duration
	// CacheBytes bounds the cache of recent objects' encodings and
	// decoded states (default 128 MiB; negative turns it off).
	CacheBytes int
	// MaxHintsPerTarget bounds the hints held for one node (default
	// 1,000,000). Past it new hints are dropped and counted.
	MaxHintsPerTarget int
	// MaxIndexedKeys bounds the in-memory index of stored keys that spares
	// a write to a new key its Pebble lookup (default
	// DefaultMaxIndexedKeys; negative turns it off). Past it the index is
	// not used until the next Open.
	MaxIndexedKeys int
	// Observer, if set, sees every write that changes a key (the
	// anti-entropy trees follow the store through it).
	Observer Observer
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil means not registered.
	Registerer prometheus.Registerer
}

const (
	prefixObject = "\x04eo"
	prefixHint   = "\x04eh"
	prefixMeta   = "\x04em"
	numStripes   = 4096
)

var (
	metaReplicaID = []byte(prefixMeta + "replica-id")
	metaClean     = []byte(prefixMeta + "clean")
)

// Observer follows the store's writes. BeginWrite is called, under the
// key's lock, before a key with token t is written; the function it returns
// is called after the write with the key, its encoded state before (nil if
// none) and after (nil if the key was purged), and whether the write
// succeeded. Calls for one key are
// ordered. Neither may call the Store.
type Observer interface {
	BeginWrite(t ring.Token) (done func(key, before, after []byte, ok bool))
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("replica: store closed")

// Store is one node's eventual-tier storage. Its methods are safe for
// concurrent use.
type Store struct {
	cfg     Config
	db      *pebble.DB
	log     *slog.Logger
	m       *metrics
	replica clock.ReplicaID
	stripes [numStripes]sync.Mutex
	cache   *objectCache // nil when off
	index   *keyIndex
	writeOp *pebble.WriteOptions

	hintMu  sync.Mutex
	hintSeq uint64
	hints   map[uint64]int // hints held per target

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Open opens the store in cfg.DB, minting a replica ID if the store is new
// or was not closed cleanly.
func Open(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("replica: Config.DB is nil")
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = 10 * time.Millisecond
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 128 << 20
	}
	if cfg.MaxHintsPerTarget <= 0 {
		cfg.MaxHintsPerTarget = 1_000_000
	}
	if cfg.MaxIndexedKeys == 0 {
		cfg.MaxIndexedKeys = DefaultMaxIndexedKeys
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{cfg: cfg, db: cfg.DB, log: log.With("component", "eventual-store"), hints: map[uint64]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	var err error
	if s.index, err = newKeyIndex(cfg.DB, cfg.MaxIndexedKeys); err != nil {
		return nil, err
	}
	if cfg.MaxIndexedKeys > 0 && !s.index.complete.Load() {
		s.log.Warn("more stored keys than the key index holds: writes to new keys read Pebble", "max_indexed_keys", cfg.MaxIndexedKeys)
	}
	if s.m, err = newMetrics(cfg.Registerer, s.index.size); err != nil {
		return nil, err
	}
	// Writes never sync under the key's lock; see sync.
	s.writeOp = pebble.NoSync
	if cfg.CacheBytes > 0 {
		s.cache = newObjectCache(cfg.CacheBytes)
	}
	if err := s.loadReplicaID(); err != nil {
		return nil, err
	}
	if err := s.loadHints(); err != nil {
		return nil, err
	}
	go s.syncLoop()
	return s, nil
}

// loadReplicaID keeps the stored replica ID after a clean stop and mints a
// new one otherwise, then marks the store as open (not clean).
func (s *Store) loadReplicaID() error {
	id, idCloser, err := s.db.Get(metaReplicaID)
	var have bool
	if err == nil {
		if len(id) == 8 {
			s.replica = clock.ReplicaID(binary.BigEndian.Uint64(id))
			have = true
		}
		idCloser.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("replica: read replica id: %w", err)
	}
	_, cleanCloser, err := s.db.Get(metaClean)
	clean := err == nil
	if clean {
		cleanCloser.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("replica: read clean mark: %w", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if !have || !clean {
		old := s.replica
		for s.replica == 0 || s.replica == old {
			var r [8]byte
			_, _ = rand.Read(r[:])
			s.replica = clock.ReplicaID(binary.BigEndian.Uint64(r[:]))
		}
		if have {
			s.log.Warn("store was not closed cleanly: writing under a new replica id",
				"old_replica", fmt.Sprintf("%016x", uint64(old)), "replica", fmt.Sprintf("%016x", uint64(s.replica)))
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(s.replica))
		_ = b.Set(metaReplicaID, v[:], nil)
	}
	_ = b.Delete(metaClean, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("replica: write replica id: %w", err)
	}
	return nil
}

// ReplicaID is the ID this store's local mutations write under.
func (s *Store) ReplicaID() clock.ReplicaID { return s.replica }

// syncLoop syncs the write-ahead log every SyncInterval in periodic mode.
func (s *Store) syncLoop() {
	defer close(s.done)
	if s.cfg.Sync != SyncPeriodic {
		<-s.stop
		return
	}
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			start := time.Now()
			if err := s.db.LogData(nil, pebble.Sync); err != nil {
				s.m.errors.WithLabelValues("sync").Inc()
				s.log.Error("periodic sync failed", "err", err)
				continue
			}
			s.m.syncSeconds.Observe(time.Since(start).Seconds())
		}
	}
}

// Close stops the sync loop, syncs, and marks the store clean. It does not
// close the Pebble database.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		err = s.db.Set(metaClean, []byte{1}, pebble.Sync)
	})
	return err
}

// indexNew records pk in the key index before it is written, when it was
// not stored before (before nil): the index may only over-report.
func (s *Store) indexNew(pk, before []byte) {
	if before == nil && s.index.add(pk) {
		s.log.Warn("more stored keys than the key index holds: writes to new keys read Pebble again until the next restart",
			"max_indexed_keys", s.cfg.MaxIndexedKeys)
	}
}

// objectKey is the Pebble key of key.
func objectKey(dst []byte, t ring.Token, key []byte) []byte {
	dst = append(dst, prefixObject...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(t))
	return append(dst, key...)
}

// stripe is the lock of the keys with token t.
func (s *Store) stripe(t ring.Token) *sync.Mutex { return &s.stripes[uint64(t)%numStripes] }

// Get returns the stored Object of key (the zero Object if there is none).
func (s *Store) Get(key []byte) (object.Object, error) {
	s.m.reads.Inc()
	// Not under the key's lock: it may read the cache but must not fill it,
	// or a read racing a write could cache the state the write replaced.
	o, _, err := s.get(key, objectKey(nil, ring.HashKey(key), key), false)
	return o, err
}

// GetEncoded returns the stored encoding of key's Object (the zero
// Object's if there is none), for a peer that asked for it: a cached
// encoding is returned without a decode and re-encode. The caller must not
// modify the result.
func (s *Store) GetEncoded(key []byte) ([]byte, error) {
	s.m.reads.Inc()
	if v, ok := s.cache.get(key); ok && v != nil {
		return v, nil
	}
	pk := objectKey(nil, ring.HashKey(key), key)
	if s.index.absent(pk) {
		s.m.indexAbsent.Inc()
		return object.Object{}.AppendBinary(nil), nil
	}
	v, closer, err := s.db.Get(pk)
	if errors.Is(err, pebble.ErrNotFound) {
		return object.Object{}.AppendBinary(nil), nil
	}
	if err != nil {
		s.m.errors.WithLabelValues("read").Inc()
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// get reads and decodes key's Object (at pk). With locked set (the caller
// holds the key's stripe lock) it also fills the cache and returns the
// encoding (nil when there is none; the caller must not modify it), and
// the Object returned may be the cache's decoded state, now the caller's:
// the cache has it again only if the caller's write passes it back
// (write's o).
func (s *Store) get(key, pk []byte, locked bool) (object.Object, []byte, error) {
	if locked {
		// The decoded state, if cached, becomes the caller's to change.
		if v, o, decoded, ok := s.cache.take(key); decoded {
			return o, v, nil
		} else if ok {
			o, err := object.Decode(v)
			return o, v, err
		}
	} else if o, ok := s.cache.getObject(key); ok {
		return o, nil, nil
	} else if v, ok := s.cache.get(key); ok {
		o, err := object.Decode(v)
		return o, nil, err
	}
	if s.index.absent(pk) {
		s.m.indexAbsent.Inc()
		return object.Object{}, nil, nil
	}
	v, closer, err := s.db.Get(pk)
	if errors.Is(err, pebble.ErrNotFound) {
		return object.Object{}, nil, nil
	}
	if err != nil {
		s.m.errors.WithLabelValues("read").Inc()
		return object.Object{}, nil, err
	}
	defer closer.Close()
	o, err := object.Decode(v)
	if err != nil {
		s.m.errors.WithLabelValues("decode").Inc()
		return object.Object{}, nil, fmt.Errorf("replica: stored object of %q: %w", pk, err)
	}
	if !locked {
		return o, nil, nil
	}
	raw := append([]byte(nil), v...)
	s.cache.put(key, raw)
	return o, raw, nil
}

// Mutate runs a local mutation on key's Object under the key's lock: fn
// changes o and returns the delta to ship. If fn fails, nothing is written.
// Mutate returns the delta once the new state is durable (per the sync
// mode).
func (s *Store) Mutate(key []byte, fn func(o *object.Object) (object.Object, error)) (object.Object, error) {
	delta, wrote, err := s.mutate(key, fn)
	if err == nil && wrote {
		err = s.sync()
	}
	return delta, err
}

// MutateUnsynced is Mutate without the wait for durability: it returns the
// delta and whether anything was written, and the caller must call Sync
// before it counts the write as durable. The coordinator ships the delta to
// the other replicas while this node's fsync runs.
func (s *Store) MutateUnsynced(key []byte, fn func(o *object.Object) (object.Object, error)) (object.Object, bool, error) {
	return s.mutate(key, fn)
}

// Sync returns once every write made before it is durable (in SyncAlways
// mode; at once in SyncPeriodic mode).
func (s *Store) Sync() error { return s.sync() }

func (s *Store) mutate(key []byte, fn func(o *object.Object) (object.Object, error)) (object.Object, bool, error) {
	t := ring.HashKey(key)
	pk := objectKey(nil, t, key)
	mu := s.stripe(t)
	mu.Lock()
	defer mu.Unlock()
	o, before, err := s.get(key, pk, true)
	if err != nil {
		return object.Object{}, false, err
	}
	delta, err := fn(&o)
	if err != nil {
		return object.Object{}, false, err
	}
	if delta.IsZero() {
		s.m.writes.WithLabelValues("noop").Inc()
		return delta, false, nil
	}
	if err := s.write(t, pk, key, before, o.AppendBinary(make([]byte, 0, len(before)+64)), &o); err != nil {
		return object.Object{}, false, err
	}
	s.m.writes.WithLabelValues("local").Inc()
	return delta, true, nil
}

// Apply merges a delta (or a whole Object) received from a peer into key's
// Object and reports whether it changed anything. It returns once the
// merge is durable.
func (s *Store) Apply(key []byte, delta object.Object) (bool, error) {
	changed, err := s.apply(key, delta)
	if err == nil && changed {
		err = s.sync()
	}
	return changed, err
}

// ApplyUnsynced is Apply without the wait for durability: the caller must
// call Sync before it counts the merge as durable. A peer's batch of deltas
// is applied this way and synced once.
func (s *Store) ApplyUnsynced(key []byte, delta object.Object) (bool, error) {
	return s.apply(key, delta)
}

// ApplyMany merges several keys' states (an anti-entropy page) and syncs
// once for all of them; it returns how many changed anything.
func (s *Store) ApplyMany(keys [][]byte, objs []object.Object) (int, error) {
	changed := 0
	for i, k := range keys {
		ok, err := s.apply(k, objs[i])
		if err != nil {
			return changed, err
		}
		if ok {
			changed++
		}
	}
	if changed > 0 {
		return changed, s.sync()
	}
	return 0, nil
}

func (s *Store) apply(key []byte, delta object.Object) (bool, error) {
	t := ring.HashKey(key)
	pk := objectKey(nil, t, key)
	mu := s.stripe(t)
	mu.Lock()
	defer mu.Unlock()
	o, before, err := s.get(key, pk, true)
	if err != nil {
		return false, err
	}
	o.Merge(delta)
	after := o.AppendBinary(make([]byte, 0, len(before)+64))
	if bytes.Equal(after, before) {
		s.m.writes.WithLabelValues("noop").Inc()
		return false, nil
	}
	if err := s.write(t, pk, key, before, after, &o); err != nil {
		return false, err
	}
	s.m.writes.WithLabelValues("peer").Inc()
	return true, nil
}

// sync makes every write before it durable in SyncAlways mode: the write
// went to the WAL without fsync under the key's lock, and the fsync happens
// here, after the lock is released, so writers of one key do not queue
// behind each other's fsyncs, and Pebble groups the syncs of concurrent
// writers into one.
func (s *Store) sync() error {
	if s.cfg.Sync != SyncAlways {
		return nil
	}
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		s.m.errors.WithLabelValues("sync").Inc()
		return fmt.Errorf("replica: sync: %w", err)
	}
	return nil
}

// write stores an encoded Object and tells the Observer. The caller holds
// the key's stripe lock. o, if not nil, is after decoded: the cache keeps
// it, and the caller must not use it afterwards.
func (s *Store) write(t ring.Token, pk, key, before, after []byte, o *object.Object) error {
	var done func(key, before, after []byte, ok bool)
	if s.cfg.Observer != nil {
		done = s.cfg.Observer.BeginWrite(t)
	}
	s.indexNew(pk, before)
	err := s.db.Set(pk, after, s.writeOp)
	switch {
	case err == nil && o != nil:
		s.cache.putDecoded(key, after, *o)
	case err == nil:
		s.cache.put(key, after)
	default:
		s.cache.drop(key)
	}
	if done != nil {
		done(key, before, after, err == nil)
	}
	if err != nil {
		s.m.errors.WithLabelValues("write").Inc()
		return fmt.Errorf("replica: write: %w", err)
	}
	return nil
}
