package mvcc

import (
	"container/list"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// latestCache remembers the newest record of recently written keys, so
// that a Put, which must know the key's previous version, does not seek
// the LSM for it (that seek was a fifth of a leader's CPU under a put
// load). It is filled from committed transactions only and used by the
// writer only, under Store.writeMu, so it needs no lock of its own.
//
// Correctness rests on three facts: every change to a key's newest record
// goes through a WriteTxn (whose End updates the cache) or Restore (which
// clears it); compaction never removes a key's newest live record, and a
// tombstone it removes meant "absent", which the cache says too; and the
// cached KeyValues are shared read-only, like the events.
type latestCache struct {
	maxBytes int
	bytes    int
	order    *list.List // front: most recently used
	entries  map[string]*list.Element
}

type latestEntry struct {
	key  string
	kv   *mvccpb.KeyValue // nil: the key does not exist
	size int
}

// entryOverhead approximates the bookkeeping of one cached key in bytes.
const entryOverhead = 96

func newLatestCache(maxBytes int) *latestCache {
	return &latestCache{maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the newest record of key (nil if absent) and whether the
// cache knows it.
func (c *latestCache) get(key []byte) (*mvccpb.KeyValue, bool) {
	if c.maxBytes == 0 {
		return nil, false
	}
	e, ok := c.entries[string(key)]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*latestEntry).kv, true
}

// set records key's newest record (nil: deleted), evicting the least
// recently used keys past maxBytes.
func (c *latestCache) set(key []byte, kv *mvccpb.KeyValue) {
	if c.maxBytes == 0 {
		return
	}
	size := entryOverhead + 2*len(key)
	if kv != nil {
		size += len(kv.Value)
	}
	if size > c.maxBytes/8 {
		c.remove(string(key)) // too big to be worth the room
		return
	}
	if e, ok := c.entries[string(key)]; ok {
		le := e.Value.(*latestEntry)
		c.bytes += size - le.size
		le.kv, le.size = kv, size
		c.order.MoveToFront(e)
	} else {
		k := string(key)
		c.entries[k] = c.order.PushFront(&latestEntry{key: k, kv: kv, size: size})
		c.bytes += size
	}
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back().Value.(*latestEntry).key)
	}
}

func (c *latestCache) remove(key string) {
	if e, ok := c.entries[key]; ok {
		c.bytes -= e.Value.(*latestEntry).size
		c.order.Remove(e)
		delete(c.entries, key)
	}
}

// clear forgets everything (after Restore).
func (c *latestCache) clear() {
	c.order.Init()
	clear(c.entries)
	c.bytes = 0
}
