package replica

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestFailedMutationLeavesNoTrace: a mutation that changes the Object and
// then fails must leave nothing of its change in the decoded state the
// cache hands to the next writer, nor in what readers see.
func TestFailedMutationLeavesNoTrace(t *testing.T) {
	db := openDB(t, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := []byte("k")
	stamp := func(wall int64) object.Stamp {
		return object.Stamp{Replica: s.ReplicaID(), TS: clock.Timestamp{WallTime: wall}}
	}
	set := func(wall int64, v string, fail error) error {
		_, err := s.Mutate(key, func(o *object.Object) (object.Object, error) {
			d, err := o.Set(stamp(wall), []byte(v), object.SetOptions{})
			if err == nil {
				err = fail
			}
			return d, err
		})
		return err
	}
	if err := set(1, "kept", nil); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := set(2, "lost", refused); !errors.Is(err, refused) {
		t.Fatalf("failed mutation returned %v", err)
	}
	var seen []byte
	if _, err := s.Mutate(key, func(o *object.Object) (object.Object, error) {
		seen, _, _ = o.Get(1)
		return object.Object{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if string(seen) != "kept" {
		t.Fatalf("next writer saw %q, want %q", seen, "kept")
	}
	o, err := s.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := o.Get(1); string(v) != "kept" {
		t.Fatalf("reader saw %q, want %q", v, "kept")
	}
}

// TestCacheKeepsAHotBigSetDecoded: the decoded state of a set of thousands
// of members stays cached across writes, so that a write to it does not
// read and decode the whole set again.
func TestCacheKeepsAHotBigSetDecoded(t *testing.T) {
	s := openStore(t, openDB(t, vfs.NewMem()), SyncPeriodic)
	defer s.Close()
	key := []byte("big")
	members := make([]string, 100)
	for batch := range 50 {
		for i := range members {
			members[i] = fmt.Sprintf("member-%06d", batch*len(members)+i)
		}
		st := stamp(s, int64(batch+1))
		if _, err := s.Mutate(key, func(o *object.Object) (object.Object, error) {
			d, _, err := o.SAdd(st, members...)
			return d, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	enc, o, decoded, ok := s.cache.take(key)
	if !ok || !decoded {
		t.Fatalf("cached %v, decoded %v after writes to a %d-byte set", ok, decoded, len(enc))
	}
	if n, _ := o.Card(0); n != 5000 {
		t.Fatalf("cached set has %d members, want 5000", n)
	}
}

// TestCacheKeepsTheEncodingOfAStateTooBigToKeepDecoded: past its shard's
// limit, a decoded state is dropped but its encoding, if small enough,
// stays.
func TestCacheKeepsTheEncodingOfAStateTooBigToKeepDecoded(t *testing.T) {
	c := newObjectCache(cacheShards * 64 << 10) // 64 KiB per shard
	small, big := make([]byte, 4<<10), make([]byte, 40<<10)
	c.putDecoded([]byte("small"), small, object.Object{})
	if _, _, decoded, ok := c.take([]byte("small")); !ok || decoded {
		t.Fatalf("4 KiB encoding: cached %v, decoded %v; want the encoding alone", ok, decoded)
	}
	c.putDecoded([]byte("big"), big, object.Object{})
	if _, ok := c.get([]byte("big")); ok {
		t.Fatal("a 40 KiB encoding was cached in a 64 KiB shard")
	}
}
