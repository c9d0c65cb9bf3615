package mvcc

import (
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// TestRevisionsMatchEtcd replays a script whose revisions follow etcd's
// documented rules: a fresh store is at revision 1; every transaction that
// changes something is one revision, whatever the number of its changes;
// one that changes nothing (an empty one, or a delete matching no key)
// leaves the revision; Compact never changes it.
func TestRevisionsMatchEtcd(t *testing.T) {
	s := newTestStore(t)
	type change struct {
		del      bool
		key, end string
	}
	steps := []struct {
		name    string
		changes []change
		compact int64
		wantRev int64
	}{
		{name: "put foo", changes: []change{{key: "foo"}}, wantRev: 2},
		{name: "put foo again", changes: []change{{key: "foo"}}, wantRev: 3},
		{name: "put foo2", changes: []change{{key: "foo2"}}, wantRev: 4},
		{name: "txn of two puts", changes: []change{{key: "a"}, {key: "b"}}, wantRev: 5},
		{name: "delete a missing key", changes: []change{{del: true, key: "nope"}}, wantRev: 5},
		{name: "empty txn", wantRev: 5},
		{name: "delete foo", changes: []change{{del: true, key: "foo"}}, wantRev: 6},
		{name: "delete [foo, foo3)", changes: []change{{del: true, key: "foo", end: "foo3"}}, wantRev: 7},
		{name: "compact 5", compact: 5, wantRev: 7},
		{name: "put foo after delete", changes: []change{{key: "foo"}}, wantRev: 8},
		{name: "delete all", changes: []change{{del: true, key: "\x00", end: "\x00"}}, wantRev: 9},
		{name: "delete all again", changes: []change{{del: true, key: "\x00", end: "\x00"}}, wantRev: 9},
		{name: "put x", changes: []change{{key: "x"}}, wantRev: 10},
	}
	for _, st := range steps {
		if st.compact != 0 {
			mustCompact(t, s, st.compact)
		} else {
			w := s.Write()
			for _, c := range st.changes {
				var err error
				if c.del {
					_, err = w.DeleteRange([]byte(c.key), bytesOrNil(c.end))
				} else {
					_, err = w.Put([]byte(c.key), []byte("v"), 0)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.End(nextIndex(s)); err != nil {
				t.Fatal(err)
			}
		}
		if s.Rev() != st.wantRev {
			t.Fatalf("%s: revision %d, etcd's is %d", st.name, s.Rev(), st.wantRev)
		}
	}
	// foo was recreated at 8 with version 1 after its delete at 6, and
	// deleted again at 9.
	got := mustRange(t, s, "foo", "", RangeOptions{Rev: 8})
	if err := equalKVs(got.KVs, []*mvccpb.KeyValue{kv("foo", "v", 8, 8, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	// The txn of two puts at 5: sub-revisions 0 and 1 of one revision.
	ev, _, err := s.Changes(5, []byte("a"), []byte("c"), 10)
	if err != nil || len(ev) != 4 || ev[0].Kv.ModRevision != 5 || ev[1].Kv.ModRevision != 5 {
		t.Fatalf("events of revision 5 and the delete-all of 9: %v %v", ev, err)
	}
}
