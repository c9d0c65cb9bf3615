package mvcc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// Changes returns, for a watcher catching up, the events of revisions
// fromRev and later whose keys fall in [key, end) (range semantics as
// Range), in revision and sub-revision order, as OnCommit delivered them:
// PUT events with the new KeyValue, DELETE events with a tombstone
// KeyValue, both with PrevKv when the key existed before the change.
//
// It stops at the end of the first revision at which at least limit events
// were collected, so a revision is never split (a result may exceed limit
// by the events of one revision), and returns the revision to continue
// from: Rev()+1 once caught up. fromRev below 1 reads from 1.
//
// HAZARD: compaction at revision C keeps only the last change of a key at
// C, so Changes from C omits earlier changes of the same key made by the
// same transaction. The etcd API never changes a key twice in one
// transaction (kvapply refuses it), so watchers are not affected.
//
// Errors: ErrCompacted when fromRev < CompactRev() (as etcd's watch);
// ErrInvalidLimit when limit < 1.
func (s *Store) Changes(fromRev int64, key, end []byte, limit int) (events []*mvccpb.Event, next int64, err error) {
	if limit < 1 {
		return nil, 0, ErrInvalidLimit
	}
	l, m, snap, err := s.snapshotState()
	if err != nil {
		return nil, 0, err
	}
	defer closeIter(snap, &err)
	fromRev = max(fromRev, 1)
	if fromRev < m.compactRev {
		return nil, 0, ErrCompacted
	}
	if fromRev > m.rev {
		return nil, fromRev, nil
	}
	revIt, err := snap.NewIter(&pebble.IterOptions{LowerBound: l.revKey(fromRev, 0), UpperBound: l.revKey(m.rev+1, 0)})
	if err != nil {
		return nil, 0, err
	}
	defer closeIter(revIt, &err)
	kvIt, err := snap.NewIter(&pebble.IterOptions{LowerBound: l.kLower, UpperBound: l.kUpper})
	if err != nil {
		return nil, 0, err
	}
	defer closeIter(kvIt, &err)
	var lastMain int64
	for valid := revIt.First(); valid; valid = revIt.Next() {
		main, sub, err := l.decodeRevKey(revIt.Key())
		if err != nil {
			return nil, 0, err
		}
		if main != lastMain {
			if len(events) >= limit {
				return events, main, nil
			}
			lastMain = main
		}
		v, err := revIt.ValueAndErr()
		if err != nil {
			return nil, 0, err
		}
		kind, ukey, err := decodeRevValue(v)
		if err != nil {
			return nil, 0, err
		}
		if !inRange(ukey, key, end) {
			continue
		}
		ev, err := eventAt(kvIt, l, bytes.Clone(ukey), main, sub, kind, m.compactRev)
		if err != nil {
			return nil, 0, err
		}
		events = append(events, ev)
	}
	return events, m.rev + 1, revIt.Error()
}

// eventAt reads the KV record of one change and the record before it. A
// previous record below compactRev is left out of an event at compactRev:
// compaction drops it (the event's own record is the newest at or below
// compactRev), so whether it is still there depends on the compaction's
// progress, and the result must not.
func eventAt(it *pebble.Iterator, l layout, ukey []byte, main, sub int64, kind byte, compactRev int64) (*mvccpb.Event, error) {
	p := l.keyPrefix(ukey)
	rk := appendRevSuffix(bytes.Clone(p), main, sub, kind)
	if !it.SeekGE(rk) || !bytes.Equal(it.Key(), rk) {
		return nil, errors.Join(it.Error(), fmt.Errorf("%w: revision %d.%d has no KV record", ErrCorrupt, main, sub))
	}
	ev := &mvccpb.Event{Type: mvccpb.Event_PUT}
	if kind == kindTombstone {
		ev.Type, ev.Kv = mvccpb.Event_DELETE, &mvccpb.KeyValue{Key: ukey, ModRevision: main}
	} else {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if ev.Kv, err = decodeKV(ukey, main, v, false); err != nil {
			return nil, err
		}
	}
	if !it.Next() || !bytes.Equal(recordPrefixOf(it.Key()), p) {
		return ev, it.Error()
	}
	prev, err := splitRecordKey(it.Key())
	if err != nil || prev.kind == kindTombstone || (main == compactRev && prev.main < compactRev) {
		return ev, err
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	ev.PrevKv, err = decodeKV(ukey, prev.main, v, false)
	return ev, err
}

// inRange reports whether k is in [key, end) with etcd's range semantics.
func inRange(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case len(end) == 1 && end[0] == 0:
		return bytes.Compare(k, key) >= 0
	default:
		return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
	}
}
