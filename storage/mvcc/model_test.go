package mvcc

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"pgregory.net/rapid"
)

// model is the reference: the whole state at every revision, kept in maps.
type model struct {
	states  []map[string]*mvccpb.KeyValue // states[r]: the live keys at revision r
	events  [][]*mvccpb.Event             // events[r]: the changes of revision r
	compact int64
}

func newModel() *model {
	return &model{states: []map[string]*mvccpb.KeyValue{nil, {}}, events: [][]*mvccpb.Event{nil, nil}, compact: -1}
}

func (m *model) rev() int64 { return int64(len(m.states) - 1) }

// rangeAt returns the sorted live keys of [key, end) at rev.
func (m *model) rangeAt(rev int64, key, end []byte) []*mvccpb.KeyValue {
	var out []*mvccpb.KeyValue
	for k, kv := range m.states[rev] {
		if inRange([]byte(k), key, end) {
			out = append(out, kv)
		}
	}
	slices.SortFunc(out, func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Key, b.Key) })
	return out
}

// modelOp is one operation of a transaction: a put, or a delete when del.
type modelOp struct {
	del        bool
	key, end   []byte
	value      []byte
	lease      int64
	wantPrev   *mvccpb.KeyValue
	wantDelete []*mvccpb.KeyValue
}

// apply runs ops on the model as one transaction, filling the expected
// results, and reports whether it changed something.
func (m *model) apply(ops []*modelOp) {
	cur := m.states[m.rev()]
	next := maps.Clone(cur)
	rev := m.rev() + 1
	var evs []*mvccpb.Event
	for _, op := range ops {
		if op.del {
			var keys []string
			for k := range next {
				if inRange([]byte(k), op.key, op.end) {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			op.wantDelete = nil
			for _, k := range keys {
				op.wantDelete = append(op.wantDelete, next[k])
				evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_DELETE,
					Kv: &mvccpb.KeyValue{Key: []byte(k), ModRevision: rev}, PrevKv: next[k]})
				delete(next, k)
			}
			continue
		}
		prev := next[string(op.key)]
		kv := &mvccpb.KeyValue{Key: op.key, Value: op.value, CreateRevision: rev, ModRevision: rev, Version: 1, Lease: op.lease}
		if prev != nil {
			kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		}
		op.wantPrev = prev
		evs = append(evs, &mvccpb.Event{Type: mvccpb.Event_PUT, Kv: kv, PrevKv: prev})
		next[string(op.key)] = kv
	}
	if len(evs) > 0 {
		m.states = append(m.states, next)
		m.events = append(m.events, evs)
	}
}

// changes mirrors Store.Changes.
func (m *model) changes(from int64, key, end []byte, limit int) ([]*mvccpb.Event, int64) {
	var out []*mvccpb.Event
	for r := max(from, 1); r <= m.rev(); r++ {
		if len(out) >= limit {
			return out, r
		}
		for _, ev := range m.events[r] {
			if !inRange(ev.Kv.Key, key, end) {
				continue
			}
			if r == m.compact && ev.PrevKv != nil && ev.PrevKv.ModRevision < m.compact {
				ev = &mvccpb.Event{Type: ev.Type, Kv: ev.Kv}
			}
			out = append(out, ev)
		}
	}
	return out, m.rev() + 1
}

// modelKeys is a small alphabet with keys that are prefixes of each other
// and keys holding 0x00, so escaping and ordering are exercised.
var modelKeys = []string{"a", "a\x00", "a\x00\x00", "ab", "b", "b\xff", "c"}

func drawKey(t *rapid.T, label string) []byte {
	return []byte(rapid.SampledFrom(modelKeys).Draw(t, label))
}

func drawEnd(t *rapid.T, label string) []byte {
	switch rapid.IntRange(0, 2).Draw(t, label+"kind") {
	case 0:
		return nil
	case 1:
		return []byte{0}
	default:
		return drawKey(t, label)
	}
}

