package raftlog

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// state is everything a Storage shows through raft.Storage.
type state struct {
	HardState raftpb.HardState
	ConfState raftpb.ConfState
	First     uint64
	Last      uint64
	Snapshot  raftpb.Snapshot
	Entries   []raftpb.Entry
	Truncated uint64 // Term(First-1)
}

func stateOf(t *testing.T, s *Storage) state {
	t.Helper()
	var st state
	var err error
	st.HardState, st.ConfState, _ = s.InitialState()
	st.First, _ = s.FirstIndex()
	st.Last, _ = s.LastIndex()
	st.Snapshot, _ = s.Snapshot()
	if st.Truncated, err = s.Term(st.First - 1); err != nil {
		t.Fatalf("term of the truncation point: %v", err)
	}
	if st.Entries, err = s.Entries(st.First, st.Last+1, noLimit); err != nil {
		t.Fatalf("entries: %v", err)
	}
	return st
}

func TestRestartRestoresState(t *testing.T) {
	s, db := memStorage(t, testOptions())
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
	if err := s.Bootstrap(cs); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, Update{HardState: raftpb.HardState{Term: 2, Vote: 1, Commit: 3}, Entries: run(1, 1, 1, 2, 2, 2), Sync: true})
	if _, err := s.CreateSnapshot(2, nil, []byte("handle")); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(2); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, s)
	after := stateOf(t, db.reopen(t, testOptions()))
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across restart:\nbefore %+v\n after %+v", before, after)
	}
	if after.First != 3 || after.Last != 5 || after.Truncated != 1 || after.Snapshot.Metadata.Index != 2 ||
		cs.Equivalent(after.ConfState) != nil || len(after.Entries) != 3 {
		t.Fatalf("unexpected state %+v", after)
	}
}

func TestSaveReplacesConflictingSuffix(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replace   []raftpb.Entry
		wantTerms []uint64
	}{
		{"shorter", run(6, 2, 2), []uint64{1, 1, 1, 1, 1, 2, 2}},
		{"longer", run(6, 2, 2, 2, 2, 2, 2, 2), []uint64{1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2}},
		{"same length", run(9, 3, 3), []uint64{1, 1, 1, 1, 1, 1, 1, 1, 3, 3}},
		{"whole log", run(1, 4), []uint64{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, db := memStorage(t, testOptions())
			mustSave(t, s, Update{Entries: run(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), Sync: true})
			mustSave(t, s, Update{Entries: tc.replace, Sync: true})
			check := func(s *Storage) {
				t.Helper()
				st := stateOf(t, s)
				if !slices.Equal(termsOf(st.Entries), tc.wantTerms) {
					t.Fatalf("terms %v, want %v", termsOf(st.Entries), tc.wantTerms)
				}
				if _, err := s.Term(uint64(len(tc.wantTerms)) + 1); !errors.Is(err, raft.ErrUnavailable) {
					t.Fatalf("entry past the replaced suffix: %v", err)
				}
			}
			check(s)
			// Nothing of the old suffix is left in Pebble.
			check(db.reopen(t, testOptions()))
		})
	}
}

func TestSnapshotAndEntriesInOneSave(t *testing.T) {
	s, db := memStorage(t, testOptions())
	mustSave(t, s, Update{Entries: run(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), HardState: raftpb.HardState{Term: 1, Commit: 2}, Sync: true})
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 20, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}
	mustSave(t, s, Update{Snapshot: snap, Entries: run(21, 3, 3), HardState: raftpb.HardState{Term: 3, Commit: 21}, Sync: true})
	st := stateOf(t, db.reopen(t, testOptions()))
	// The range deletion of the old log comes before the new entries in
	// the batch, so it does not delete them.
	if st.First != 21 || st.Last != 22 || st.Truncated != 3 || !slices.Equal(termsOf(st.Entries), []uint64{3, 3}) ||
		st.HardState.Commit != 21 || st.Snapshot.Metadata.Index != 20 {
		t.Fatalf("state %+v", st)
	}
}

