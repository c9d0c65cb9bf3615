package mvcc

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// WriteTxn is the one write transaction in progress: every change it makes
// shares one revision (the current revision + 1, ordered by sub-revision),
// and none is visible to readers until End commits them in one Pebble
// batch. Its reads see its own writes. It is not safe for concurrent use.
//
// A WriteTxn must be finished by End or Abort; until then every other
// writer waits.
type WriteTxn struct {
	s     *Store
	l     layout
	begin meta // the store's state when the transaction began
	batch *pebble.Batch
	it    *pebble.Iterator
	// events are the changes so far; len(events) is the next sub-revision.
	events []*mvccpb.Event
	// touched are the keys this transaction changed: for them the
	// latest-record cache is stale until End.
	touched   map[string]struct{}
	keysDelta int64
	start     time.Time
	// err is sticky: set when the store is closed or a write failed half
	// way (the batch is then inconsistent and End refuses it).
	err  error
	done bool
}

// Write begins a write transaction, waiting for the writer in progress. On
// a closed store every method of the returned transaction fails with
// ErrClosed.
func (s *Store) Write() *WriteTxn {
	s.writeMu.Lock()
	w := &WriteTxn{s: s, start: time.Now()}
	s.mu.RLock()
	closed := s.mu.closed
	w.l, w.begin = s.mu.layout, s.mu.meta
	s.mu.RUnlock()
	if closed {
		w.err = ErrClosed
		return w
	}
	w.batch = s.db.NewIndexedBatch()
	return w
}

// BeginRev is the revision when the transaction began.
func (w *WriteTxn) BeginRev() int64 { return w.begin.rev }

// Rev implements ReadView: BeginRev, or BeginRev+1 once something changed
// (the revision End will commit), as etcd's write transactions read.
func (w *WriteTxn) Rev() int64 {
	if len(w.events) > 0 {
		return w.begin.rev + 1
	}
	return w.begin.rev
}

// CompactRev implements ReadView.
func (w *WriteTxn) CompactRev() int64 { return w.begin.compactRev }

// Changed reports whether the transaction has changed anything, so End
// will bump the revision.
func (w *WriteTxn) Changed() bool { return len(w.events) > 0 }

// Range implements ReadView, including the transaction's own writes.
func (w *WriteTxn) Range(key, end []byte, opts RangeOptions) (*RangeResult, error) {
	if w.err != nil {
		return nil, w.err
	}
	defer observe(w.s.metrics.rangeSeconds)()
	return rangeView(w, w.l, key, end, w.Rev(), w.begin.compactRev, opts)
}

// Put writes key = value attached to lease (0: none) at revision
// BeginRev()+1, and returns the key's previous KeyValue (nil if it did not
// exist). The new version is the previous one + 1, or 1 after a delete;
// the create revision carries over from the previous KeyValue.
//
// Put keeps key and value (in the events handed to OnCommit): the caller
// must not modify them afterwards.
func (w *WriteTxn) Put(key, value []byte, lease int64) (prev *mvccpb.KeyValue, err error) {
	if w.err != nil {
		return nil, w.err
	}
	switch {
	case len(key) == 0:
		return nil, ErrEmptyKey
	case len(key) > w.s.opts.MaxKeySize:
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLarge, len(key), w.s.opts.MaxKeySize)
	case len(value) > w.s.opts.MaxValueSize:
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, len(value), w.s.opts.MaxValueSize)
	}
	if prev, err = w.latest(key); err != nil {
		return nil, err
	}
	rev, sub := w.begin.rev+1, int64(len(w.events))
	kv := &mvccpb.KeyValue{Key: key, Value: value, CreateRevision: rev, ModRevision: rev, Version: 1, Lease: lease}
	if prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
	} else {
		w.keysDelta++
	}
	p := w.l.keyPrefix(key)
	err = errors.Join(
		w.batch.Set(appendRevSuffix(p, rev, sub, kindPut), appendKVValue(nil, kv.CreateRevision, kv.Version, lease, value), nil),
		w.batch.Set(w.l.revKey(rev, sub), appendRevValue(nil, kindPut, key), nil),
		w.moveLease(key, prev, lease),
	)
	if err != nil {
		return nil, w.fail(err)
	}
	w.events = append(w.events, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prev})
	w.touch(key)
	return prev, nil
}

