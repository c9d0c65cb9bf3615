package replica

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cairndb/cairn/eventual/object"
	"github.com/cairndb/cairn/ring"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestAcceptorRangesSurviveReopen: a new store has no record; a record
// survives a reopen.
func TestAcceptorRangesSurviveReopen(t *testing.T) {
	fs := vfs.NewMem()
	db := openDB(t, fs)
	s := openStore(t, db, SyncAlways)
	if _, found, err := s.AcceptorRanges(); err != nil || found {
		t.Fatalf("new store: found=%v err=%v", found, err)
	}
	want := []ring.TokenRange{{Start: 10, End: 20}, {Start: 1 << 63, End: 5}}
	if err := s.SetAcceptorRanges(want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, db, SyncAlways)
	got, found, err := s.AcceptorRanges()
	if err != nil || !found || !slices.Equal(got, want) {
		t.Fatalf("after reopen: %v found=%v err=%v, want %v", got, found, err, want)
	}
	if err := s.SetAcceptorRanges(nil); err != nil {
		t.Fatal(err)
	}
	if got, found, err := s.AcceptorRanges(); err != nil || !found || len(got) != 0 {
		t.Fatalf("empty record: %v found=%v err=%v", got, found, err)
	}
}

// TestScanPaxosPagesInKeyOrder: ScanPaxos lists every acceptor state once,
// in key order, resuming after a cursor, and nothing else of the store.
func TestScanPaxosPagesInKeyOrder(t *testing.T) {
	s := openStore(t, openDB(t, vfs.NewMem()), SyncAlways)
	var keys []string
	for i := range 50 {
		k := fmt.Sprintf("key-%02d", i)
		keys = append(keys, k)
		err := s.PaxosUpdate([]byte(k), func([]byte, *object.Object) (PaxosStep, error) {
			return PaxosStep{State: []byte("state-" + k)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Mutate([]byte("plain"), func(o *object.Object) (object.Object, error) {
		return o.Set(stamp(s, 1), []byte("v"), object.SetOptions{})
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var cursor []byte
	for {
		n := 0
		err := s.ScanPaxos(cursor, func(key, state []byte) bool {
			if string(state) != "state-"+string(key) {
				t.Fatalf("key %q holds %q", key, state)
			}
			got = append(got, string(key))
			cursor = append(cursor[:0], key...)
			n++
			return n < 7
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 7 {
			break
		}
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("scanned %v, want %v", got, keys)
	}
}
