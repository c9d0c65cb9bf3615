package mvcc

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// RangeOptions are the options of a Range.
type RangeOptions struct {
	// Rev is the revision to read at; 0 (or less) means the view's
	// revision. Above it: ErrFutureRev; below the compaction: ErrCompacted.
	Rev int64
	// Limit bounds the returned KVs; 0 (or less) means no limit.
	Limit int64
	// CountOnly returns only Count.
	CountOnly bool
	// KeysOnly leaves Value nil in the returned KVs.
	KeysOnly bool
}

// RangeResult is the result of a Range.
type RangeResult struct {
	// KVs are the live keys of the range at the requested revision,
	// sorted by key, at most Limit of them. The caller owns them.
	KVs []*mvccpb.KeyValue
	// Count is the number of live keys in the range, whatever the Limit.
	Count int64
	// Rev is the view's revision (etcd's response header revision), not
	// the revision read at.
	Rev int64
	// More reports that Limit left keys out.
	More bool
}

// ReadView is what both a ReadTxn and a WriteTxn offer for reading.
type ReadView interface {
	// Range returns the live keys of [key, end) as of opts.Rev. An empty
	// end means the single key; end "\x00" means every key >= key;
	// otherwise keys in [key, end), none if end <= key.
	Range(key, end []byte, opts RangeOptions) (*RangeResult, error)
	// Rev is the view's revision.
	Rev() int64
	// CompactRev is the compaction revision the view checks against.
	CompactRev() int64
}

var (
	_ ReadView = (*ReadTxn)(nil)
	_ ReadView = (*WriteTxn)(nil)
)

// iterSource hands out the view's iterator bounded to [lower, upper). The
// bounds are never modified afterwards.
type iterSource interface {
	iter(lower, upper []byte) (*pebble.Iterator, error)
}

// resolveRev applies etcd's checks: future first, then compacted.
func resolveRev(req, viewRev, compactRev int64) (int64, error) {
	if req > viewRev {
		return 0, ErrFutureRev
	}
	if req <= 0 {
		req = viewRev
	}
	if req < compactRev {
		return 0, ErrCompacted
	}
	return req, nil
}

// rangeBounds returns the KV-record span of [key, end) in etcd's range
// semantics; ok is false for an empty range.
func (l layout) rangeBounds(key, end []byte) (lower, upper []byte, ok bool) {
	lower = l.keyPrefix(key)
	switch {
	case len(end) == 0:
		return lower, prefixSuccessor(lower), true
	case len(end) == 1 && end[0] == 0:
		return lower, l.kUpper, true
	case bytes.Compare(end, key) <= 0:
		return nil, nil, false
	default:
		return lower, l.keyPrefix(end), true
	}
}

// rangeAt implements Range over any view: for each user key in [key, end)
// it finds the newest record at or below rev (one seek when newer records
// exist) and counts it when it is a put; then it moves to the next user key
// (nextKey: a few Nexts, then a seek past a long history).
func rangeAt(src iterSource, l layout, key, end []byte, rev int64, opts RangeOptions) (kvs []*mvccpb.KeyValue, count int64, err error) {
	lower, upper, ok := l.rangeBounds(key, end)
	if !ok {
		return nil, 0, nil
	}
	it, err := src.iter(lower, upper)
	if err != nil {
		return nil, 0, err
	}
	var seek, cur, ukey []byte
	valid := it.SeekGE(lower)
	for valid {
		k := it.Key()
		p := recordPrefixOf(k)
		if p == nil {
			return nil, 0, fmt.Errorf("%w: KV record key of %d bytes", ErrCorrupt, len(k))
		}
		if recordMain(k) > rev {
			cur = append(cur[:0], p...)
			valid, seek = skipNewer(it, cur, rev, seek)
			continue
		}
		rk, err := splitRecordKey(k)
		if err != nil {
			return nil, 0, err
		}
		if rk.kind == kindPut {
			count++
			if !opts.CountOnly && (opts.Limit <= 0 || int64(len(kvs)) < opts.Limit) {
				if ukey, err = l.appendUserKey(ukey[:0], rk.prefix); err != nil {
					return nil, 0, err
				}
				v, err := it.ValueAndErr()
				if err != nil {
					return nil, 0, err
				}
				kv, err := decodeKV(ukey, rk.main, v, opts.KeysOnly)
				if err != nil {
					return nil, 0, err
				}
				kvs = append(kvs, kv)
			}
		}
		cur = append(cur[:0], p...)
		valid = nextKey(it, cur)
	}
	return kvs, count, it.Error()
}

