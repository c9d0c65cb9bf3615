package replica

import (
	"hash/maphash"
	"sync"

	"github.com/cairndb/cairn/eventual/object"
)

// objectCache keeps the encodings of recently written and read objects, so
// that a write to a hot key skips Pebble's read path (a memtable seek under
// heavy writes, an sstable read otherwise), and, after a write, the decoded
// state too, so that the next write of the key skips the decode. It is
// sharded, each shard a map with FIFO eviction under a byte budget.
// Entries are updated under the key's stripe lock by every write, so the
// cache never holds a stale state; a read outside the lock may race a
// write exactly as a Pebble read would.
//
// A decoded state is handed to one writer at a time (take): the writer
// changes it in place, so the cache forgets it until the writer puts the
// new state back; readers copy it under the shard's lock (getObject).
type objectCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	budget int // bytes per shard
}

// cacheShards is few enough that a shard's budget (an eighth of a 128 MiB
// cache: 8 MiB) holds the decoded state of a hot big set or hash: one
// that is not cached is read and decoded again by every write to it.
const cacheShards = 16

// entryOverhead is charged per entry beside its key and encoding.
const entryOverhead = 64

// decodedCost is the heap a decoded state takes, charged beside its
// encoding: measured, about 1 KiB for a small string and ten times the
// encoding for a set of 6,000 members (maps of members to dots).
func decodedCost(enc []byte) int { return 512 + 10*len(enc) }

type cacheShard struct {
	mu    sync.Mutex
	m     map[string]*cacheEntry
	fifo  []string // insertion order, for eviction
	head  int
	bytes int
}

type cacheEntry struct {
	enc     []byte
	obj     object.Object // enc decoded, when decoded is set
	decoded bool
	cost    int // bytes charged to the shard
}

func newObjectCache(totalBytes int) *objectCache {
	c := &objectCache{seed: maphash.MakeSeed(), budget: totalBytes / cacheShards}
	for i := range c.shards {
		c.shards[i].m = map[string]*cacheEntry{}
	}
	return c
}

func (c *objectCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the cached encoding of key (owned by the cache: do not
// modify), and whether there was one.
func (c *objectCache) get(key []byte) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	s := c.shard(key)
	s.mu.Lock()
	e, ok := s.m[string(key)]
	var v []byte
	if ok {
		v = e.enc
	}
	s.mu.Unlock()
	return v, ok
}

// getObject returns a copy of key's cached decoded state, if there is one.
func (c *objectCache) getObject(key []byte) (object.Object, bool) {
	if c == nil {
		return object.Object{}, false
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[string(key)]; ok && e.decoded {
		return e.obj.Clone(), true
	}
	return object.Object{}, false
}

// take returns key's cached encoding and, if it has one, its decoded
// state, which it hands over to the caller: the cache keeps only the
// encoding until the next put. The caller holds the key's stripe lock.
func (c *objectCache) take(key []byte) (enc []byte, o object.Object, decoded, ok bool) {
	if c == nil {
		return nil, object.Object{}, false, false
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[string(key)]
	if !ok {
		return nil, object.Object{}, false, false
	}
	enc, o, decoded = e.enc, e.obj, e.decoded
	if decoded {
		e.obj, e.decoded = object.Object{}, false
		s.bytes -= decodedCost(e.enc)
		e.cost -= decodedCost(e.enc)
	}
	return enc, o, decoded, true
}

// put caches enc (which the cache keeps: the caller must not modify it) as
// key's encoding.
func (c *objectCache) put(key, enc []byte) { c.store(key, enc, object.Object{}, false) }

// putDecoded caches enc and o, its decoded state, which the cache keeps:
// the caller must not use o afterwards.
func (c *objectCache) putDecoded(key, enc []byte, o object.Object) { c.store(key, enc, o, true) }

func (c *objectCache) store(key, enc []byte, o object.Object, decoded bool) {
	if c == nil {
		return
	}
	cost := len(key) + len(enc) + entryOverhead
	if decoded {
		if withObj := cost + decodedCost(enc); withObj <= c.budget/2 {
			cost = withObj
		} else {
			o, decoded = object.Object{}, false // keep the encoding alone
		}
	}
	if cost > c.budget/2 { // it would evict most of its shard
		c.drop(key)
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[string(key)]; ok {
		s.bytes += cost - e.cost
		e.enc, e.obj, e.decoded, e.cost = enc, o, decoded, cost
	} else {
		k := string(key)
		s.m[k] = &cacheEntry{enc: enc, obj: o, decoded: decoded, cost: cost}
		s.fifo = append(s.fifo, k)
		s.bytes += cost
	}
	for s.bytes > c.budget && s.head < len(s.fifo) {
		k := s.fifo[s.head]
		s.fifo[s.head] = ""
		s.head++
		if e, ok := s.m[k]; ok {
			s.bytes -= e.cost
			delete(s.m, k)
		}
	}
	if s.head > 1024 && s.head*2 > len(s.fifo) { // compact the order
		s.fifo = append(s.fifo[:0], s.fifo[s.head:]...)
		s.head = 0
	}
}

// drop forgets key.
func (c *objectCache) drop(key []byte) {
	if c == nil {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if e, ok := s.m[string(key)]; ok {
		s.bytes -= e.cost
		delete(s.m, string(key))
	}
	s.mu.Unlock()
}