func TestCompactUsesRangeDeletion(t *testing.T) {
	s, db := memStorage(t, testOptions())
	mustSave(t, s, Update{Entries: run(1, 1, 1, 2, 2, 3, 3), Sync: true})
	if err := s.Compact(4); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	// No entry key at or below 4 is visible in Pebble.
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: s.keys.entry(nil, 0), UpperBound: s.keys.entry(nil, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if it.First() {
		t.Fatalf("compacted key %q still visible", it.Key())
	}
	_ = it.Close()
	st := stateOf(t, db.reopen(t, testOptions()))
	if st.First != 5 || st.Truncated != 2 || !slices.Equal(termsOf(st.Entries), []uint64{3, 3}) {
		t.Fatalf("state %+v", st)
	}
}

// TestCacheEviction checks that a cache far smaller than the log stays
// within its bound and that reads spanning Pebble and the cache are exact.
func TestCacheEviction(t *testing.T) {
	opts := testOptions()
	opts.CacheBytes = MinCacheBytes
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	s, _ := memStorage(t, opts)
	var all []raftpb.Entry
	for i := uint64(1); i <= 100; i += 10 {
		batch := make([]raftpb.Entry, 10)
		for j := range batch {
			batch[j] = payload(i+uint64(j), 1+i/30, 100)
		}
		all = append(all, batch...)
		mustSave(t, s, Update{Entries: batch})
	}
	s.mu.RLock()
	checkCache(t, &s.mu.cache, 100)
	cached := len(s.mu.cache.ents)
	s.mu.RUnlock()
	// 1 KiB holds 8 entries of 124 bytes (Entry.Size).
	if cached != 8 {
		t.Fatalf("%d entries cached, want 8", cached)
	}
	if got := metricValue(t, s.metrics.cacheBytes); got != 8*124 {
		t.Fatalf("cache_bytes gauge %v", got)
	}
	got, err := s.Entries(1, 101, noLimit)
	if err != nil || !reflect.DeepEqual(got, all) {
		t.Fatalf("entries across Pebble and cache: %d entries, %v", len(got), err)
	}
	// The size limit applies across the boundary too: 90..95 is 6 entries.
	if got, _ := s.Entries(90, 101, 6*124); len(got) != 6 || got[5].Index != 95 {
		t.Fatalf("limited read: %d entries", len(got))
	}
	hits := metricValue(t, s.metrics.cacheHits)
	for i := uint64(93); i <= 100; i++ {
		if tm, err := s.Term(i); err != nil || tm != all[i-1].Term {
			t.Fatalf("term(%d) = %d, %v", i, tm, err)
		}
	}
	if got := metricValue(t, s.metrics.cacheHits) - hits; got != 8 {
		t.Fatalf("%v cache hits for the 8 cached terms", got)
	}
	// Replacing a suffix that is partly cached, partly not.
	mustSave(t, s, Update{Entries: run(90, 9, 9)})
	if got, err := s.Entries(88, 92, noLimit); err != nil || !slices.Equal(termsOf(got), []uint64{all[87].Term, all[88].Term, 9, 9}) {
		t.Fatalf("after replacement: %v, %v", got, err)
	}
	s.mu.RLock()
	checkCache(t, &s.mu.cache, 91)
	s.mu.RUnlock()
	// A single entry larger than the cache is not cached, but still read.
	big := payload(92, 9, 4*MinCacheBytes)
	mustSave(t, s, Update{Entries: []raftpb.Entry{big}})
	if got, err := s.Entries(92, 93, 0); err != nil || !bytes.Equal(got[0].Data, big.Data) {
		t.Fatalf("big entry: %v", err)
	}
	s.mu.RLock()
	checkCache(t, &s.mu.cache, 92)
	s.mu.RUnlock()
}

func TestWarmCacheOnOpen(t *testing.T) {
	s, db := memStorage(t, testOptions())
	mustSave(t, s, Update{Entries: run(1, 1, 1, 1), Sync: true})
	s = db.reopen(t, testOptions())
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.mu.cache.ents) != 3 || s.mu.cache.firstIndex() != 1 {
		t.Fatalf("cache not warmed: %v", s.mu.cache.ents)
	}
}

