package watch

import (
	"bytes"
	"errors"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

var errFakeCompacted = errors.New("fake: required revision has been compacted")

// fakeSource is an in-memory MVCC history with mvcc.Store's contract:
// Rev moves before the commit hook runs, Changes never splits a revision,
// and events carry PrevKv. Writes call the hook (normally Hub.Notify) in
// revision order.
type fakeSource struct {
	writeMu sync.Mutex // serializes writers, as mvcc's writeMu
	mu      sync.Mutex
	rev     int64
	compact int64
	revs    []revision // revs[i].rev == i+2 (revision 1 is the empty store)
	live    map[string]*mvccpb.KeyValue
	hook    func(rev int64, evs []*mvccpb.Event)
	// failChanges, when set, is returned by Changes.
	failChanges error
	changes     int
}

func newFakeSource() *fakeSource {
	return &fakeSource{rev: 1, compact: -1, live: map[string]*mvccpb.KeyValue{}}
}

func (f *fakeSource) Rev() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev
}

func (f *fakeSource) CompactRev() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compact
}

func (f *fakeSource) Changes(fromRev int64, key, end []byte, limit int) ([]*mvccpb.Event, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes++
	if f.failChanges != nil {
		return nil, 0, f.failChanges
	}
	fromRev = max(fromRev, 1)
	if fromRev < f.compact {
		return nil, 0, errFakeCompacted
	}
	var out []*mvccpb.Event
	for r := max(fromRev, 2); r <= f.rev; r++ {
		if len(out) >= limit {
			return out, r, nil
		}
		for _, ev := range f.revs[r-2].events {
			if inTestRange(ev.Kv.Key, key, end) {
				out = append(out, ev)
			}
		}
	}
	return out, max(fromRev, f.rev+1), nil
}

func inTestRange(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case len(end) == 1 && end[0] == 0:
		return bytes.Compare(k, key) >= 0
	default:
		return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
	}
}

// op is one change of a transaction: a put, or a delete when del is set.
type op struct {
	key, value string
	del        bool
}

func put(k, v string) op { return op{key: k, value: v} }
func del(k string) op    { return op{key: k, del: true} }

// commit applies ops as one revision and calls the hook; it returns the
// revision, or the current one when nothing changed (deleting absent keys).
func (f *fakeSource) commit(ops ...op) int64 {
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	f.mu.Lock()
	rev := f.rev + 1
	var evs []*mvccpb.Event
	for _, o := range ops {
		prev := f.live[o.key]
		if o.del {
			if prev == nil {
				continue
			}
			delete(f.live, o.key)
			evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE, Kv: &mvccpb.KeyValue{Key: []byte(o.key), ModRevision: rev}, PrevKv: prev})
			continue
		}
		kv := &mvccpb.KeyValue{Key: []byte(o.key), Value: []byte(o.value), CreateRevision: rev, ModRevision: rev, Version: 1}
		if prev != nil {
			kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		}
		f.live[o.key] = kv
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prev})
	}
	if len(evs) == 0 {
		f.mu.Unlock()
		return rev - 1
	}
	f.rev = rev
	f.revs = append(f.revs, revision{rev: rev, events: evs})
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(rev, evs)
	}
	return rev
}

// compactTo compacts the history at rev.
func (f *fakeSource) compactTo(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compact = rev
}

// expected returns the events a watcher of spec must see from revision
// from through to, per revision.
func (f *fakeSource) expected(spec WatchSpec, from, to int64) []revision {
	rng, err := newKeyRange(spec.Key, spec.End)
	if err != nil {
		panic(err)
	}
	flt := filter{rng: rng, noPut: spec.NoPut, noDelete: spec.NoDelete}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []revision
	for _, r := range f.revs {
		if r.rev < from || r.rev > to {
			continue
		}
		if evs := flt.selectEvents(r.events); len(evs) > 0 {
			out = append(out, revision{rev: r.rev, events: evs})
		}
	}
	return out
}
