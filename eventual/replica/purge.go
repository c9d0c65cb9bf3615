package replica

import (
	"bytes"
	"fmt"

	"github.com/cairndb/cairn/ring"
)

// Purge deletes key's Object if its encoding is still exactly expected
// (what the caller checked on every replica), and reports whether it did.
// A write that changed the key since then makes it keep the key: tombstone
// collection never races a concurrent write.
func (s *Store) Purge(key, expected []byte) (bool, error) {
	t := ring.HashKey(key)
	pk := objectKey(nil, t, key)
	mu := s.stripe(t)
	mu.Lock()
	defer mu.Unlock()
	_, before, err := s.get(key, pk, true)
	if err != nil {
		return false, err
	}
	if before == nil || !bytes.Equal(before, expected) {
		return false, nil
	}
	var done func(key, before, after []byte, ok bool)
	if s.cfg.Observer != nil {
		done = s.cfg.Observer.BeginWrite(t)
	}
	err = s.db.Delete(pk, s.writeOp)
	s.cache.drop(key)
	if err == nil {
		s.index.remove(pk)
	}
	if done != nil {
		done(key, before, nil, err == nil)
	}
	if err != nil {
		s.m.errors.WithLabelValues("write").Inc()
		return false, fmt.Errorf("replica: purge: %w", err)
	}
	s.m.writes.WithLabelValues("purge").Inc()
	return true, nil
}
