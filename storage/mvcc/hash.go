package mvcc

import (
	"bytes"
	"hash/crc32"

	"github.com/cockroachdb/pebble/v2"
)

// castagnoli is the CRC-32C table of HashKV and snapshot streams.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// KVHash is the result of HashKV.
type KVHash struct {
	// Hash is a CRC-32C over the KV records up to Revision that survive
	// compaction at CompactRevision.
	Hash uint32
	// Revision is the revision hashed up to.
	Revision int64
	// CompactRevision is the store's compaction revision.
	CompactRevision int64
}

// HashKV hashes the history up to rev (0: the current revision), like
// etcd's HashKV: two replicas that applied the same entries return the
// same hash for the same rev, whatever the progress of their physical
// compactions, so a mismatch means divergence. The hash covers each
// record's key (relative to the generation, so a restored replica hashes
// the same) and value, in key order; records that compaction at
// CompactRevision drops are skipped whether or not they are deleted yet.
//
// Errors as etcd's: ErrCompacted when 0 < rev <= CompactRev(),
// ErrFutureRev when rev > Rev().
func (s *Store) HashKV(rev int64) (h KVHash, err error) {
	s.mu.RLock()
	l, m := s.mu.layout, s.mu.meta
	var it *pebble.Iterator
	switch {
	case s.mu.closed:
		err = ErrClosed
	case rev > 0 && rev <= m.compactRev:
		err = ErrCompacted
	case rev > m.rev:
		err = ErrFutureRev
	default:
		it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: l.kLower, UpperBound: l.kUpper})
	}
	s.mu.RUnlock()
	if err != nil {
		return KVHash{CompactRevision: m.compactRev}, err
	}
	defer closeIter(it, &err)
	if rev == 0 {
		rev = m.rev
	}
	crc := crc32.New(castagnoli)
	// cur is the user key being walked; keptOld says whether its newest
	// record at or below the compaction was seen already.
	var cur []byte
	keptOld := false
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		rk, err := splitRecordKey(k)
		if err != nil {
			return KVHash{}, err
		}
		if !bytes.Equal(rk.prefix, cur) {
			cur, keptOld = append(cur[:0], rk.prefix...), false
		}
		if rk.main > rev {
			continue
		}
		if rk.main <= m.compactRev {
			// Only the newest record at or below the compaction survives,
			// and a tombstone only when it is exactly at the compaction.
			if keptOld {
				continue
			}
			keptOld = true
			if rk.kind == kindTombstone && rk.main < m.compactRev {
				continue
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return KVHash{}, err
		}
		crc.Write(k[len(l.prefix):])
		crc.Write(v)
	}
	return KVHash{Hash: crc.Sum32(), Revision: rev, CompactRevision: m.compactRev}, it.Error()
}
