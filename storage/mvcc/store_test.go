package mvcc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

func TestFreshStoreIsAtRevisionOne(t *testing.T) {
	s := newTestStore(t)
	if s.Rev() != 1 || s.CompactRev() != -1 || s.ConsistentIndex() != 0 || s.KeyCount() != 0 {
		t.Fatalf("fresh store: rev %d compact %d index %d keys %d", s.Rev(), s.CompactRev(), s.ConsistentIndex(), s.KeyCount())
	}
	r := mustRange(t, s, "a", "\x00", RangeOptions{})
	if r.Rev != 1 || r.Count != 0 || len(r.KVs) != 0 || r.More {
		t.Fatalf("range on fresh store: %+v", r)
	}
}

func TestPutGetDeleteVersions(t *testing.T) {
	s := newTestStore(t)
	steps := []struct {
		op   func() int64
		want *mvccpb.KeyValue // state of "foo" after the step; nil: absent
	}{
		{func() int64 { return mustPut(t, s, "foo", "v1", 0) }, kv("foo", "v1", 2, 2, 1, 0)},
		{func() int64 { return mustPut(t, s, "foo", "v2", 0) }, kv("foo", "v2", 2, 3, 2, 0)},
		{func() int64 { return mustPut(t, s, "foo", "v3", 7) }, kv("foo", "v3", 2, 4, 3, 7)},
		{func() int64 { _, rev := mustDelete(t, s, "foo", ""); return rev }, nil},
		{func() int64 { return mustPut(t, s, "foo", "v4", 0) }, kv("foo", "v4", 6, 6, 1, 0)}, // version reset
	}
	for i, st := range steps {
		rev := st.op()
		if want := int64(i + 2); rev != want || s.Rev() != want {
			t.Fatalf("step %d: revision %d (store %d), want %d", i, rev, s.Rev(), want)
		}
		var want []*mvccpb.KeyValue
		if st.want != nil {
			want = append(want, st.want)
		}
		if err := equalKVs(mustRange(t, s, "foo", "", RangeOptions{}).KVs, want); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// Every past revision still reads as it was.
	for i, st := range steps {
		var want []*mvccpb.KeyValue
		if st.want != nil {
			want = append(want, st.want)
		}
		r := mustRange(t, s, "foo", "", RangeOptions{Rev: int64(i + 2)})
		if err := equalKVs(r.KVs, want); err != nil {
			t.Fatalf("at revision %d: %v", i+2, err)
		}
		if r.Rev != 6 {
			t.Fatalf("header revision %d at a past read, want the current 6", r.Rev)
		}
	}
	if got := mustRange(t, s, "foo", "", RangeOptions{Rev: 1}); len(got.KVs) != 0 {
		t.Fatalf("revision 1 sees %v", got.KVs)
	}
}

func TestDeleteNothingKeepsRevision(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "1", 0)
	n, rev := mustDelete(t, s, "zzz", "")
	if n != 0 || rev != 2 || s.Rev() != 2 {
		t.Fatalf("deleting nothing: %d deleted, revision %d", n, rev)
	}
	if s.ConsistentIndex() != 2 {
		t.Fatalf("index %d: an unchanged transaction must still record its index", s.ConsistentIndex())
	}
	n, rev = mustDelete(t, s, "a", "")
	if n != 1 || rev != 3 {
		t.Fatalf("delete: %d deleted, revision %d", n, rev)
	}
	n, rev = mustDelete(t, s, "a", "")
	if n != 0 || rev != 3 {
		t.Fatalf("deleting a deleted key: %d deleted, revision %d", n, rev)
	}
}

