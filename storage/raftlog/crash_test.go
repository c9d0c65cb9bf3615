package raftlog

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairndb/cairn/raft/raftpb"
)

// crashAndReopen simulates a power loss at this instant: the clone keeps
// what was synced (and, with unsyncedPercent > 0, a random part of the
// rest). It opens Pebble and a Storage on the clone.
func crashAndReopen(t *testing.T, fs *vfs.MemFS, unsyncedPercent int, rng *rand.Rand) *Storage {
	t.Helper()
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent, RNG: rng})
	db := openDB(t, crashed)
	t.Cleanup(func() { _ = db.Close() })
	return openStorage(t, db, testOptions())
}

// TestPowerLossKeepsSyncedSaves checks the durability promise of Save
// with Sync: after a crash, every synced entry and hard state is there.
// The unsynced saves that follow are lost in the same crash, which shows
// the check can fail: without the fsync the data is not durable.
func TestPowerLossKeepsSyncedSaves(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db := openDB(t, fs)
	defer func() { _ = db.Close() }()
	s := openStorage(t, db, testOptions())
	if err := s.Bootstrap(raftpb.ConfState{Voters: []uint64{1}}); err != nil {
		t.Fatal(err)
	}
	var synced []raftpb.Entry
	var hs raftpb.HardState
	for i := uint64(1); i <= 10; i++ {
		e := ent(i, 1, fmt.Sprintf("synced-%d", i))
		hs = raftpb.HardState{Term: 1, Vote: 1, Commit: i - 1}
		mustSave(t, s, Update{Entries: []raftpb.Entry{e}, HardState: hs, Sync: true})
		synced = append(synced, e)
	}
	for i := uint64(11); i <= 15; i++ {
		mustSave(t, s, Update{Entries: []raftpb.Entry{ent(i, 1, "unsynced")}, HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: i - 1}})
	}

	after := crashAndReopen(t, fs, 0, nil)
	st := stateOf(t, after)
	if !reflect.DeepEqual(st.Entries, synced) || st.HardState != hs {
		t.Fatalf("after a crash: %d entries (want %d), hard state %v (want %v)", len(st.Entries), len(synced), st.HardState, hs)
	}
	if _, cs, _ := after.InitialState(); len(cs.Voters) != 1 {
		t.Fatalf("bootstrap configuration lost: %v", cs)
	}
}

// TestPowerLossLeavesConsistentPrefix crashes at random points of a run of
// synced and unsynced saves (some with conflicting suffixes and
// compactions), keeping a random part of the unsynced data. After every
// crash the storage must open and show the state as of some save at or
// after the last synced one: Pebble's WAL recovers a prefix of the batches,
// and each Save is one batch.
func TestPowerLossLeavesConsistentPrefix(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			fs := vfs.NewCrashableMem()
			db := openDB(t, fs)
			defer func() { _ = db.Close() }()
			s := openStorage(t, db, testOptions())
			// states[k] is the state after the k-th save; lastSynced the
			// newest synced one.
			states := []state{stateOf(t, s)}
			lastSynced := 0
			term := uint64(1)
			for range 5 + rng.IntN(26) {
				last, _ := s.LastIndex()
				first, _ := s.FirstIndex()
				hs := s.HardState()
				switch {
				case rng.IntN(8) == 0 && hs.Commit >= first:
					if err := s.Compact(hs.Commit); err != nil {
						t.Fatal(err)
					}
				default:
					// Append, sometimes replacing an uncommitted suffix.
					start := last + 1
					if rng.IntN(3) == 0 && last > hs.Commit {
						start = hs.Commit + 1 + rng.Uint64N(last-hs.Commit)
						term++
					}
					ents := make([]raftpb.Entry, 1+rng.IntN(5))
					for i := range ents {
						ents[i] = payload(start+uint64(i), term, rng.IntN(200))
					}
					newLast := start + uint64(len(ents)) - 1
					hs = raftpb.HardState{Term: term, Vote: 1, Commit: hs.Commit + rng.Uint64N(newLast-hs.Commit+1)}
					sync := rng.IntN(2) == 0
					mustSave(t, s, Update{Entries: ents, HardState: hs, Sync: sync})
					if sync {
						lastSynced = len(states)
					}
				}
				states = append(states, stateOf(t, s))
			}
			after := stateOf(t, crashAndReopen(t, fs, 50, rng))
			for k := lastSynced; k < len(states); k++ {
				if reflectEqualLog(states[k], after) {
					return
				}
			}
			t.Fatalf("state after crash matches no save since the last synced one (#%d of %d):\n%+v", lastSynced, len(states)-1, after)
		})
	}
}

// reflectEqualLog compares two states, ignoring the truncation point: an
// unsynced compaction may be lost, which only keeps more log. The entries
// both have must agree and both must end at the same index.
func reflectEqualLog(want, got state) bool {
	if want.HardState != got.HardState || want.Last != got.Last || got.First > want.First {
		return false
	}
	return reflect.DeepEqual(got.Entries[want.First-got.First:], want.Entries)
}
