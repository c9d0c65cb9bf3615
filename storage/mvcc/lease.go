package mvcc

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// KeysWithLease returns the live keys attached to lease at the current
// revision, sorted, from the lease index that every write maintains: what
// revoking the lease must delete.
func (s *Store) KeysWithLease(lease int64) (keys [][]byte, err error) {
	err = s.scanLeases(lease, func(_ int64, key []byte) error {
		keys = append(keys, bytes.Clone(key))
		return nil
	})
	return keys, err
}

// ForEachLeasedKey calls fn for every live key attached to a lease at the
// current revision, ordered by lease then key, stopping at fn's first
// error: how a node rebuilds its lessor's attachments after a restart or a
// Restore. key is valid only during the call.
func (s *Store) ForEachLeasedKey(fn func(lease int64, key []byte) error) error {
	return s.scanLeases(0, fn)
}

// scanLeases walks the lease index: one lease's records, or all when lease
// is 0.
func (s *Store) scanLeases(lease int64, fn func(lease int64, key []byte) error) (err error) {
	s.mu.RLock()
	l, closed := s.mu.layout, s.mu.closed
	lower, upper := l.lLower, l.lUpper
	if lease != 0 {
		lower, upper = l.leasePrefix(lease), l.leasePrefix(lease+1)
		if lease == -1 {
			upper = l.lUpper // -1 is the largest lease as an unsigned key
		}
	}
	var it *pebble.Iterator
	if !closed {
		it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	}
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if err != nil {
		return err
	}
	defer closeIter(it, &err)
	for valid := it.First(); valid; valid = it.Next() {
		id, key, err := l.decodeLeaseKey(it.Key())
		if err != nil {
			return err
		}
		if err := fn(id, key); err != nil {
			return err
		}
	}
	return it.Error()
}
