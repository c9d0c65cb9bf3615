package mvcc

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// keyIndex is the set of every live key (a key whose newest record is a
// put), kept in memory as etcd keeps its whole key index, so that a Put of
// a key that does not exist knows it without seeking the LSM. That
// negative seek went through every memtable and level and was a seventh of
// a leader's CPU (a third of a follower's) under a put load of new keys;
// the latest-record cache cannot answer it because it forgets.
//
// The set is complete or it is not used: it is built by a scan at Open and
// after Restore, kept by WriteTxn.End, and dropped (complete false) when it
// would pass Options.KeyIndexMaxKeys or a scan fails; then every miss of
// the latest-record cache seeks, as before. Like the cache it is used by
// the writer only, under Store.writeMu. Compaction never changes which
// keys are live.
type keyIndex struct {
	maxKeys  int
	complete bool
	keys     map[string]struct{}
	// size mirrors len(keys) for the metrics scrape, which does not hold
	// writeMu.
	size atomic.Int64
}

func newKeyIndex(maxKeys int) *keyIndex {
	return &keyIndex{maxKeys: maxKeys}
}

// absent reports whether the index knows that key has no live record.
func (x *keyIndex) absent(key []byte) bool {
	if !x.complete {
		return false
	}
	_, live := x.keys[string(key)]
	return !live
}

// put records that key is live. It reports whether this call found the
// index full and dropped it.
func (x *keyIndex) put(key []byte) (dropped bool) {
	if !x.complete {
		return false
	}
	if _, ok := x.keys[string(key)]; ok {
		return false
	}
	if len(x.keys) >= x.maxKeys {
		x.drop()
		return true
	}
	x.keys[string(key)] = struct{}{}
	x.size.Store(int64(len(x.keys)))
	return false
}

// remove records that key was deleted.
func (x *keyIndex) remove(key []byte) {
	if !x.complete {
		return
	}
	delete(x.keys, string(key))
	x.size.Store(int64(len(x.keys)))
}

// drop stops using the index until the next rebuild.
func (x *keyIndex) drop() {
	x.complete = false
	x.keys = nil
	x.size.Store(0)
}

// errTooManyKeys stops a rebuild that passed the limit.
var errTooManyKeys = errors.New("mvcc: more live keys than the key index holds")

// rebuild fills the index from layout l's KV records: one seek per key to
// its newest record. With maxKeys 0, or when the store holds more live
// keys than maxKeys, the index stays unused and rebuild returns nil; other
// errors leave it unused too.
func (x *keyIndex) rebuild(db *pebble.DB, l layout) error {
	x.drop()
	if x.maxKeys == 0 {
		return nil
	}
	keys, err := scanLiveKeys(db, l, x.maxKeys)
	if errors.Is(err, errTooManyKeys) {
		return nil
	}
	if err != nil {
		return err
	}
	x.keys, x.complete = keys, true
	x.size.Store(int64(len(keys)))
	return nil
}

// scanLiveKeys returns the user keys of l whose newest record is a put,
// or errTooManyKeys past limit.
func scanLiveKeys(db *pebble.DB, l layout, limit int) (map[string]struct{}, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: l.kLower, UpperBound: l.kUpper})
	if err != nil {
		return nil, err
	}
	keys := map[string]struct{}{}
	var user []byte
	for valid := it.First(); valid; {
		rk, err := splitRecordKey(it.Key())
		if err != nil {
			return nil, errors.Join(err, it.Close())
		}
		if rk.kind == kindPut {
			if len(keys) >= limit {
				return nil, errors.Join(errTooManyKeys, it.Close())
			}
			if user, err = appendUnescaped(user[:0], rk.prefix[len(l.kLower):]); err != nil {
				return nil, errors.Join(err, it.Close())
			}
			keys[string(user)] = struct{}{}
		}
		// The newest record sorts first; skip the key's older ones.
		valid = it.SeekGE(prefixSuccessor(rk.prefix))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("mvcc: scanning the live keys: %w", err)
	}
	return keys, nil
}