func TestRangeEnds(t *testing.T) {
	s := newTestStore(t)
	keys := []string{"a", "a\x00", "a\x00b", "ab", "b", "b\xff", "c"}
	for _, k := range slices.Backward(keys) {
		mustPut(t, s, k, "v", 0)
	}
	tests := []struct {
		key, end string
		want     []string
	}{
		{"a", "", []string{"a"}},
		{"a\x00", "", []string{"a\x00"}},
		{"zz", "", nil},
		{"a", "b", []string{"a", "a\x00", "a\x00b", "ab"}},
		{"a\x00", "a\x01", []string{"a\x00", "a\x00b"}},
		{"b", "\x00", []string{"b", "b\xff", "c"}},
		{"\x00", "\x00", keys},
		{"b", "a", nil},
		{"b", "b", nil},
		{"a\x00b", "b\xff", []string{"a\x00b", "ab", "b"}},
	}
	for _, tc := range tests {
		r := mustRange(t, s, tc.key, tc.end, RangeOptions{})
		if got := keysOf(r.KVs); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Range(%q, %q) = %q, want %q", tc.key, tc.end, got, tc.want)
		}
		if r.Count != int64(len(tc.want)) {
			t.Errorf("Range(%q, %q) count %d, want %d", tc.key, tc.end, r.Count, len(tc.want))
		}
	}
}

func TestRangeLimitCountKeysOnly(t *testing.T) {
	s := newTestStore(t)
	for i := range 10 {
		mustPut(t, s, "k"+string(rune('0'+i)), strings.Repeat("v", i+1), 0)
	}
	mustDelete(t, s, "k5", "")
	r := mustRange(t, s, "k", "l", RangeOptions{Limit: 3})
	if got := keysOf(r.KVs); !slices.Equal(got, []string{"k0", "k1", "k2"}) || r.Count != 9 || !r.More {
		t.Fatalf("limit 3: keys %q count %d more %v", got, r.Count, r.More)
	}
	r = mustRange(t, s, "k", "l", RangeOptions{Limit: 9})
	if len(r.KVs) != 9 || r.More {
		t.Fatalf("limit equal to count: %d kvs more %v", len(r.KVs), r.More)
	}
	r = mustRange(t, s, "k", "l", RangeOptions{CountOnly: true})
	if len(r.KVs) != 0 || r.Count != 9 || r.More {
		t.Fatalf("count only: %+v", r)
	}
	r = mustRange(t, s, "k", "l", RangeOptions{KeysOnly: true})
	for _, kv := range r.KVs {
		if kv.Value != nil || kv.Version != 1 || kv.ModRevision == 0 {
			t.Fatalf("keys only: %v", kv)
		}
	}
	// Count is as of the requested revision.
	r = mustRange(t, s, "k", "l", RangeOptions{Rev: 5, CountOnly: true})
	if r.Count != 4 {
		t.Fatalf("count at revision 5: %d, want 4", r.Count)
	}
}

func TestRevisionErrors(t *testing.T) {
	s := newTestStore(t)
	for i := range 5 {
		mustPut(t, s, "k", string(rune('a'+i)), 0)
	}
	_, err := s.Range([]byte("k"), nil, RangeOptions{Rev: 7})
	isErr(t, err, ErrFutureRev)
	if err.Error() != "mvcc: required revision is a future revision" {
		t.Fatalf("message %q differs from etcd's", err)
	}
	mustCompact(t, s, 4)
	_, err = s.Range([]byte("k"), nil, RangeOptions{Rev: 3})
	isErr(t, err, ErrCompacted)
	if err.Error() != "mvcc: required revision has been compacted" {
		t.Fatalf("message %q differs from etcd's", err)
	}
	_, err = s.Compact(4, nextIndex(s))
	isErr(t, err, ErrCompacted)
	_, err = s.Compact(3, nextIndex(s))
	isErr(t, err, ErrCompacted)
	_, err = s.Compact(7, nextIndex(s))
	isErr(t, err, ErrFutureRev)
	// At the compaction revision itself reads still work.
	r := mustRange(t, s, "k", "", RangeOptions{Rev: 4})
	if err := equalKVs(r.KVs, []*mvccpb.KeyValue{kv("k", "c", 2, 4, 3, 0)}); err != nil {
		t.Fatal(err)
	}
	// A future-revision check comes before the compaction check (as etcd).
	_, err = s.Range([]byte("k"), nil, RangeOptions{Rev: 100})
	isErr(t, err, ErrFutureRev)
}

