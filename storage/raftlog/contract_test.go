package raftlog

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

// TestStorageContract runs the scenario of raft's TestMemoryStorageContract
// against raft.MemoryStorage and against Storage: both must behave alike.
func TestStorageContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) { checkContract(t, raft.NewMemoryStorage()) })
	t.Run("pebble", func(t *testing.T) {
		s, _ := memStorage(t, testOptions())
		checkContract(t, durable{s})
	})
}

func checkContract(t *testing.T, s mutableStorage) {
	if err := s.Append(run(1, 1, 1, 2, 3, 3)); err != nil {
		t.Fatal(err)
	}
	if ents, err := s.Entries(2, 5, noLimit); err != nil || !slices.Equal(termsOf(ents), []uint64{1, 2, 3}) {
		t.Fatalf("Entries(2,5) = %v, %v", ents, err)
	}
	// Size limit returns a prefix, but at least one entry.
	if ents, _ := s.Entries(1, 6, 1); len(ents) != 1 {
		t.Fatalf("maxSize 1 gave %d entries", len(ents))
	}
	if ents, _ := s.Entries(1, 6, ent(1, 1, "e1").Size()+ent(2, 1, "e2").Size()); len(ents) != 2 {
		t.Fatalf("maxSize of two entries gave %d", len(ents))
	}
	if _, err := s.Entries(1, 7, noLimit); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("beyond last: %v", err)
	}
	if _, err := s.Term(6); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("term beyond last: %v", err)
	}
	// Appending a conflicting suffix replaces it.
	if err := s.Append(run(4, 4, 4)); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 5 {
		t.Fatalf("last %d", last)
	}
	if tm, _ := s.Term(4); tm != 4 {
		t.Fatalf("term(4) = %d", tm)
	}
	if err := s.Append(run(8, 4)); err == nil {
		t.Fatal("append with a gap accepted")
	}
	// Snapshot and compaction.
	cs := raftpb.ConfState{Voters: []uint64{1}}
	if _, err := s.CreateSnapshot(3, &cs, []byte("d")); err != nil {
		t.Fatal(err)
	}
	if snap, _ := s.Snapshot(); snap.Metadata.Index != 3 || snap.Metadata.Term != 2 || string(snap.Data) != "d" {
		t.Fatalf("snapshot %+v", snap)
	}
	if err := s.Compact(3); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.FirstIndex(); first != 4 {
		t.Fatalf("first %d", first)
	}
	if tm, err := s.Term(3); err != nil || tm != 2 {
		t.Fatalf("term of the compacted boundary %d, %v", tm, err)
	}
	if _, err := s.Entries(3, 4, noLimit); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("compacted entries: %v", err)
	}
	if _, err := s.Term(2); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("compacted term: %v", err)
	}
	if err := s.Compact(3); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("compact again: %v", err)
	}
	if err := s.Compact(6); err == nil {
		t.Fatal("compact beyond last accepted")
	}
	if _, err := s.CreateSnapshot(2, nil, nil); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Fatalf("old snapshot: %v", err)
	}
	// Appending entries below the snapshot skips them.
	if err := s.Append(run(1, 1, 2, 4, 4, 4, 4)); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 6 {
		t.Fatalf("last %d", last)
	}
	if err := s.SetHardState(raftpb.HardState{Term: 4, Vote: 1, Commit: 5}); err != nil {
		t.Fatal(err)
	}
	if hs, gotCS, err := s.InitialState(); err != nil || hs != (raftpb.HardState{Term: 4, Vote: 1, Commit: 5}) || cs.Equivalent(gotCS) != nil {
		t.Fatalf("initial state %v %v %v", hs, gotCS, err)
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: 5, ConfState: cs}}
	if err := s.ApplySnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if first, _ := s.FirstIndex(); first != 11 {
		t.Fatalf("after ApplySnapshot first %d", first)
	}
	if last, _ := s.LastIndex(); last != 10 {
		t.Fatalf("after ApplySnapshot last %d", last)
	}
	if tm, err := s.Term(10); err != nil || tm != 5 {
		t.Fatalf("term at the snapshot %d, %v", tm, err)
	}
	if err := s.ApplySnapshot(snap); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Fatalf("same snapshot again: %v", err)
	}
	if err := s.Bootstrap(cs); err == nil {
		t.Fatal("bootstrap of a used storage accepted")
	}
}

