package replica

import (
	"errors"
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
