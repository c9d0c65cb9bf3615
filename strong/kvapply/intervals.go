package kvapply

import (
	"bytes"
	"slices"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// interval is a half-open key interval [begin, end) of a txn's delete.
type interval struct{ begin, end []byte }

// intervalSet answers "does any interval contain this key" in O(log n)
// after an O(n log n) rebuild when intervals were added, which keeps the
// duplicate-key check of large nested transactions far from quadratic.
type intervalSet struct {
	ivs    []interval
	maxEnd [][]byte // maxEnd[i]: the largest end among ivs[:i+1], sorted by begin
	dirty  bool
}

func (s *intervalSet) add(iv interval) {
	s.ivs = append(s.ivs, iv)
	s.dirty = true
}

func (s *intervalSet) addAll(o *intervalSet) {
	for _, iv := range o.ivs {
		s.add(iv)
	}
}

// contains reports whether some interval holds key: begin <= key < end.
// An interval whose end is not above its begin holds nothing (etcd's
// interval tree behaves so for a delete with range end "\x00").
func (s *intervalSet) contains(key []byte) bool {
	if s.dirty {
		slices.SortFunc(s.ivs, func(a, b interval) int { return bytes.Compare(a.begin, b.begin) })
		s.maxEnd = s.maxEnd[:0]
		var m []byte
		for _, iv := range s.ivs {
			if bytes.Compare(iv.end, m) > 0 {
				m = iv.end
			}
			s.maxEnd = append(s.maxEnd, m)
		}
		s.dirty = false
	}
	// The intervals that begin at or before key are a prefix of ivs.
	n, _ := slices.BinarySearchFunc(s.ivs, key, func(iv interval, k []byte) int {
		if bytes.Compare(iv.begin, k) <= 0 {
			return -1
		}
		return 1
	})
	return n > 0 && bytes.Compare(s.maxEnd[n-1], key) > 0
}

// checkIntervals refuses a txn branch that puts a key twice or puts a key
// that a delete of the same branch covers (rpctypes.ErrGRPCDuplicateKey),
// with etcd's exact rules: a nested txn's success and failure branches may
// put the same key (only one runs); a nested txn's puts are checked against
// the deletes of this level and of the nested txns before it, and this
// level's puts against every delete of this level and below. It returns
// the branch's puts and deletes for the level above.
func checkIntervals(reqs []*pb.RequestOp) (map[string]struct{}, *intervalSet, error) {
	dels := &intervalSet{}
	for _, req := range reqs {
		d := req.GetRequestDeleteRange()
		if d == nil {
			continue
		}
		if len(d.GetRangeEnd()) != 0 {
			dels.add(interval{d.GetKey(), d.GetRangeEnd()})
		} else {
			dels.add(interval{d.GetKey(), append(bytes.Clone(d.GetKey()), 0)})
		}
	}
	puts := map[string]struct{}{}
	for _, req := range reqs {
		t := req.GetRequestTxn()
		if t == nil {
			continue
		}
		putsThen, delsThen, err := checkIntervals(t.GetSuccess())
		if err != nil {
			return nil, nil, err
		}
		putsElse, delsElse, err := checkIntervals(t.GetFailure())
		if err != nil {
			return nil, nil, err
		}
		for k := range putsThen {
			if _, dup := puts[k]; dup || dels.contains([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse {
			if _, dup := puts[k]; dup {
				if _, sameTxn := putsThen[k]; !sameTxn {
					return nil, nil, rpctypes.ErrGRPCDuplicateKey
				}
			}
			if dels.contains([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels.addAll(delsThen)
		dels.addAll(delsElse)
	}
	for _, req := range reqs {
		p := req.GetRequestPut()
		if p == nil {
			continue
		}
		k := string(p.GetKey())
		if _, dup := puts[k]; dup || dels.contains(p.GetKey()) {
			return nil, nil, rpctypes.ErrGRPCDuplicateKey
		}
		puts[k] = struct{}{}
	}
	return puts, dels, nil
}
