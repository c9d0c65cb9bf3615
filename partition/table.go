package partition

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors returned by New, Split and Merge. Each is wrapped with the
// offending key or IDs; test for them with errors.Is.
var (
	// ErrBoundary: the split key is already the start of a range (the
	// empty key always is), so it is not strictly inside one.
	ErrBoundary = errors.New("partition: split key is a range boundary")
	// ErrKeyTooLarge: the split key is longer than Config.MaxKeySize.
	ErrKeyTooLarge = errors.New("partition: split key too large")
	// ErrTooManyRanges: the table already has Config.MaxRanges ranges.
	ErrTooManyRanges = errors.New("partition: too many ranges")
	// ErrRangeNotFound: no current range has the given ID (it never
	// existed, or a split or merge retired it).
	ErrRangeNotFound = errors.New("partition: range not found")
	// ErrNotAdjacent: Merge was given ranges that are not left and right
	// neighbours, in that order.
	ErrNotAdjacent = errors.New("partition: ranges not adjacent")
)

// Table is a set of ranges that cover the whole keyspace of byte strings,
// without gaps or overlaps: the first starts at the empty key, each starts
// where the previous ends, and the last is unbounded.
//
// Reads (Lookup, Ranges, SuggestSplits) take no table lock: the table
// publishes an immutable snapshot of its ranges through an atomic pointer,
// and each change (Split, Merge) copies it under a mutex and publishes the
// copy (copy-on-write). Lookup is on every request's path; a sync.RWMutex
// would make every reader write the lock's shared counter, which
// serialises cores on one cache line, while splits and merges are rare and
// bounded by MaxRanges. The load counters live in the Range values, which
// the snapshots share, so a change does not reset the ranges it leaves
// alone.
type Table struct {
	cfg   Config
	decay float64
	snap  atomic.Pointer[snapshot]
	mu    struct {
		sync.Mutex
		// nextID is the ID the next new range gets.
		nextID RangeID
	}
}

// snapshot is an immutable view of the ranges: sorted by start, starts[i]
// == ranges[i].start (kept apart so that a search reads one array),
// starts[0] is empty, and ranges[i].end == ranges[i+1].start.
type snapshot struct {
	ranges []*Range
	starts [][]byte
}

