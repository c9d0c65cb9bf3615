package mvcc

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// writeHistory applies steps from to to-1 of a varied history: puts,
// overwrites, range deletes, leases and a compaction every 30 steps.
func writeHistory(t testing.TB, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		k := fmt.Sprintf("key%02d", i%13)
		switch {
		case i%9 == 8:
			mustDelete(t, s, k, fmt.Sprintf("key%02d", i%13+3))
		case i%30 == 29:
			if _, err := s.Compact(s.Rev()-3, nextIndex(s)); err != nil {
				t.Fatal(err)
			}
		default:
			mustPut(t, s, k, fmt.Sprintf("v%d", i), int64(i%4))
		}
	}
}

// storeState is what must survive a restart.
type storeState struct {
	rev, compactRev int64
	index           uint64
	keys            int64
	hash            KVHash
}

func stateOf(t testing.TB, s *Store) storeState {
	t.Helper()
	h, err := s.HashKV(0)
	if err != nil {
		t.Fatal(err)
	}
	return storeState{rev: s.Rev(), compactRev: s.CompactRev(), index: s.ConsistentIndex(), keys: s.KeyCount(), hash: h}
}

func TestRestartKeepsState(t *testing.T) {
	fs := vfs.NewMem()
	db := openRawDB(t, fs)
	s, err := Open(db, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	writeHistory(t, s, 0, 60)
	before := stateOf(t, s)
	leased, err := s.KeysWithLease(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, fs)
	s = openStore(t, db, testOptions())
	if after := stateOf(t, s); after != before {
		t.Fatalf("state changed across a restart:\n before %+v\n after  %+v", before, after)
	}
	if again, _ := s.KeysWithLease(2); fmt.Sprint(again) != fmt.Sprint(leased) {
		t.Fatalf("lease index changed: %q -> %q", leased, again)
	}
	if rev := mustPut(t, s, "new", "v", 0); rev != before.rev+1 {
		t.Fatalf("revision after restart %d, want %d", rev, before.rev+1)
	}
}

// TestPowerLossKeepsAppliedPrefix crashes a file system that drops every
// unsynced write. The store never syncs; a synced write elsewhere in the DB
// (as the Raft log's) makes every earlier batch durable. After the crash
// the store must be exactly as after some End at or after that point, and
// ConsistentIndex must say which.
func TestPowerLossKeepsAppliedPrefix(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	fs := vfs.NewCrashableMem()
	db := openRawDB(t, fs)
	s, err := Open(db, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[uint64]storeState{s.ConsistentIndex(): stateOf(t, s)}
	var durable uint64
	for i := range 80 {
		writeHistory(t, s, 3*i, 3*i+1+i%3)
		hashes[s.ConsistentIndex()] = stateOf(t, s)
		if rng.IntN(10) == 0 {
			if err := db.Set([]byte("\x01raft"), []byte{byte(i)}, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			durable = s.ConsistentIndex()
		}
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2 := openDB(t, crashed)
	s2 := openStore(t, db2, testOptions())
	got := stateOf(t, s2)
	want, ok := hashes[got.index]
	if !ok || got.index < durable {
		t.Fatalf("recovered index %d: not an End at or after the durable %d", got.index, durable)
	}
	// A compaction in progress may be behind, but the logical state is not.
	if got != want {
		t.Fatalf("state at index %d:\n got  %+v\n want %+v", got.index, got, want)
	}
}
