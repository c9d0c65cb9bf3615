package replica

import (
	"hash/maphash"
	"sync"
)

// objectCache keeps the encodings of recently written and read objects, so
// that a write to a hot key skips Pebble's read path (a memtable seek under
// heavy writes, an sstable read otherwise). It is sharded, each shard a map
// with FIFO eviction under a byte budget. Entries are updated under the
// key's stripe lock by every write, so the cache never holds a stale state;
// a read outside the lock may race a write exactly as a Pebble read would.
type objectCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	budget int // bytes per shard
}

const cacheShards = 64

type cacheShard struct {
	mu    sync.Mutex
	m     map[string][]byte
	fifo  []string // insertion order, for eviction
	head  int
	bytes int
}

func newObjectCache(totalBytes int) *objectCache {
	c := &objectCache{seed: maphash.MakeSeed(), budget: totalBytes / cacheShards}
	for i := range c.shards {
		c.shards[i].m = map[string][]byte{}
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
	v, ok := s.m[string(key)]
	s.mu.Unlock()
	return v, ok
}

// put caches enc (which the cache keeps: the caller must not modify it) as
// key's encoding; a nil enc records that the key has no object.
func (c *objectCache) put(key, enc []byte) {
	if c == nil || len(key)+len(enc) > c.budget/8 {
		if c != nil {
			c.drop(key)
		}
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[string(key)]; ok {
		s.bytes += len(enc) - len(old)
		s.m[string(key)] = enc
	} else {
		k := string(key)
		s.m[k] = enc
		s.fifo = append(s.fifo, k)
		s.bytes += len(k) + len(enc) + 64
	}
	for s.bytes > c.budget && s.head < len(s.fifo) {
		k := s.fifo[s.head]
		s.fifo[s.head] = ""
		s.head++
		if v, ok := s.m[k]; ok {
			s.bytes -= len(k) + len(v) + 64
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
	s := c.shard(key)
	s.mu.Lock()
	if v, ok := s.m[string(key)]; ok {
		s.bytes -= len(key) + len(v) + 64
		delete(s.m, string(key))
	}
	s.mu.Unlock()
}
