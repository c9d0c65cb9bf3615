package watch

import (
	"bytes"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// rangeKind says how a keyRange's end is read.
type rangeKind int

const (
	// rangeSingle is the one key.
	rangeSingle rangeKind = iota + 1
	// rangeFromKey is every key >= key (etcd's range end "\x00").
	rangeFromKey
	// rangeSpan is [key, end) with key < end.
	rangeSpan
	// rangePrefix is every key that starts with key: the span
	// [key, prefixEnd(key)), which is how clients send a prefix watch.
	rangePrefix
)

// keyRange is a watched key range with etcd's range-end conventions
// resolved. Its slices are owned by the range and never modified.
type keyRange struct {
	kind rangeKind
	key  []byte
	end  []byte // only for rangeSpan
}

// newKeyRange applies etcd's rules to a create request's key and range
// end: an empty key is "\x00" (the smallest key), an empty end the single
// key, "\x00" every key from key on; otherwise end must be above key.
func newKeyRange(key, end []byte) (keyRange, error) {
	if len(key) == 0 {
		key = []byte{0}
	}
	key = bytes.Clone(key)
	switch {
	case len(end) == 0:
		return keyRange{kind: rangeSingle, key: key}, nil
	case len(end) == 1 && end[0] == 0:
		return keyRange{kind: rangeFromKey, key: key}, nil
	case bytes.Compare(key, end) >= 0:
		return keyRange{}, ErrEmptyWatcherRange
	case bytes.Equal(end, prefixEnd(key)):
		return keyRange{kind: rangePrefix, key: key, end: bytes.Clone(end)}, nil
	default:
		return keyRange{kind: rangeSpan, key: key, end: bytes.Clone(end)}, nil
	}
}

// prefixEnd is etcd's range end for a prefix (clientv3.GetPrefixRangeEnd):
// the prefix with trailing 0xff bytes dropped and the last byte
// incremented; nil when the prefix is all 0xff (every key from it on).
// [p, prefixEnd(p)) holds exactly the keys that start with p.
func prefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] < 0xff {
			end := bytes.Clone(p[:i+1])
			end[i]++
			return end
		}
	}
	return nil
}

// contains reports whether k is in the range.
func (r keyRange) contains(k []byte) bool {
	switch r.kind {
	case rangeSingle:
		return bytes.Equal(k, r.key)
	case rangeFromKey:
		return bytes.Compare(k, r.key) >= 0
	case rangePrefix:
		return bytes.HasPrefix(k, r.key)
	default:
		return bytes.Compare(k, r.key) >= 0 && bytes.Compare(k, r.end) < 0
	}
}

// sourceEnd is the range end to pass to Source.Changes for this range.
func (r keyRange) sourceEnd() []byte {
	switch r.kind {
	case rangeSingle:
		return nil
	case rangeFromKey:
		return []byte{0}
	default:
		return r.end
	}
}

// upper is the exclusive upper bound of the range; unbounded for
// rangeFromKey.
func (r keyRange) upper() (end []byte, unbounded bool) {
	switch r.kind {
	case rangeSingle:
		return append(bytes.Clone(r.key), 0), false
	case rangeFromKey:
		return nil, true
	default:
		return r.end, false
	}
}

// boundingRange returns the smallest single range, in Source.Changes'
// terms, that holds every given range: one read then serves them all.
func boundingRange(ranges []keyRange) (key, end []byte) {
	if len(ranges) == 1 {
		return ranges[0].key, ranges[0].sourceEnd()
	}
	lo, hi, unbounded := ranges[0].key, []byte(nil), false
	for _, r := range ranges {
		if bytes.Compare(r.key, lo) < 0 {
			lo = r.key
		}
		u, inf := r.upper()
		unbounded = unbounded || inf
		if !inf && bytes.Compare(u, hi) > 0 {
			hi = u
		}
	}
	if unbounded {
		return lo, []byte{0}
	}
	return lo, hi
}

// filter is a watcher's event selection: its range and its NOPUT and
// NODELETE filters.
type filter struct {
	rng      keyRange
	noPut    bool
	noDelete bool
}

// accepts reports whether the watcher wants ev.
func (f *filter) accepts(ev *mvccpb.Event) bool {
	if ev.Type == mvccpb.Event_PUT && f.noPut || ev.Type == mvccpb.Event_DELETE && f.noDelete {
		return false
	}
	return f.rng.contains(ev.Kv.Key)
}

// selectEvents returns the events of one revision the watcher wants: evs
// itself (capacity-capped) when it wants a prefix of them, which is the
// common case and allocates nothing, else a new slice.
func (f *filter) selectEvents(evs []*mvccpb.Event) []*mvccpb.Event {
	n := 0
	for n < len(evs) && f.accepts(evs[n]) {
		n++
	}
	if n == len(evs) {
		return evs
	}
	var out []*mvccpb.Event
	for i := n + 1; i < len(evs); i++ {
		if f.accepts(evs[i]) {
			if out == nil {
				out = append(make([]*mvccpb.Event, 0, n+len(evs)-i), evs[:n]...)
			}
			out = append(out, evs[i])
		}
	}
	if out == nil {
		return evs[:n:n]
	}
	return out
}
