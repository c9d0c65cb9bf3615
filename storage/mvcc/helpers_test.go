package mvcc

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// openDB opens a Pebble DB on fs at "db" that closes with t, after every
// store opened later (cleanups run last-in first-out).
func openDB(t testing.TB, fs vfs.FS) *pebble.DB {
	t.Helper()
	db := openRawDB(t, fs)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// openRawDB opens a Pebble DB on fs at "db" that the test closes itself.
func openRawDB(t testing.TB, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// quietLogger keeps Pebble's info lines out of test output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// newTestStore opens a store on a fresh in-memory DB; both close with t.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	return openStore(t, openDB(t, vfs.NewMem()), testOptions())
}

// openStore opens a store on db that closes with t (before the DB).
func openStore(t testing.TB, db *pebble.DB, opts Options) *Store {
	t.Helper()
	s, err := Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// nextIndex is the consistent index for the next applied entry.
func nextIndex(s *Store) uint64 { return s.ConsistentIndex() + 1 }

// mustPut puts key=value in its own transaction and returns the revision.
func mustPut(t testing.TB, s *Store, key, value string, lease int64) int64 {
	t.Helper()
	w := s.Write()
	if _, err := w.Put([]byte(key), []byte(value), lease); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	rev, err := w.End(nextIndex(s))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// mustDelete deletes [key, end) in its own transaction.
func mustDelete(t testing.TB, s *Store, key, end string) (deleted int, rev int64) {
	t.Helper()
	w := s.Write()
	prevs, err := w.DeleteRange([]byte(key), bytesOrNil(end))
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	rev, err = w.End(nextIndex(s))
	if err != nil {
		t.Fatal(err)
	}
	return len(prevs), rev
}

// mustCompact compacts at rev and waits for the physical compaction.
func mustCompact(t testing.TB, s *Store, rev int64) {
	t.Helper()
	done, err := s.Compact(rev, nextIndex(s))
	if err != nil {
		t.Fatal(err)
	}
	<-done
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// kv builds an expected KeyValue.
func kv(key, value string, create, mod, version, lease int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(key), Value: bytesOrNil(value), CreateRevision: create,
		ModRevision: mod, Version: version, Lease: lease}
}

// mustRange ranges and fails the test on error.
func mustRange(t testing.TB, s *Store, key, end string, opts RangeOptions) *RangeResult {
	t.Helper()
	r, err := s.Range([]byte(key), bytesOrNil(end), opts)
	if err != nil {
		t.Fatalf("Range(%q, %q, %+v): %v", key, end, opts, err)
	}
	return r
}

// equalKVs compares KeyValues field by field.
func equalKVs(got, want []*mvccpb.KeyValue) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d KVs %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			return fmt.Errorf("KV %d: got %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// countRecords counts the physical records of the active generation by tag.
func countRecords(t testing.TB, s *Store) map[byte]int {
	t.Helper()
	s.mu.RLock()
	it, err := s.newIterLocked()
	l := s.mu.layout
	s.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := map[byte]int{}
	for valid := it.First(); valid; valid = it.Next() {
		n[it.Key()[len(l.prefix)]]++
	}
	return n
}

// isErr checks errors.Is with a readable failure.
func isErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// keysOf lists the keys of KVs.
func keysOf(kvs []*mvccpb.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.Key)
	}
	return out
}

// testOptions are DefaultOptions with a silent logger.
func testOptions() Options {
	o := DefaultOptions()
	o.Logger = slog.New(slog.DiscardHandler)
	return o
}

// memFS returns a fresh in-memory file system.
func memFS() vfs.FS { return vfs.NewMem() }

// equalEvents compares events field by field.
func equalEvents(got, want []*mvccpb.Event) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d events %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			return fmt.Errorf("event %d: got %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}
