package replica

import (
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cairndb/cairn/eventual/object"
)

// openUncached opens a store without the object cache, so every read is
// answered by the key index or by Pebble.
func openUncached(t *testing.T, db *pebble.DB, maxIndexed int) *Store {
	t.Helper()
	s, err := Open(Config{DB: db, CacheBytes: -1, MaxIndexedKeys: maxIndexed, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func setKey(t *testing.T, s *Store, key, value string, ms int64) {
	t.Helper()
	if _, err := s.Mutate([]byte(key), func(o *object.Object) (object.Object, error) {
		return o.Set(stamp(s, ms), []byte(value), object.SetOptions{})
	}); err != nil {
		t.Fatal(err)
	}
}

func wantValue(t *testing.T, s *Store, key, want string) {
	t.Helper()
	o, err := s.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	v, ok, _ := o.Get(1 << 40)
	if got := string(v); (want == "") == ok || got != want {
		t.Fatalf("Get(%q) = %q (present %v), want %q", key, got, ok, want)
	}
}

// TestKeyIndexKnowsNewKeys: the index is rebuilt at Open, answers reads of
// keys never stored without Pebble, and follows writes and purges.
func TestKeyIndexKnowsNewKeys(t *testing.T) {
	db := openDB(t, vfs.NewMem())
	s := openUncached(t, db, 0)
	setKey(t, s, "a", "1", 1000)
	setKey(t, s, "b", "1", 1000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openUncached(t, db, 0)
	defer s.Close()
	if n := s.index.size(); n != 2 {
		t.Fatalf("index holds %d keys after reopening, want 2", n)
	}
	wantValue(t, s, "a", "1")
	wantValue(t, s, "new", "")
	if n := testutil.ToFloat64(s.m.indexAbsent); n != 1 {
		t.Fatalf("reads answered by the index: %v, want 1", n)
	}
	setKey(t, s, "c", "1", 1001)
	wantValue(t, s, "c", "1")
	enc, err := s.GetEncoded([]byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if purged, err := s.Purge([]byte("b"), enc); err != nil || !purged {
		t.Fatalf("Purge = %v, %v", purged, err)
	}
	wantValue(t, s, "b", "")
	if n := s.index.size(); n != 2 {
		t.Fatalf("index holds %d keys after a write and a purge, want 2 (a, c)", n)
	}
}

// TestKeyIndexPastItsLimitIsNotUsed: past MaxIndexedKeys the index stops
// answering, while writing and at Open, and every read stays right.
func TestKeyIndexPastItsLimitIsNotUsed(t *testing.T) {
	db := openDB(t, vfs.NewMem())
	s := openUncached(t, db, 2)
	setKey(t, s, "a", "1", 1000)
	setKey(t, s, "b", "1", 1000)
	if n := s.index.size(); n != 2 {
		t.Fatalf("index holds %d keys, want 2", n)
	}
	setKey(t, s, "c", "1", 1000)
	if s.index.complete.Load() {
		t.Fatal("index still used past its limit")
	}
	for i := range s.index.shards {
		if s.index.shards[i].keys != nil {
			t.Fatal("index past its limit still holds its keys")
		}
	}
	wantValue(t, s, "c", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openUncached(t, db, 2)
	defer s.Close()
	if s.index.complete.Load() {
		t.Fatal("index built at Open with more keys than its limit")
	}
	for _, k := range []string{"a", "b", "c"} {
		wantValue(t, s, k, "1")
	}
}