// DeleteRange deletes the live keys of [key, end) (range semantics as
// Range) at revision BeginRev()+1, writing a tombstone for each, and returns
// their last KeyValues in key order. Deleting nothing changes nothing.
//
// HAZARD: the deleted KeyValues, values included, are held in memory until
// End (they are the events' PrevKv), so deleting a huge range costs memory
// in proportion to its data.
func (w *WriteTxn) DeleteRange(key, end []byte) (deleted []*mvccpb.KeyValue, err error) {
	if w.err != nil {
		return nil, w.err
	}
	if len(key) == 0 {
		return nil, ErrEmptyKey
	}
	deleted, _, err = rangeAt(w, w.l, key, end, w.Rev(), RangeOptions{})
	if err != nil {
		return nil, err
	}
	rev := w.begin.rev + 1
	for _, prev := range deleted {
		sub := int64(len(w.events))
		err := errors.Join(
			w.batch.Set(appendRevSuffix(w.l.keyPrefix(prev.Key), rev, sub, kindTombstone), nil, nil),
			w.batch.Set(w.l.revKey(rev, sub), appendRevValue(nil, kindTombstone, prev.Key), nil),
			w.moveLease(prev.Key, prev, 0),
		)
		if err != nil {
			return nil, w.fail(err)
		}
		w.keysDelta--
		tomb := &mvccpb.KeyValue{Key: prev.Key, ModRevision: rev}
		w.events = append(w.events, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: tomb, PrevKv: prev})
		w.touch(prev.Key)
	}
	return deleted, nil
}

// latest returns key's newest record as this transaction sees it: from
// the latest-record cache or the key index when the transaction has not
// changed the key, else (and when neither knows) from the batch and the
// LSM.
func (w *WriteTxn) latest(key []byte) (*mvccpb.KeyValue, error) {
	if _, changed := w.touched[string(key)]; !changed {
		if kv, ok := w.s.latest.get(key); ok {
			w.s.metrics.latestHits.Inc()
			return kv, nil
		}
		if w.s.index.absent(key) {
			w.s.metrics.indexAbsent.Inc()
			return nil, nil
		}
		w.s.metrics.latestMisses.Inc()
	}
	return latest(w, w.l, key)
}

func (w *WriteTxn) touch(key []byte) {
	if w.touched == nil {
		w.touched = make(map[string]struct{}, 1)
	}
	w.touched[string(key)] = struct{}{}
}

// moveLease updates the lease index when key moves from prev's lease to
// lease (0: none, as for a delete).
func (w *WriteTxn) moveLease(key []byte, prev *mvccpb.KeyValue, lease int64) error {
	var old int64
	if prev != nil {
		old = prev.Lease
	}
	if old == lease {
		return nil
	}
	var err error
	if old != 0 {
		err = w.batch.Delete(w.l.leaseKey(old, key), nil)
	}
	if lease != 0 {
		err = errors.Join(err, w.batch.Set(w.l.leaseKey(lease, key), nil, nil))
	}
	return err
}

// fail makes err sticky: a half-applied operation leaves the batch
// inconsistent, so the transaction can only be aborted.
func (w *WriteTxn) fail(err error) error {
	w.err = fmt.Errorf("mvcc: write transaction failed: %w", err)
	return w.err
}