// nextsBeforeSeek is how many older records of a key a scan steps over
// with Next before it seeks past them: a Next costs a fraction of a seek.
const nextsBeforeSeek = 3

// nextKey moves it from a record of the key with prefix cur to the first
// record of the next key; it clobbers cur.
func nextKey(it *pebble.Iterator, cur []byte) bool {
	for range nextsBeforeSeek {
		if !it.Next() {
			return false
		}
		if !bytes.Equal(recordPrefixOf(it.Key()), cur) {
			return true
		}
	}
	cur[len(cur)-1] = terminator + 1 // prefixSuccessor in place
	return it.SeekGE(cur)
}

// skipNewer moves it from a record newer than rev of the key with prefix
// cur to the key's newest record at or below rev, or to the next key when
// there is none: a few Nexts, then a seek. seek is scratch space.
func skipNewer(it *pebble.Iterator, cur []byte, rev int64, seek []byte) (bool, []byte) {
	for range nextsBeforeSeek {
		if !it.Next() {
			return false, seek
		}
		k := it.Key()
		if p := recordPrefixOf(k); !bytes.Equal(p, cur) || recordMain(k) <= rev {
			return true, seek
		}
	}
	seek = seekAtRev(seek, cur, rev)
	return it.SeekGE(seek), seek
}

// latest returns the newest record of key in the view: its KeyValue when it
// is a put, nil when the key does not exist (never written, or deleted).
func latest(src iterSource, l layout, key []byte) (*mvccpb.KeyValue, error) {
	p := l.keyPrefix(key)
	it, err := src.iter(p, prefixSuccessor(p))
	if err != nil {
		return nil, err
	}
	if !it.SeekGE(p) {
		return nil, it.Error()
	}
	rk, err := splitRecordKey(it.Key())
	if err != nil || rk.kind == kindTombstone {
		return nil, err
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	return decodeKV(key, rk.main, v, false)
}

// ReadTxn reads the store at one point in time: every Range sees the same
// state. End it promptly: it pins Pebble's memtables and files.
type ReadTxn struct {
	s          *Store
	l          layout
	it         *pebble.Iterator
	rev        int64
	compactRev int64
}

// Read opens a read transaction at the current revision.
func (s *Store) Read() (*ReadTxn, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mu.closed {
		return nil, ErrClosed
	}
	it, err := s.newIterLocked()
	if err != nil {
		return nil, err
	}
	return &ReadTxn{s: s, l: s.mu.layout, it: it, rev: s.mu.meta.rev, compactRev: s.mu.meta.compactRev}, nil
}

// Range implements ReadView.
func (r *ReadTxn) Range(key, end []byte, opts RangeOptions) (*RangeResult, error) {
	defer observe(r.s.metrics.rangeSeconds)()
	return rangeView(r, r.l, key, end, r.rev, r.compactRev, opts)
}

// rangeView checks the revision and runs rangeAt.
func rangeView(src iterSource, l layout, key, end []byte, viewRev, compactRev int64, opts RangeOptions) (*RangeResult, error) {
	rev, err := resolveRev(opts.Rev, viewRev, compactRev)
	if err != nil {
		return nil, err
	}
	kvs, count, err := rangeAt(src, l, key, end, rev, opts)
	if err != nil {
		return nil, err
	}
	return &RangeResult{KVs: kvs, Count: count, Rev: viewRev, More: !opts.CountOnly && count > int64(len(kvs))}, nil
}

// Rev implements ReadView: the revision current when Read was called.
func (r *ReadTxn) Rev() int64 { return r.rev }

// CompactRev implements ReadView.
func (r *ReadTxn) CompactRev() int64 { return r.compactRev }

// End releases the transaction's resources.
func (r *ReadTxn) End() {
	if err := r.it.Close(); err != nil {
		r.s.log.Error("closing read iterator", "err", err)
	}
}

func (r *ReadTxn) iter(lower, upper []byte) (*pebble.Iterator, error) {
	r.it.SetBounds(lower, upper)
	return r.it, nil
}

// Range reads [key, end) at the current revision (or opts.Rev) in its own
// read transaction.
func (s *Store) Range(key, end []byte, opts RangeOptions) (*RangeResult, error) {
	r, err := s.Read()
	if err != nil {
		return nil, err
	}
	defer r.End()
	return r.Range(key, end, opts)
}

// appendUserKey decodes the user key of a KV record prefix into dst.
func (l layout) appendUserKey(dst, prefix []byte) ([]byte, error) {
	if !bytes.HasPrefix(prefix, l.kLower) {
		return nil, fmt.Errorf("%w: KV record outside the key space", ErrCorrupt)
	}
	return appendUnescaped(dst, prefix[len(l.kLower):])
}