func TestBootstrap(t *testing.T) {
	s, _ := memStorage(t, testOptions())
	if err := s.Bootstrap(raftpb.ConfState{}); err == nil {
		t.Fatal("bootstrap without voters accepted")
	}
	cs := raftpb.ConfState{Voters: []uint64{1}}
	if err := s.Bootstrap(cs); err != nil {
		t.Fatal(err)
	}
	if err := s.Bootstrap(cs); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second bootstrap: %v", err)
	}
	s2, _ := memStorage(t, testOptions())
	mustSave(t, s2, Update{Entries: run(1, 1)})
	if err := s2.Bootstrap(cs); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("bootstrap over entries: %v", err)
	}
}

func TestSaveRejectsBadUpdates(t *testing.T) {
	s, db := memStorage(t, testOptions())
	mustSave(t, s, Update{Entries: run(1, 1, 1, 1), HardState: raftpb.HardState{Term: 1, Commit: 2}})
	before := stateOf(t, s)
	for name, u := range map[string]Update{
		"gap":                   {Entries: run(5, 1)},
		"not contiguous":        {Entries: []raftpb.Entry{ent(3, 1, ""), ent(5, 1, "")}},
		"commit beyond last":    {HardState: raftpb.HardState{Term: 1, Commit: 4}},
		"suffix under commit":   {Entries: run(2, 2), HardState: raftpb.HardState{Term: 2, Commit: 3}},
		"snapshot under commit": {Snapshot: raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1}}},
	} {
		if err := s.Save(u); !errors.Is(err, ErrBadUpdate) {
			t.Errorf("%s: got %v, want ErrBadUpdate", name, err)
		}
	}
	if after := stateOf(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("a rejected update changed the state:\nbefore %+v\n after %+v", before, after)
	}
	if after := stateOf(t, db.reopen(t, testOptions())); !reflect.DeepEqual(after, before) {
		t.Fatalf("a rejected update reached Pebble:\nbefore %+v\n after %+v", before, after)
	}
}