// End commits the transaction together with consistentIndex (the raft
// index of the entry being applied, which must be above ConsistentIndex())
// in one Pebble batch, without fsync: the raft log is the durable record,
// and after a crash the entries above the recovered ConsistentIndex are
// applied again. It returns the store's revision after the commit.
//
// A transaction that changed nothing commits only the index, so every
// applied entry can be recorded. After a commit that changed something,
// Options.OnCommit is called with the revision and the events, before the
// next writer may start (so calls arrive in revision order); it must not
// begin a write and should return quickly. PUT events carry the new
// KeyValue, DELETE events a tombstone KeyValue (Key and ModRevision only,
// as etcd's); both carry PrevKv when the key existed before. The events
// and their KeyValues are shared with the transaction's results: treat
// them as read-only.
func (w *WriteTxn) End(consistentIndex uint64) (int64, error) {
	if w.done {
		return 0, fmt.Errorf("mvcc: End of a finished write transaction")
	}
	defer w.finish()
	if w.err != nil {
		return 0, w.err
	}
	if consistentIndex <= w.begin.consistentIndex {
		return 0, fmt.Errorf("%w: %d <= %d", ErrStaleIndex, consistentIndex, w.begin.consistentIndex)
	}
	m := w.begin
	m.consistentIndex = consistentIndex
	m.rev = w.Rev()
	m.keys += w.keysDelta
	if err := m.valid(); err != nil {
		return 0, err
	}
	if err := w.batch.Set(w.l.meta, m.encode(), nil); err != nil {
		return 0, err
	}
	if err := w.closeIter(); err != nil {
		return 0, err
	}
	if err := w.batch.Commit(pebble.NoSync); err != nil {
		return 0, fmt.Errorf("mvcc: commit: %w", err)
	}
	w.s.mu.Lock()
	w.s.mu.meta.consistentIndex, w.s.mu.meta.rev, w.s.mu.meta.keys = m.consistentIndex, m.rev, m.keys
	w.s.mu.Unlock()
	for _, ev := range w.events { // in order: a key's last event wins
		if ev.Type == mvccpb.Event_PUT {
			w.s.latest.set(ev.Kv.Key, ev.Kv)
			if w.s.index.put(ev.Kv.Key) {
				w.s.log.Warn("more live keys than the key index holds: puts of new keys seek again until the next open or restore",
					"key_index_max_keys", w.s.opts.KeyIndexMaxKeys)
			}
		} else {
			w.s.latest.set(ev.Kv.Key, nil)
			w.s.index.remove(ev.Kv.Key)
		}
	}
	if len(w.events) > 0 && w.s.opts.OnCommit != nil {
		w.s.opts.OnCommit(m.rev, w.events)
	}
	w.s.metrics.writeSeconds.Observe(time.Since(w.start).Seconds())
	return m.rev, nil
}

// Abort discards the transaction. Aborting a finished transaction does
// nothing.
func (w *WriteTxn) Abort() {
	if !w.done {
		w.finish()
	}
}

// finish releases the batch and the writer lock.
func (w *WriteTxn) finish() {
	w.done = true
	if err := w.closeIter(); err != nil {
		w.s.log.Error("closing write iterator", "err", err)
	}
	if w.batch != nil {
		if err := w.batch.Close(); err != nil {
			w.s.log.Error("closing write batch", "err", err)
		}
	}
	w.s.writeMu.Unlock()
}

func (w *WriteTxn) closeIter() error {
	if w.it == nil {
		return nil
	}
	err := w.it.Close()
	w.it = nil
	return err
}

// iter implements iterSource over the batch and the DB; SetOptions
// refreshes the iterator's view of the batch.
func (w *WriteTxn) iter(lower, upper []byte) (*pebble.Iterator, error) {
	opts := &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
	if w.it == nil {
		it, err := w.batch.NewIter(opts)
		if err != nil {
			return nil, err
		}
		w.it = it
		return it, nil
	}
	w.it.SetOptions(opts)
	return w.it, nil
}

// observe times a call: defer observe(h)().
func observe(h interface{ Observe(float64) }) func() {
	start := time.Now()
	return func() { h.Observe(time.Since(start).Seconds()) }
}