func TestCompactionKeepsLatest(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "a1", 0) // 2
	mustPut(t, s, "b", "b1", 0) // 3
	mustPut(t, s, "a", "a2", 0) // 4
	mustDelete(t, s, "b", "")   // 5
	mustPut(t, s, "c", "c1", 0) // 6
	mustDelete(t, s, "c", "")   // 7
	mustPut(t, s, "a", "a3", 0) // 8
	mustPut(t, s, "d", "d1", 0) // 9
	before := mustRange(t, s, "\x00", "\x00", RangeOptions{Rev: 7})
	mustCompact(t, s, 7)
	after := mustRange(t, s, "\x00", "\x00", RangeOptions{Rev: 7})
	if err := equalKVs(after.KVs, before.KVs); err != nil {
		t.Fatalf("range at the compaction revision changed: %v", err)
	}
	if err := equalKVs(after.KVs, []*mvccpb.KeyValue{kv("a", "a2", 2, 4, 2, 0)}); err != nil {
		t.Fatal(err)
	}
	// Survivors: a@4 (newest at or below 7), a@8, d@9, and c's tombstone
	// at exactly 7. Dropped: a@2, b@3, b's tombstone@5, c@6.
	if n := countRecords(t, s); n[tagKey] != 4 || n[tagRev] != 4 {
		t.Fatalf("records after compaction: %v, want 4 KV and 4 revision records", n)
	}
	ev, _, err := s.Changes(7, []byte("\x00"), []byte("\x00"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 3 || ev[0].Type != mvccpb.Event_DELETE || string(ev[0].Kv.Key) != "c" {
		t.Fatalf("changes from the compaction revision: %v", ev)
	}
	if s.KeyCount() != 2 || s.Rev() != 9 {
		t.Fatalf("keys %d rev %d", s.KeyCount(), s.Rev())
	}
	// A later compaction drops the tombstone kept at 7.
	mustCompact(t, s, 8)
	if n := countRecords(t, s); n[tagKey] != 2 {
		t.Fatalf("records after the second compaction: %v", n)
	}
}

func TestCompactionInSmallBatches(t *testing.T) {
	db := openDB(t, memFS())
	opts := testOptions()
	opts.CompactionBatchLimit = 3
	s := openStore(t, db, opts)
	for round := range 4 {
		for i := range 10 {
			mustPut(t, s, string(rune('a'+i)), string(rune('0'+round)), 0)
		}
		mustPut(t, s, "hot", string(rune('0'+round)), 0)
	}
	mustDelete(t, s, "a", "c")
	want := mustRange(t, s, "\x00", "\x00", RangeOptions{})
	mustCompact(t, s, s.Rev())
	got := mustRange(t, s, "\x00", "\x00", RangeOptions{})
	if err := equalKVs(got.KVs, want.KVs); err != nil {
		t.Fatal(err)
	}
	// 9 live keys, each with one record, plus a's and b's tombstones at
	// exactly the compaction revision.
	if n := countRecords(t, s); n[tagKey] != 11 || n[tagRev] != 11 {
		t.Fatalf("records: %v", n)
	}
}

func TestWriteTxnSeesOwnWritesAndOneRevision(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "x", "0", 0)
	w := s.Write()
	if w.Rev() != 2 || w.Changed() {
		t.Fatalf("fresh txn rev %d changed %v", w.Rev(), w.Changed())
	}
	if _, err := w.Put([]byte("a"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	prev, err := w.Put([]byte("a"), []byte("2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalKVs([]*mvccpb.KeyValue{prev}, []*mvccpb.KeyValue{kv("a", "1", 3, 3, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	deleted, err := w.DeleteRange([]byte("x"), nil)
	if err != nil || len(deleted) != 1 {
		t.Fatalf("delete in txn: %v %v", deleted, err)
	}
	r, err := w.Range([]byte("\x00"), []byte("\x00"), RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := equalKVs(r.KVs, []*mvccpb.KeyValue{kv("a", "2", 3, 3, 2, 0)}); err != nil || r.Rev != 3 {
		t.Fatalf("txn's own view (rev %d): %v", r.Rev, err)
	}
	// Readers do not see the transaction before End.
	if got := mustRange(t, s, "a", "", RangeOptions{}); len(got.KVs) != 0 {
		t.Fatalf("uncommitted write visible: %v", got.KVs)
	}
	rev, err := w.End(nextIndex(s))
	if err != nil || rev != 3 {
		t.Fatalf("End: rev %d err %v", rev, err)
	}
	ev, next, err := s.Changes(3, []byte("\x00"), []byte("\x00"), 10)
	if err != nil || next != 4 || len(ev) != 3 {
		t.Fatalf("changes: %v next %d err %v", ev, next, err)
	}
	if ev[0].Kv.Version != 1 || ev[1].Kv.Version != 2 || ev[2].Type != mvccpb.Event_DELETE {
		t.Fatalf("events out of sub-revision order: %v", ev)
	}
}

func TestAbortDiscards(t *testing.T) {
	s := newTestStore(t)
	w := s.Write()
	if _, err := w.Put([]byte("a"), []byte("1"), 5); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if s.Rev() != 1 || s.ConsistentIndex() != 0 {
		t.Fatalf("abort changed state: rev %d index %d", s.Rev(), s.ConsistentIndex())
	}
	if keys, err := s.KeysWithLease(5); err != nil || len(keys) != 0 {
		t.Fatalf("aborted lease attachment visible: %q %v", keys, err)
	}
	mustPut(t, s, "b", "1", 0) // the writer lock was released
}

func TestStaleIndexRefused(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "1", 0)
	w := s.Write()
	if _, err := w.Put([]byte("a"), []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := w.End(s.ConsistentIndex())
	isErr(t, err, ErrStaleIndex)
	if s.Rev() != 2 {
		t.Fatalf("a refused End changed the revision to %d", s.Rev())
	}
	_, err = s.Compact(1, 1)
	isErr(t, err, ErrStaleIndex)
}

func TestSizeLimits(t *testing.T) {
	db := openDB(t, memFS())
	opts := testOptions()
	opts.MaxKeySize, opts.MaxValueSize = 4, 8
	s := openStore(t, db, opts)
	w := s.Write()
	defer w.Abort()
	_, err := w.Put([]byte("12345"), nil, 0)
	isErr(t, err, ErrKeyTooLarge)
	_, err = w.Put([]byte("k"), []byte("123456789"), 0)
	isErr(t, err, ErrValueTooLarge)
	_, err = w.Put(nil, nil, 0)
	isErr(t, err, ErrEmptyKey)
	if _, err = w.Put([]byte("1234"), []byte("12345678"), 0); err != nil {
		t.Fatal(err)
	}
	if w.Changed() != true {
		t.Fatal("a valid put after refused ones was lost")
	}
}

func TestLeaseIndex(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "1", 10)
	mustPut(t, s, "b", "1", 10)
	mustPut(t, s, "c", "1", 20)
	mustPut(t, s, "b", "2", 20) // moves b from 10 to 20
	mustPut(t, s, "c", "2", 0)  // detaches c
	mustPut(t, s, "z", "1", -1) // the largest lease as an unsigned key
	mustDelete(t, s, "a", "")
	mustPut(t, s, "d", "1", 10)
	check := func(lease int64, want ...string) {
		t.Helper()
		keys, err := s.KeysWithLease(lease)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(keys))
		for i, k := range keys {
			got[i] = string(k)
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("lease %d keys %q, want %q", lease, got, want)
		}
	}
	check(10, "d")
	check(20, "b")
	check(-1, "z")
	check(30)
	var all []string
	err := s.ForEachLeasedKey(func(lease int64, key []byte) error {
		all = append(all, string(key))
		return nil
	})
	if err != nil || !slices.Equal(all, []string{"d", "b", "z"}) {
		t.Fatalf("all leased keys %q err %v", all, err)
	}
	stop := errors.New("stop")
	if err := s.ForEachLeasedKey(func(int64, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestOnCommitEvents(t *testing.T) {
	db := openDB(t, memFS())
	type commit struct {
		rev    int64
		events []*mvccpb.Event
	}
	var got []commit
	opts := testOptions()
	opts.OnCommit = func(rev int64, events []*mvccpb.Event) { got = append(got, commit{rev, events}) }
	s := openStore(t, db, opts)
	mustPut(t, s, "a", "1", 0)
	mustPut(t, s, "a", "2", 3)
	mustDelete(t, s, "b", "") // nothing: no call
	mustDelete(t, s, "a", "")
	if len(got) != 3 || got[0].rev != 2 || got[1].rev != 3 || got[2].rev != 4 {
		t.Fatalf("commits: %v", got)
	}
	e := got[1].events[0]
	if e.Type != mvccpb.Event_PUT || e.Kv.Version != 2 || e.Kv.Lease != 3 || string(e.PrevKv.Value) != "1" {
		t.Fatalf("put event: %v", e)
	}
	e = got[2].events[0]
	want := &mvccpb.KeyValue{Key: []byte("a"), ModRevision: 4}
	if e.Type != mvccpb.Event_DELETE || !equalKV(e.Kv, want) || string(e.PrevKv.Value) != "2" {
		t.Fatalf("delete event: %v", e)
	}
	// Changes reproduces the same events from history.
	ev, _, err := s.Changes(2, []byte("a"), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var fromHook []*mvccpb.Event
	for _, c := range got {
		fromHook = append(fromHook, c.events...)
	}
	if err := equalEvents(ev, fromHook); err != nil {
		t.Fatal(err)
	}
}

func TestChangesLimitAndFilter(t *testing.T) {
	s := newTestStore(t)
	for i := range 5 {
		w := s.Write()
		for _, k := range []string{"a", "b", "c"} {
			if _, err := w.Put([]byte(k), []byte{byte('0' + i)}, 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.End(nextIndex(s)); err != nil {
			t.Fatal(err)
		}
	}
	// Revisions 2..6, three events each. Limit 4 stops after revision 3.
	ev, next, err := s.Changes(2, []byte("\x00"), []byte("\x00"), 4)
	if err != nil || len(ev) != 6 || next != 4 {
		t.Fatalf("limit 4: %d events next %d err %v", len(ev), next, err)
	}
	ev, next, err = s.Changes(next, []byte("b"), nil, 100)
	if err != nil || len(ev) != 3 || next != 7 || ev[0].Kv.ModRevision != 4 || string(ev[0].PrevKv.Value) != "1" {
		t.Fatalf("key b from 4: %v next %d err %v", ev, next, err)
	}
	ev, next, err = s.Changes(7, []byte("a"), []byte("z"), 100)
	if err != nil || len(ev) != 0 || next != 7 {
		t.Fatalf("caught up: %v next %d err %v", ev, next, err)
	}
	mustCompact(t, s, 4)
	_, _, err = s.Changes(3, []byte("a"), nil, 10)
	isErr(t, err, ErrCompacted)
	if ev, _, err = s.Changes(4, []byte("a"), nil, 10); err != nil || len(ev) != 3 {
		t.Fatalf("from the compaction revision: %v %v", ev, err)
	}
	_, _, err = s.Changes(4, []byte("a"), nil, 0)
	isErr(t, err, ErrInvalidLimit)
}

func TestHashKV(t *testing.T) {
	build := func(batch int) *Store {
		db := openDB(t, memFS())
		opts := testOptions()
		opts.CompactionBatchLimit = batch
		s := openStore(t, db, opts)
		for i := range 30 {
			k := string(rune('a' + i%7))
			if i%5 == 4 {
				mustDelete(t, s, k, "")
			} else {
				mustPut(t, s, k, string(rune('A'+i)), int64(i%3))
			}
		}
		return s
	}
	a, b := build(1000), build(1)
	ha, err := a.HashKV(0)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := b.HashKV(0)
	if ha != hb || ha.Revision != a.Rev() || ha.CompactRevision != -1 {
		t.Fatalf("same history, different hashes: %+v %+v", ha, hb)
	}
	h20a, _ := a.HashKV(20)
	if h20a == ha {
		t.Fatal("hash at revision 20 equals the hash at the head")
	}
	// Compact b without waiting: its hash must not depend on the
	// physical progress, and must equal a's after a's full compaction.
	if _, err := b.Compact(20, nextIndex(b)); err != nil {
		t.Fatal(err)
	}
	hb, err = b.HashKV(0)
	if err != nil {
		t.Fatal(err)
	}
	mustCompact(t, a, 20)
	ha, _ = a.HashKV(0)
	if ha != hb || ha.CompactRevision != 20 {
		t.Fatalf("hash depends on compaction progress: %+v vs %+v", ha, hb)
	}
	_, err = a.HashKV(20)
	isErr(t, err, ErrCompacted)
	_, err = a.HashKV(a.Rev() + 1)
	isErr(t, err, ErrFutureRev)
	// A differing history hashes differently.
	mustPut(t, b, "a", "different", 0)
	mustPut(t, a, "a", "other", 0)
	ha, _ = a.HashKV(0)
	hb, _ = b.HashKV(0)
	if ha.Hash == hb.Hash {
		t.Fatal("different values, same hash")
	}
}

func TestReadTxnIsAPointInTime(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "1", 0)
	r, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	defer r.End()
	mustPut(t, s, "a", "2", 0)
	mustCompact(t, s, 3)
	got, err := r.Range([]byte("a"), nil, RangeOptions{Rev: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := equalKVs(got.KVs, []*mvccpb.KeyValue{kv("a", "1", 2, 2, 1, 0)}); err != nil || got.Rev != 2 {
		t.Fatalf("read txn view moved (rev %d): %v", got.Rev, err)
	}
}

func TestClosedStore(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "1", 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Range([]byte("a"), nil, RangeOptions{})
	isErr(t, err, ErrClosed)
	w := s.Write()
	_, err = w.Put([]byte("a"), nil, 0)
	isErr(t, err, ErrClosed)
	_, err = w.End(10)
	isErr(t, err, ErrClosed)
	_, err = s.Compact(2, 10)
	isErr(t, err, ErrClosed)
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Options){
		func(o *Options) { o.KeyPrefix = "" },
		func(o *Options) { o.MaxKeySize = 0 },
		func(o *Options) { o.MaxValueSize = MaxEntrySize + 1 },
		func(o *Options) { o.CompactionBatchLimit = 0 },
		func(o *Options) { o.RestoreBatchBytes = 1 },
	} {
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v validated: %v", o, err)
		}
	}
}

func equalKV(a, b *mvccpb.KeyValue) bool {
	return equalKVs([]*mvccpb.KeyValue{a}, []*mvccpb.KeyValue{b}) == nil
}

// TestConcurrentReadersSeeWholeTransactions runs readers against a writer
// and compactions: every transaction writes a and b with the same value,
// so a reader that ever sees them differ saw half a transaction.
func TestConcurrentReadersSeeWholeTransactions(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, "a", "0", 0)
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				r, err := s.Range([]byte("a"), []byte("c"), RangeOptions{})
				if err != nil {
					errs <- err
					return
				}
				if len(r.KVs) == 2 && string(r.KVs[0].Value) != string(r.KVs[1].Value) {
					errs <- fmt.Errorf("half a transaction at revision %d: %v", r.Rev, r.KVs)
					return
				}
			}
		}()
	}
	for i := range 300 {
		w := s.Write()
		v := []byte(fmt.Sprint(i))
		if _, err := w.Put([]byte("a"), v, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Put([]byte("b"), v, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := w.End(nextIndex(s)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			if _, err := s.Compact(s.Rev()-1, nextIndex(s)); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestMetricsRegisterAndUnregister(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := openDB(t, memFS())
	opts := testOptions()
	opts.Registerer = reg
	s, err := Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "a", "1", 0)
	mustPut(t, s, "b", "1", 0)
	want := map[string]float64{"cairn_mvcc_keys": 2, "cairn_mvcc_revision": 3, "cairn_mvcc_compact_revision": -1}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		seen[f.GetName()] = true
		if v, ok := want[f.GetName()]; ok && f.GetMetric()[0].GetGauge().GetValue() != v {
			t.Errorf("%s = %v, want %v", f.GetName(), f.GetMetric()[0].GetGauge().GetValue(), v)
		}
	}
	for _, name := range []string{"cairn_mvcc_db_bytes", "cairn_mvcc_write_txn_duration_seconds", "cairn_mvcc_range_duration_seconds"} {
		if !seen[name] {
			t.Errorf("metric %s missing", name)
		}
	}
	if _, err := Open(db, opts); err == nil {
		t.Fatal("a second store registered the same metrics")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, db, opts) // registers again after Close
}