func TestOpenRejectsCorruptState(t *testing.T) {
	for name, corrupt := range map[string]func(s *Storage, db *testDB) error{
		"hard state": func(s *Storage, db *testDB) error { return db.Set(s.keys.hardState, []byte{9}, pebble.Sync) },
		"snapshot":   func(s *Storage, db *testDB) error { return db.Set(s.keys.snapshot, []byte{1, 1}, pebble.Sync) },
		"truncated":  func(s *Storage, db *testDB) error { return db.Set(s.keys.truncated, []byte{1}, pebble.Sync) },
		"first entry after truncation": func(s *Storage, db *testDB) error {
			return db.Set(s.keys.truncated, appendTruncatedState(nil, truncatedState{Index: 1, Term: 1}), pebble.Sync)
		},
		"commit beyond log": func(s *Storage, db *testDB) error {
			return db.Set(s.keys.hardState, raftpb.AppendHardState(nil, raftpb.HardState{Term: 1, Commit: 9}), pebble.Sync)
		},
		"entry under wrong key": func(s *Storage, db *testDB) error {
			return db.Set(s.keys.entry(nil, 3), raftpb.AppendEntry(nil, ent(2, 1, "")), pebble.Sync)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, db := memStorage(t, testOptions())
			mustSave(t, s, Update{Entries: run(1, 1, 1, 1)})
			if err := corrupt(s, db); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(db.DB, testOptions()); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
	// A gap in the tail is found by Open (which warms the cache from it);
	// a gap further back when it is read.
	opts := testOptions()
	opts.CacheBytes = MinCacheBytes
	s, db := memStorage(t, opts)
	for i := uint64(1); i <= 20; i++ {
		mustSave(t, s, Update{Entries: []raftpb.Entry{payload(i, 1, 100)}})
	}
	if err := db.Delete(s.keys.entry(nil, 2), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s = openStorage(t, db.DB, opts)
	if _, err := s.Entries(1, 5, noLimit); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read across a gap: %v", err)
	}
	if _, err := s.Term(2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("term of a missing entry: %v", err)
	}
	if err := db.Delete(s.keys.entry(nil, 19), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(db.DB, opts); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open over a gap in the tail: %v", err)
	}
}

// TestKeysStayUnderPrefix checks that two Storages and a state machine
// share one DB without touching each other's keys.
func TestKeysStayUnderPrefix(t *testing.T) {
	_, db := memStorage(t, testOptions())
	stateMachine := map[string]string{"a": "1", "\x01q": "2", "\x01s": "3", "\x01r": "4", "\x01r\x02x": "5", "\xff": "6"}
	for k, v := range stateMachine {
		if err := db.Set([]byte(k), []byte(v), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	open := func(prefix string) *Storage {
		opts := testOptions()
		opts.KeyPrefix = prefix
		return openStorage(t, db.DB, opts)
	}
	a, b := open("\x01r\x00"), open("\x01r\x01")
	for _, s := range []*Storage{a, b} {
		mustSave(t, s, Update{Entries: run(1, 1, 1, 1, 1), HardState: raftpb.HardState{Term: 1, Commit: 1}, Sync: true})
		if _, err := s.CreateSnapshot(2, &raftpb.ConfState{Voters: []uint64{1}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Compact(2); err != nil {
			t.Fatal(err)
		}
		mustSave(t, s, Update{Entries: run(3, 2)})
		mustSave(t, s, Update{Snapshot: raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 3}}})
	}
	// a's snapshot wiped its own log only.
	mustSave(t, b, Update{Entries: run(10, 3)})
	if last, _ := b.LastIndex(); last != 10 {
		t.Fatalf("b last %d", last)
	}
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	seen := map[string]string{}
	for ok := it.First(); ok; ok = it.Next() {
		k := string(it.Key())
		if bytes.HasPrefix(it.Key(), []byte("\x01r\x00")) || bytes.HasPrefix(it.Key(), []byte("\x01r\x01")) {
			continue
		}
		seen[k] = string(it.Value())
	}
	if !reflect.DeepEqual(seen, stateMachine) {
		t.Fatalf("keys outside the prefixes changed: %q", seen)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := testOptions()
	opts.Registerer = reg
	s, db := memStorage(t, opts)
	mustSave(t, s, Update{Entries: run(1, 1, 1, 1), Sync: true})
	mustSave(t, s, Update{Entries: run(4, 1)})
	if got := metricValue(t, s.metrics.syncedSaves); got != 1 {
		t.Fatalf("synced saves %v", got)
	}
	if got := metricValue(t, s.metrics.savedEntries); got != 4 {
		t.Fatalf("saved entries %v", got)
	}
	if got := metricValue(t, s.metrics.cacheEntries); got != 4 {
		t.Fatalf("cache entries %v", got)
	}
	if fams, err := reg.Gather(); err != nil || len(fams) != 8 {
		t.Fatalf("%d metrics gathered, %v", len(fams), err)
	}
	if _, err := Open(db.DB, opts); err == nil {
		t.Fatal("second registration with the same registerer accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Options){
		"no prefix":   func(o *Options) { o.KeyPrefix = "" },
		"long prefix": func(o *Options) { o.KeyPrefix = string(make([]byte, MaxKeyPrefixBytes+1)) },
		"tiny cache":  func(o *Options) { o.CacheBytes = MinCacheBytes - 1 },
		"zero cache":  func(o *Options) { o.CacheBytes = 0 },
		"huge cache":  func(o *Options) { o.CacheBytes = MaxCacheBytes + 1 },
	} {
		o := DefaultOptions()
		mut(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("not a counter or gauge: %v", &m)
	return 0
}