// TestStorageMatchesMemoryStorage runs random operations against
// raft.MemoryStorage (the reference) and Storage, with a tiny cache (so
// reads cross between Pebble and the cache) and reopens of the DB, and
// checks that every observable result agrees.
func TestStorageMatchesMemoryStorage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fs := vfs.NewMem()
		opts := testOptions()
		opts.CacheBytes = MinCacheBytes
		db := openDB(t, fs)
		defer func() { _ = db.Close() }()
		got := openStorage(t, db, opts)
		want := raft.NewMemoryStorage()
		var commit uint64

		ops := map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				first, last := bounds(t, want)
				start := rapid.Uint64Range(max(1, first-min(first, 3)), last+1).Draw(t, "start")
				if max(start, first) <= commit {
					start = commit + 1 // Raft never replaces committed entries
				}
				n := rapid.IntRange(1, 8).Draw(t, "n")
				term := rapid.Uint64Range(1, 9).Draw(t, "term")
				ents := make([]raftpb.Entry, n)
				for i := range ents {
					ents[i] = payload(start+uint64(i), term, rapid.IntRange(0, 300).Draw(t, "size"))
				}
				sameErr(t, "append", want.Append(ents), durable{got}.Append(ents))
			},
			"hardState": func(t *rapid.T) {
				_, last := bounds(t, want)
				commit = rapid.Uint64Range(commit, last).Draw(t, "commit")
				hs := raftpb.HardState{Term: rapid.Uint64Range(1, 9).Draw(t, "term"), Vote: rapid.Uint64Range(0, 3).Draw(t, "vote"), Commit: commit}
				sameErr(t, "hard state", want.SetHardState(hs), durable{got}.SetHardState(hs))
			},
			"compact": func(t *rapid.T) {
				first, last := bounds(t, want)
				i := rapid.Uint64Range(first-min(first, 2), last+1).Draw(t, "index")
				sameErr(t, "compact", want.Compact(i), got.Compact(i))
			},
			"createSnapshot": func(t *rapid.T) {
				first, last := bounds(t, want)
				i := rapid.Uint64Range(first-1, last+1).Draw(t, "index")
				var cs *raftpb.ConfState
				if rapid.Bool().Draw(t, "newConf") {
					cs = &raftpb.ConfState{Voters: []uint64{rapid.Uint64Range(1, 5).Draw(t, "voter")}}
				}
				data := []byte(rapid.StringN(1, 8, -1).Draw(t, "data"))
				ws, werr := want.CreateSnapshot(i, cs, data)
				gs, gerr := got.CreateSnapshot(i, cs, data)
				sameErr(t, "create snapshot", werr, gerr)
				if !reflect.DeepEqual(ws, gs) {
					t.Fatalf("created snapshot %+v, want %+v", gs, ws)
				}
			},
			"applySnapshot": func(t *rapid.T) {
				ws, _ := want.Snapshot()
				from := max(ws.Metadata.Index, commit, 1)
				snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
					Index:     rapid.Uint64Range(from, from+5).Draw(t, "index"),
					Term:      rapid.Uint64Range(1, 9).Draw(t, "term"),
					ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}},
				}}
				err := want.ApplySnapshot(snap)
				sameErr(t, "apply snapshot", err, durable{got}.ApplySnapshot(snap))
				if err == nil {
					commit = max(commit, snap.Metadata.Index)
				}
			},
			"reopen": func(t *rapid.T) {
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				db = openDB(t, fs)
				got = openStorage(t, db, opts)
			},
			"": func(t *rapid.T) { compareStorage(t, want, got) },
		}
		t.Repeat(ops)
	})
}

func bounds(t *rapid.T, s raft.Storage) (first, last uint64) {
	first, err1 := s.FirstIndex()
	last, err2 := s.LastIndex()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return first, last
}

// sameErr checks that both storages succeeded, or both failed alike.
func sameErr(t *rapid.T, op string, want, got error) {
	for _, class := range []error{raft.ErrCompacted, raft.ErrUnavailable, raft.ErrSnapOutOfDate} {
		if errors.Is(want, class) != errors.Is(got, class) {
			t.Fatalf("%s: got error %v, want %v", op, got, want)
		}
	}
	if (want == nil) != (got == nil) {
		t.Fatalf("%s: got error %v, want %v", op, got, want)
	}
}

// compareStorage compares every read of the raft.Storage interface.
func compareStorage(t *rapid.T, want *raft.MemoryStorage, got *Storage) {
	first, last := bounds(t, want)
	gFirst, gLast := bounds(t, got)
	if gFirst != first || gLast != last {
		t.Fatalf("bounds [%d, %d], want [%d, %d]", gFirst, gLast, first, last)
	}
	whs, wcs, _ := want.InitialState()
	ghs, gcs, _ := got.InitialState()
	if whs != ghs || !reflect.DeepEqual(wcs, gcs) {
		t.Fatalf("initial state %v %v, want %v %v", ghs, gcs, whs, wcs)
	}
	ws, _ := want.Snapshot()
	gs, _ := got.Snapshot()
	if !reflect.DeepEqual(ws, gs) {
		t.Fatalf("snapshot %+v, want %+v", gs, ws)
	}
	for i := first - min(first, 2); i <= last+1; i++ {
		wt, werr := want.Term(i)
		gt, gerr := got.Term(i)
		sameErr(t, "term", werr, gerr)
		if wt != gt {
			t.Fatalf("term(%d) = %d, want %d", i, gt, wt)
		}
	}
	lo := rapid.Uint64Range(first-min(first, 1), last+1).Draw(t, "lo")
	hi := rapid.Uint64Range(lo, last+2).Draw(t, "hi")
	maxSize := rapid.SampledFrom([]uint64{0, 100, 1000, noLimit}).Draw(t, "maxSize")
	we, werr := want.Entries(lo, hi, maxSize)
	ge, gerr := got.Entries(lo, hi, maxSize)
	sameErr(t, "entries", werr, gerr)
	if len(we) == 0 {
		we = nil
	}
	if len(ge) == 0 {
		ge = nil
	}
	if !reflect.DeepEqual(we, ge) {
		t.Fatalf("Entries(%d, %d, %d):\n got %v\nwant %v", lo, hi, maxSize, ge, we)
	}
	got.mu.RLock()
	defer got.mu.RUnlock()
	checkCache(t, &got.mu.cache, got.mu.lastIndex)
}

// checkCache asserts the tail cache's invariants.
func checkCache(t interface{ Fatalf(string, ...any) }, c *tailCache, lastIndex uint64) {
	var bytes uint64
	for i, e := range c.ents {
		bytes += e.Size()
		if i > 0 && e.Index != c.ents[i-1].Index+1 {
			t.Fatalf("cache not contiguous at %d", e.Index)
		}
	}
	if bytes != c.bytes || bytes > c.maxBytes {
		t.Fatalf("cache holds %d bytes, counts %d, max %d", bytes, c.bytes, c.maxBytes)
	}
	if n := len(c.ents); n > 0 && c.ents[n-1].Index != lastIndex {
		t.Fatalf("cache ends at %d, log at %d", c.ents[n-1].Index, lastIndex)
	}
}
