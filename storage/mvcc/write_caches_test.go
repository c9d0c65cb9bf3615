package mvcc

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"pgregory.net/rapid"
)

// TestLatestCacheAndKeyIndexAreInvisible runs one random history (puts,
// deletes, transactions, aborts, compactions, restores) (each touching a
// key once, as etcd allows) against a store with neither the latest-record
// cache nor the key index (every Put seeks), and stores with a tiny cache
// (evicting all the time), a large one, a key index that keeps passing its
// limit, and both. It requires identical answers: every Put's previous
// record, every event, and the final state.
func TestLatestCacheAndKeyIndexAreInvisible(t *testing.T) {
	type config struct{ cacheBytes, indexKeys int }
	configs := []config{{0, 0}, {300, 0}, {64 << 20, 0}, {0, 2}, {0, 1 << 20}, {300, 1 << 20}}
	rapid.Check(t, func(rt *rapid.T) {
		stores := make([]*Store, len(configs))
		events := make([][]string, len(configs))
		for i, c := range configs {
			opts := testOptions()
			opts.LatestCacheBytes, opts.KeyIndexMaxKeys = c.cacheBytes, c.indexKeys
			idx := i
			opts.OnCommit = func(_ int64, evs []*mvccpb.Event) {
				for _, ev := range evs {
					events[idx] = append(events[idx], describeEvent(ev))
				}
			}
			stores[i] = openStore(t, openDB(t, vfs.NewMem()), opts)
		}
		key := rapid.SampledFrom([]string{"a", "b", "c", "d"})
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for range steps {
			op := rapid.IntRange(0, 9).Draw(rt, "op")
			k1, k2 := key.Draw(rt, "k1"), key.Draw(rt, "k2")
			value := []byte(rapid.StringMatching(`[a-z]{0,40}`).Draw(rt, "v"))
			compactTo := rapid.Int64Range(1, 100).Draw(rt, "compact")
			want := applyStep(stores[0], op, k1, k2, value, compactTo)
			for i, s := range stores[1:] {
				if got := applyStep(s, op, k1, k2, value, compactTo); got != want {
					rt.Fatalf("op %d on %s/%s: with %+v %q, with neither %q", op, k1, k2, configs[i+1], got, want)
				}
			}
		}
		a, _ := stores[0].Range([]byte{0}, []byte{0}, RangeOptions{})
		for i := 1; i < len(configs); i++ {
			if fmt.Sprint(events[i]) != fmt.Sprint(events[0]) {
				rt.Fatalf("events differ with %+v:\n%v\nwith neither:\n%v", configs[i], events[i], events[0])
			}
			b, _ := stores[i].Range([]byte{0}, []byte{0}, RangeOptions{})
			if fmt.Sprint(a.KVs) != fmt.Sprint(b.KVs) {
				rt.Fatalf("final state differs with %+v", configs[i])
			}
		}
	})
}

func describeEvent(ev *mvccpb.Event) string {
	s := fmt.Sprintf("%v %s@%d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision)
	if ev.PrevKv != nil {
		s += fmt.Sprintf(" prev=%s v%d c%d l%d", ev.PrevKv.Value, ev.PrevKv.Version, ev.PrevKv.CreateRevision, ev.PrevKv.Lease)
	}
	return s
}

// applyStep runs one operation and describes what the caller saw.
func applyStep(s *Store, op int, k1, k2 string, value []byte, compactTo int64) string {
	describe := func(kv *mvccpb.KeyValue) string {
		if kv == nil {
			return "none"
		}
		return fmt.Sprintf("%s=%s v%d c%d m%d", kv.Key, kv.Value, kv.Version, kv.CreateRevision, kv.ModRevision)
	}
	switch op {
	case 0, 1, 2, 3: // put
		w := s.Write()
		prev, err := w.Put([]byte(k1), bytes.Clone(value), 0)
		if _, eerr := w.End(nextIndex(s)); err == nil {
			err = eerr
		}
		return describe(prev) + fmt.Sprint(err)
	case 4: // delete
		w := s.Write()
		del, err := w.DeleteRange([]byte(k1), nil)
		if _, eerr := w.End(nextIndex(s)); err == nil {
			err = eerr
		}
		return fmt.Sprint(len(del), err)
	case 5, 6: // one transaction: put k1 and delete k2 (etcd refuses a txn
		// that touches a key twice, so they differ)
		w := s.Write()
		p1, err1 := w.Put([]byte(k1), bytes.Clone(value), 0)
		var err2 error
		if k2 != k1 {
			_, err2 = w.DeleteRange([]byte(k2), nil)
		}
		_, err3 := w.End(nextIndex(s))
		return describe(p1) + fmt.Sprint(err1, err2, err3)
	case 7: // an aborted write must leave no trace in the cache
		w := s.Write()
		_, err := w.Put([]byte(k1), []byte("aborted"), 0)
		w.Abort()
		return fmt.Sprint(err)
	case 8: // compaction
		_, err := s.Compact(min(compactTo, s.Rev()), nextIndex(s))
		return fmt.Sprint(err == nil)
	default: // restore the store from its own snapshot
		var buf bytes.Buffer
		if _, err := s.Snapshot(&buf); err != nil {
			return err.Error()
		}
		_, err := s.Restore(&buf)
		return fmt.Sprint(err)
	}
}
