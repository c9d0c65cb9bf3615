package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2"
)

// What a new replica needs to take over the Paxos acceptor of a range:
// a scan of the acceptor states other replicas hold, a merge of each into
// its own, and a durable record of the ranges it has caught up on.

// metaAcceptorRanges records the token ranges whose acceptor states this
// store has caught up on (see SetAcceptorRanges).
var metaAcceptorRanges = []byte(prefixMeta + "acceptor-ranges")

// maxAcceptorRanges bounds the record (a ring of 9 members with 256
// virtual nodes each has about 2,300 arcs).
const maxAcceptorRanges = 1 << 16

// ScanPaxos calls fn with every key's encoded acceptor state whose key
// sorts after the key after (nil: from the first), in key order, until fn
// returns false. The slices are valid only during the call. It reads a
// consistent snapshot.
func (s *Store) ScanPaxos(after []byte, fn func(key, state []byte) bool) error {
	lower := []byte(prefixPaxos)
	if after != nil {
		lower = append(append(lower, after...), 0) // the next key after it
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(prefixPaxos)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if !fn(it.Key()[len(prefixPaxos):], it.Value()) {
			break
		}
	}
	return it.Close()
}

// SyncPaxos makes every acceptor state written before it durable, whatever
// the store's Sync mode: an acceptor's state is a promise to others.
func (s *Store) SyncPaxos() error {
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		s.m.errors.WithLabelValues("sync").Inc()
		return fmt.Errorf("replica: sync: %w", err)
	}
	return nil
}

// AcceptorRanges returns the ranges recorded by SetAcceptorRanges, and
// false if nothing was ever recorded (a new store).
func (s *Store) AcceptorRanges() ([]ring.TokenRange, bool, error) {
	v, closer, err := s.db.Get(metaAcceptorRanges)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	out, err := decodeRanges(v)
	if err != nil {
		return nil, false, fmt.Errorf("replica: acceptor ranges: %w", err)
	}
	return out, true, nil
}

// SetAcceptorRanges durably records the token ranges whose acceptor states
// this store has caught up on. The record outlives restarts, so that a
// restarted node knows which ranges it may answer Paxos for at once.
func (s *Store) SetAcceptorRanges(rs []ring.TokenRange) error {
	if len(rs) > maxAcceptorRanges {
		return fmt.Errorf("replica: %d acceptor ranges, at most %d", len(rs), maxAcceptorRanges)
	}
	b := make([]byte, 0, 4+16*len(rs))
	b = binary.BigEndian.AppendUint32(b, uint32(len(rs)))
	for _, r := range rs {
		b = binary.BigEndian.AppendUint64(b, uint64(r.Start))
		b = binary.BigEndian.AppendUint64(b, uint64(r.End))
	}
	return s.db.Set(metaAcceptorRanges, b, pebble.Sync)
}

func decodeRanges(b []byte) ([]ring.TokenRange, error) {
	if len(b) < 4 {
		return nil, errors.New("truncated")
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if n > maxAcceptorRanges || uint64(len(b)) != 16*uint64(n) {
		return nil, fmt.Errorf("%d ranges in %d bytes", n, len(b))
	}
	out := make([]ring.TokenRange, n)
	for i := range out {
		out[i].Start = ring.Token(binary.BigEndian.Uint64(b))
		out[i].End = ring.Token(binary.BigEndian.Uint64(b[8:]))
		b = b[16:]
	}
	return out, nil
}