// New returns a table under cfg whose ranges start at the empty key and at
// each of splitKeys (in any order), with IDs 1, 2, ... in key order. With
// no split keys it has one range covering every key.
func New(cfg Config, splitKeys [][]byte) (*Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(splitKeys)+1 > cfg.MaxRanges {
		return nil, fmt.Errorf("%w: %d split keys, MaxRanges = %d", ErrTooManyRanges, len(splitKeys), cfg.MaxRanges)
	}
	keys := make([][]byte, 0, len(splitKeys)+1)
	keys = append(keys, []byte{})
	for _, k := range splitKeys {
		if len(k) > cfg.MaxKeySize {
			return nil, fmt.Errorf("%w: %d bytes, MaxKeySize = %d", ErrKeyTooLarge, len(k), cfg.MaxKeySize)
		}
		keys = append(keys, bytes.Clone(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	s := &snapshot{ranges: make([]*Range, len(keys)), starts: keys}
	for i, k := range keys {
		if i > 0 && bytes.Equal(keys[i-1], k) {
			return nil, fmt.Errorf("%w: %q given twice or empty", ErrBoundary, k)
		}
		var end []byte
		if i+1 < len(keys) {
			end = keys[i+1]
		}
		s.ranges[i] = newRange(RangeID(i+1), k, end)
	}
	t := &Table{cfg: cfg, decay: cfg.decay()}
	t.mu.nextID = RangeID(len(keys) + 1)
	t.snap.Store(s)
	return t, nil
}

// Config returns the table's configuration.
func (t *Table) Config() Config { return t.cfg }

// Lookup returns the range that contains key. It never fails: the ranges
// cover every key.
func (t *Table) Lookup(key []byte) *Range {
	s := t.snap.Load()
	return s.ranges[s.search(key)]
}

// search returns the index of the range containing key: the last start <=
// key. starts[0] is empty, so there is one.
func (s *snapshot) search(key []byte) int {
	lo, hi := 1, len(s.starts) // the answer is lo-1 once lo == hi
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(s.starts[m], key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// Len returns the number of ranges.
func (t *Table) Len() int { return len(t.snap.Load().ranges) }

// Ranges returns the current ranges in key order (a copy of the index:
// O(ranges)).
func (t *Table) Ranges() []*Range { return slices.Clone(t.snap.Load().ranges) }

// Split divides the range containing at into [Start, at) and [at, End),
// retiring it, and returns the two new ranges. at must be strictly inside a
// range (not the start of one, so never empty) and at most MaxKeySize
// bytes, and the table must have fewer than MaxRanges ranges. The new
// ranges start with no load. Split copies at.
func (t *Table) Split(at []byte) (left, right *Range, err error) {
	if len(at) > t.cfg.MaxKeySize {
		return nil, nil, fmt.Errorf("%w: %d bytes, MaxKeySize = %d", ErrKeyTooLarge, len(at), t.cfg.MaxKeySize)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.snap.Load()
	i := s.search(at)
	old := s.ranges[i]
	if bytes.Equal(old.start, at) {
		return nil, nil, fmt.Errorf("%w: %q starts %v", ErrBoundary, at, old)
	}
	if len(s.ranges) >= t.cfg.MaxRanges {
		return nil, nil, fmt.Errorf("%w: MaxRanges = %d", ErrTooManyRanges, t.cfg.MaxRanges)
	}
	key := bytes.Clone(at)
	left = newRange(t.mu.nextID, old.start, key)
	right = newRange(t.mu.nextID+1, key, old.end)
	t.mu.nextID += 2
	t.publishLocked(s, i, 1, left, right)
	return left, right, nil
}

// Merge joins the range leftID with its right neighbour rightID into one
// new range, retiring both, and returns it. The new range starts with the
// sum of their loads.
func (t *Table) Merge(leftID, rightID RangeID) (*Range, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.snap.Load()
	i := slices.IndexFunc(s.ranges, func(r *Range) bool { return r.id == leftID })
	j := slices.IndexFunc(s.ranges, func(r *Range) bool { return r.id == rightID })
	switch {
	case i < 0:
		return nil, fmt.Errorf("%w: r%d", ErrRangeNotFound, leftID)
	case j < 0:
		return nil, fmt.Errorf("%w: r%d", ErrRangeNotFound, rightID)
	case j != i+1:
		return nil, fmt.Errorf("%w: %v and %v", ErrNotAdjacent, s.ranges[i], s.ranges[j])
	}
	left, right := s.ranges[i], s.ranges[j]
	merged := newRange(t.mu.nextID, left.start, right.end)
	t.mu.nextID++
	merged.load.inherit(&left.load)
	merged.load.inherit(&right.load)
	t.publishLocked(s, i, 2, merged)
	return merged, nil
}

// publishLocked publishes a copy of s with the n ranges from index i
// replaced by repl, and stops the samplers of the replaced ranges (so that
// at most MaxSampledRanges samplers exist, and stale Records stay cheap).
func (t *Table) publishLocked(s *snapshot, i, n int, repl ...*Range) {
	for _, r := range s.ranges[i : i+n] {
		r.load.finder.Store(nil)
	}
	next := &snapshot{
		ranges: make([]*Range, 0, len(s.ranges)-n+len(repl)),
		starts: make([][]byte, 0, len(s.ranges)-n+len(repl)),
	}
	next.ranges = append(append(append(next.ranges, s.ranges[:i]...), repl...), s.ranges[i+n:]...)
	for _, r := range next.ranges {
		next.starts = append(next.starts, r.start)
	}
	t.snap.Store(next)
}
