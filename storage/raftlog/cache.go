package raftlog

import "github.com/cairndb/cairn/raft/raftpb"

// tailCache holds the newest entries of the log in memory.
//
// Invariants: ents have consecutive indexes; when not empty the last one is
// the log's last entry (the Storage keeps this on every change); bytes is the
// sum of Entry.Size over ents and at most maxBytes.
type tailCache struct {
	ents     []raftpb.Entry
	bytes    uint64
	maxBytes uint64
}

// firstIndex is the index of the oldest cached entry, or 0 if empty.
func (c *tailCache) firstIndex() uint64 {
	if len(c.ents) == 0 {
		return 0
	}
	return c.ents[0].Index
}

// get returns the cached entry at index i.
func (c *tailCache) get(i uint64) (raftpb.Entry, bool) {
	first := c.firstIndex()
	if len(c.ents) == 0 || i < first || i-first >= uint64(len(c.ents)) {
		return raftpb.Entry{}, false
	}
	return c.ents[i-first], true
}

// appendRange appends copies of the cached entries [lo, hi) to out, as long
// as lim accepts them. The caller checked that [lo, hi) is cached.
func (c *tailCache) appendRange(out []raftpb.Entry, lo, hi uint64, lim *sizeLimit) []raftpb.Entry {
	first := c.firstIndex()
	for _, e := range c.ents[lo-first : hi-first] {
		if !lim.admit(e) {
			break
		}
		out = append(out, e)
	}
	return out
}

// put adds entries that were just made durable: cached entries at their
// indexes or later are replaced (a conflicting suffix), and the oldest
// entries are evicted to stay within maxBytes. ents must be contiguous and
// start at most one past the cache's last entry.
func (c *tailCache) put(ents []raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	first := ents[0].Index
	switch {
	case len(c.ents) == 0:
	case first <= c.firstIndex():
		c.reset()
	default:
		c.truncateFrom(first)
	}
	for _, e := range ents {
		c.ents = append(c.ents, e)
		c.bytes += e.Size()
	}
	c.evictTo(c.maxBytes)
}

// truncateFrom drops cached entries at index i and later.
func (c *tailCache) truncateFrom(i uint64) {
	first := c.firstIndex()
	if len(c.ents) == 0 || i-first >= uint64(len(c.ents)) {
		return
	}
	keep := int(i - first)
	for j := keep; j < len(c.ents); j++ {
		c.bytes -= c.ents[j].Size()
		c.ents[j] = raftpb.Entry{} // let the payload go
	}
	c.ents = c.ents[:keep]
}

// dropThrough drops cached entries at index i and before (compaction).
func (c *tailCache) dropThrough(i uint64) {
	n := 0
	for n < len(c.ents) && c.ents[n].Index <= i {
		n++
	}
	c.dropFront(n)
}

// evictTo drops the oldest entries until bytes <= max.
func (c *tailCache) evictTo(max uint64) {
	n := 0
	for b := c.bytes; b > max && n < len(c.ents); n++ {
		b -= c.ents[n].Size()
	}
	c.dropFront(n)
}

func (c *tailCache) dropFront(n int) {
	for j := range n {
		c.bytes -= c.ents[j].Size()
		// Zeroed so the payload is collectable although the backing array
		// lives on until the next append reallocates it.
		c.ents[j] = raftpb.Entry{}
	}
	c.ents = c.ents[n:]
	if len(c.ents) == 0 {
		c.ents = nil
	}
}

func (c *tailCache) reset() {
	c.ents, c.bytes = nil, 0
}

// sizeLimit implements the maxSize rule of Storage.Entries: entries are
// taken while their total Size stays within max, but the first one always.
type sizeLimit struct {
	max   uint64
	total uint64
	n     int
}

// admit reports whether e may be added, and counts it if so.
func (l *sizeLimit) admit(e raftpb.Entry) bool {
	s := e.Size()
	if l.n > 0 && (l.total+s > l.max || l.total+s < l.total) {
		return false
	}
	l.total += s
	l.n++
	return true
}