// TestModel runs random transactions, ranges at past revisions,
// compactions, history reads and restarts against the model.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fs := vfs.NewMem()
		db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		opts := testOptions()
		opts.CompactionBatchLimit = rapid.IntRange(1, 10).Draw(t, "batch")
		s, err := Open(db, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close() }()
		m := newModel()
		t.Repeat(map[string]func(*rapid.T){
			"txn": func(t *rapid.T) {
				var ops []*modelOp
				touched := map[string]bool{}
				for range rapid.IntRange(1, 3).Draw(t, "ops") {
					op := &modelOp{del: rapid.Bool().Draw(t, "del"), key: drawKey(t, "key")}
					if op.del {
						op.end = drawEnd(t, "end")
					} else {
						op.value = []byte(rapid.StringN(0, 3, -1).Draw(t, "value"))
						op.lease = rapid.Int64Range(0, 2).Draw(t, "lease")
					}
					// Like the etcd API, never change a key twice in one
					// transaction (see the Changes HAZARD).
					hits := op.touches(m, touched)
					if hits {
						continue
					}
					ops = append(ops, op)
				}
				m.apply(ops)
				w := s.Write()
				for _, op := range ops {
					if op.del {
						got, err := w.DeleteRange(op.key, op.end)
						if err != nil {
							t.Fatal(err)
						}
						if err := equalKVs(got, op.wantDelete); err != nil {
							t.Fatalf("DeleteRange(%q, %q): %v", op.key, op.end, err)
						}
						continue
					}
					prev, err := w.Put(op.key, op.value, op.lease)
					if err != nil {
						t.Fatal(err)
					}
					if (prev == nil) != (op.wantPrev == nil) || (prev != nil && !equalKV(prev, op.wantPrev)) {
						t.Fatalf("Put(%q) prev %v, want %v", op.key, prev, op.wantPrev)
					}
				}
				rev, err := w.End(nextIndex(s))
				if err != nil {
					t.Fatal(err)
				}
				if rev != m.rev() {
					t.Fatalf("revision %d, model %d", rev, m.rev())
				}
			},
			"range": func(t *rapid.T) {
				rev := rapid.Int64Range(-1, m.rev()+1).Draw(t, "rev")
				key, end := drawKey(t, "key"), drawEnd(t, "end")
				opts := RangeOptions{Rev: rev, Limit: rapid.Int64Range(0, 3).Draw(t, "limit"),
					CountOnly: rapid.Bool().Draw(t, "countOnly"), KeysOnly: rapid.Bool().Draw(t, "keysOnly")}
				got, err := s.Range(key, end, opts)
				switch {
				case rev > m.rev():
					if !errors.Is(err, ErrFutureRev) {
						t.Fatalf("Range at future %d: %v", rev, err)
					}
					return
				case rev > 0 && rev < m.compact:
					if !errors.Is(err, ErrCompacted) {
						t.Fatalf("Range at compacted %d: %v", rev, err)
					}
					return
				case err != nil:
					t.Fatal(err)
				}
				if rev <= 0 {
					rev = m.rev()
				}
				want := m.rangeAt(rev, key, end)
				count := int64(len(want))
				if opts.CountOnly {
					want = nil
				} else if opts.Limit > 0 && int64(len(want)) > opts.Limit {
					want = want[:opts.Limit]
				}
				if opts.KeysOnly {
					want = stripValues(want)
				}
				if err := equalKVs(got.KVs, want); err != nil {
					t.Fatalf("Range(%q, %q, %+v): %v", key, end, opts, err)
				}
				if got.Count != count || got.Rev != m.rev() || got.More != (!opts.CountOnly && count > int64(len(want))) {
					t.Fatalf("Range(%q, %q, %+v): count %d rev %d more %v; want count %d rev %d",
						key, end, opts, got.Count, got.Rev, got.More, count, m.rev())
				}
			},
			"compact": func(t *rapid.T) {
				rev := rapid.Int64Range(m.compact-1, m.rev()+1).Draw(t, "rev")
				done, err := s.Compact(rev, nextIndex(s))
				switch {
				case rev <= m.compact:
					if !errors.Is(err, ErrCompacted) {
						t.Fatalf("Compact(%d) after %d: %v", rev, m.compact, err)
					}
					return
				case rev > m.rev():
					if !errors.Is(err, ErrFutureRev) {
						t.Fatalf("Compact(%d) at %d: %v", rev, m.rev(), err)
					}
					return
				case err != nil:
					t.Fatal(err)
				}
				m.compact = rev
				if rapid.Bool().Draw(t, "wait") {
					<-done
				}
			},
			"changes": func(t *rapid.T) {
				from := rapid.Int64Range(max(m.compact, 1), m.rev()+1).Draw(t, "from")
				key, end := drawKey(t, "key"), drawEnd(t, "end")
				limit := rapid.IntRange(1, 6).Draw(t, "limit")
				got, next, err := s.Changes(from, key, end, limit)
				if err != nil {
					t.Fatal(err)
				}
				want, wantNext := m.changes(from, key, end, limit)
				if err := equalEvents(got, want); err != nil || next != wantNext {
					t.Fatalf("Changes(%d, %q, %q, %d) next %d want %d: %v", from, key, end, limit, next, wantNext, err)
				}
				if m.compact > 1 {
					if _, _, err := s.Changes(m.compact-1, key, end, limit); !errors.Is(err, ErrCompacted) {
						t.Fatalf("Changes below the compaction: %v", err)
					}
				}
			},
			"restart": func(t *rapid.T) {
				before, err := s.HashKV(0)
				if err != nil {
					t.Fatal(err)
				}
				ci := s.ConsistentIndex()
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if s, err = Open(db, opts); err != nil {
					t.Fatal(err)
				}
				after, err := s.HashKV(0)
				if err != nil {
					t.Fatal(err)
				}
				if before != after || s.ConsistentIndex() != ci || s.Rev() != m.rev() || s.CompactRev() != m.compact {
					t.Fatalf("restart changed state: hash %+v -> %+v, index %d -> %d, rev %d, compact %d",
						before, after, ci, s.ConsistentIndex(), s.Rev(), s.CompactRev())
				}
			},
			"": func(t *rapid.T) {
				if s.KeyCount() != int64(len(m.states[m.rev()])) {
					t.Fatalf("key count %d, model %d", s.KeyCount(), len(m.states[m.rev()]))
				}
			},
		})
	})
}

// touches reports whether op would change a key already changed in the
// transaction, and records the keys it changes.
func (op *modelOp) touches(m *model, touched map[string]bool) bool {
	var keys []string
	if op.del {
		for k := range m.states[m.rev()] {
			if inRange([]byte(k), op.key, op.end) {
				keys = append(keys, k)
			}
		}
		// Keys put earlier in the transaction are not in the model yet.
		for k := range touched {
			if inRange([]byte(k), op.key, op.end) {
				keys = append(keys, k)
			}
		}
	} else {
		keys = []string{string(op.key)}
	}
	hit := false
	for _, k := range keys {
		hit = hit || touched[k]
	}
	if !hit {
		for _, k := range keys {
			touched[k] = true
		}
	}
	return hit
}

func stripValues(kvs []*mvccpb.KeyValue) []*mvccpb.KeyValue {
	out := make([]*mvccpb.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = &mvccpb.KeyValue{Key: kv.Key, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision,
			Version: kv.Version, Lease: kv.Lease}
	}
	return out
}
