package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// keyIndex is the set of every object key (Pebble key) the store holds,
// kept in memory so that a write to a key the store has never seen knows
// it without a Pebble Get. That negative lookup searched every memtable
// and was a quarter of a member's CPU under a SET load of new keys; the
// object cache cannot answer it because it forgets.
//
// The index errs only one way: it may hold a key Pebble does not (a key
// is added before its write and removed after its purge), never the
// reverse, so "absent" is always true. It is built by a scan at Open and
// stops being used for good (until the next Open) once it would pass its
// limit, releasing its memory. Its shards have their own locks, so reads
// that do not hold a key's stripe lock may use it too.
type keyIndex struct {
	max      int64
	complete atomic.Bool
	count    atomic.Int64
	shards   [keyIndexShards]keyIndexShard
}

type keyIndexShard struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// keyIndexShards spreads the index's lock over shards picked by token.
const keyIndexShards = 64

// DefaultMaxIndexedKeys is Config.MaxIndexedKeys's default: about 70 bytes
// plus the key's length each, so well under a GiB for 8 million keys.
const DefaultMaxIndexedKeys = 8 << 20

// newKeyIndex builds the index of db's object keys, or returns an unused
// one when there are more than max (or max is not positive).
func newKeyIndex(db *pebble.DB, max int) (*keyIndex, error) {
	unused := &keyIndex{max: int64(max)}
	if max <= 0 {
		return unused, nil
	}
	x := &keyIndex{max: int64(max)}
	for i := range x.shards {
		x.shards[i].keys = map[string]struct{}{}
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefixObject), UpperBound: prefixEnd(prefixObject)})
	if err != nil {
		return nil, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if x.count.Load() >= x.max {
			return unused, it.Close()
		}
		x.addLocked(it.Key())
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("replica: scanning the object keys: %w", err)
	}
	x.complete.Store(true)
	return x, nil
}

func (x *keyIndex) shard(pk []byte) *keyIndexShard {
	// The token after the prefix is a hash of the key.
	t := binary.BigEndian.Uint64(pk[len(prefixObject):])
	return &x.shards[t%keyIndexShards]
}

// absent reports whether the index knows that pk is not stored.
func (x *keyIndex) absent(pk []byte) bool {
	if !x.complete.Load() {
		return false
	}
	sh := x.shard(pk)
	sh.mu.Lock()
	_, held := sh.keys[string(pk)]
	sh.mu.Unlock()
	// Checked again: a writer that found the index full dropped it before
	// writing its key.
	return !held && x.complete.Load()
}

// add records pk; call it before writing pk. It reports whether this call
// found the index full and released it.
func (x *keyIndex) add(pk []byte) (released bool) {
	if !x.complete.Load() {
		return false
	}
	sh := x.shard(pk)
	sh.mu.Lock()
	if _, held := sh.keys[string(pk)]; held || !x.complete.Load() {
		sh.mu.Unlock()
		return false
	}
	if x.count.Load() >= x.max {
		sh.mu.Unlock()
		return x.release()
	}
	sh.keys[string(pk)] = struct{}{}
	x.count.Add(1)
	sh.mu.Unlock()
	return false
}

// release stops using the index for good (until the next Open) and frees
// its maps, one shard at a time. It reports whether this call did it.
func (x *keyIndex) release() bool {
	if !x.complete.Swap(false) {
		return false // another writer is releasing it
	}
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		sh.keys = nil
		sh.mu.Unlock()
	}
	x.count.Store(0)
	return true
}

// addLocked records pk while nothing else uses the index (Open).
func (x *keyIndex) addLocked(pk []byte) {
	x.shard(pk).keys[string(pk)] = struct{}{}
	x.count.Add(1)
}

// remove forgets pk; call it after pk was deleted.
func (x *keyIndex) remove(pk []byte) {
	if !x.complete.Load() {
		return
	}
	sh := x.shard(pk)
	sh.mu.Lock()
	if _, held := sh.keys[string(pk)]; held {
		delete(sh.keys, string(pk))
		x.count.Add(-1)
	}
	sh.mu.Unlock()
}

// size is the number of keys indexed (0 when the index is not used).
func (x *keyIndex) size() int64 {
	if !x.complete.Load() {
		return 0
	}
	return x.count.Load()
}
