package commands

import (
	"container/list"
	"sync"
	"time"

	"github.com/cairndb/cairn/eventual/coord"
	"github.com/cairndb/cairn/eventual/object"
)

// session is a connection's state: its consistency levels and what it has
// seen of recently used keys.
//
// Session guarantees (read-your-writes, monotonic reads): the session keeps,
// for its SessionKeys most recently used keys, the merge of every state it
// wrote or read, and merges it into each later read of the key. A read
// therefore reflects everything the connection saw before, even at level ONE
// from a replica that is behind. A key pushed out of the window loses the
// guarantee; R + W > N keeps it regardless.
type session struct {
	read, write coord.Level
	seen        *seenCache
}

// seenCache is a bounded LRU of key → merged state seen. A connection's
// Concurrent commands use it at once, hence the lock.
type seenCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *seenEntry
	byKey map[string]*list.Element
}

type seenEntry struct {
	key string
	obj object.Object
}

func newSeenCache(max int) *seenCache {
	return &seenCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// merge adds what was seen of key (a write's delta or a read's state) and
// returns the key's merged session state.
func (c *seenCache) merge(key []byte, o object.Object) object.Object {
	if c == nil || c.max <= 0 {
		return o
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ent := c.find(key); ent != nil {
		ent.obj.Merge(o)
		return ent.obj.Clone()
	}
	c.insert(key, o.Clone())
	return o
}

// maxRemoveContext bounds the members or fields of the session state a
// remove carries (removeContext): a big set or hash the connection read
// would otherwise travel with, and be merged by, every remove.
const maxRemoveContext = 1024

// removeContext returns a copy of the state the connection has seen of
// key, for a remove to carry (coord.Op.Seen): the zero Object if it has
// seen nothing or the state is over maxRemoveContext elements (that remove
// then sees the applying replica and, above ONE, a read quorum).
func (c *seenCache) removeContext(key []byte) object.Object {
	if c == nil || c.max <= 0 {
		return object.Object{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ent := c.find(key)
	if ent == nil {
		return object.Object{}
	}
	o := ent.obj
	now := time.Now().UnixMilli()
	n := 0
	switch o.Kind(now) {
	case object.Set:
		n, _ = o.Card(now)
	case object.Hash:
		n, _ = o.HLen(now)
	}
	if n > maxRemoveContext {
		return object.Object{}
	}
	return o.Clone()
}

// keep is merge for a read's state, which it takes over instead of
// copying: o must be the caller's own and is not to be changed afterwards;
// the caller may read the result until its command ends. That is safe
// because the cache changes an entry only for a later use of its key by
// the same connection, and a connection runs the commands on one key in
// order (resp's Concurrent commands wait for earlier ones on their keys).
// A command that reads a key and then writes it (GETSET) must be done with
// what it read before it writes.
func (c *seenCache) keep(key []byte, o object.Object) object.Object {
	if c == nil || c.max <= 0 {
		return o
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ent := c.find(key); ent != nil {
		o.Merge(ent.obj)
		ent.obj = o
		return o
	}
	c.insert(key, o)
	return o
}

// find returns key's entry, now the most recently used, or nil. The caller
// holds c.mu.
func (c *seenCache) find(key []byte) *seenEntry {
	e, ok := c.byKey[string(key)]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*seenEntry)
}

// insert adds a key not in the cache, evicting the least recently used
// one beyond max. The caller holds c.mu.
func (c *seenCache) insert(key []byte, o object.Object) {
	ent := &seenEntry{key: string(key), obj: o}
	c.byKey[ent.key] = c.order.PushFront(ent)
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*seenEntry).key)
	}
}
