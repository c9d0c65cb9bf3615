package mvcc

import (
	"fmt"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// indexKeys lists the key index's keys, or nil when it is not in use.
func indexKeys(s *Store) []string {
	if !s.index.complete {
		return nil
	}
	var keys []string
	for k := range s.index.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestKeyIndexIsRebuiltAtOpen writes keys (one with an escaped zero byte),
// deletes one, compacts, reopens, and requires the index to hold exactly
// the live keys, and a Put of a new key to skip the seek while a Put of a
// live one still finds its previous record.
func TestKeyIndexIsRebuiltAtOpen(t *testing.T) {
	db := openDB(t, vfs.NewMem())
	opts := testOptions()
	opts.LatestCacheBytes = 0 // every answer comes from the index or a seek
	s := openStore(t, db, opts)
	for _, k := range []string{"a", "b\x00z", "c", "d"} {
		mustPut(t, s, k, "v1", 0)
	}
	mustPut(t, s, "a", "v2", 0)
	mustDelete(t, s, "c", "")
	if _, err := s.Compact(s.Rev(), nextIndex(s)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]string{"a", "b\x00z", "d"})
	if got := fmt.Sprint(indexKeys(s)); got != want {
		t.Fatalf("index before reopen %q, want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, db, opts)
	if got := fmt.Sprint(indexKeys(s)); got != want {
		t.Fatalf("index after reopen %q, want %q", got, want)
	}
	w := s.Write()
	prevNew, err1 := w.Put([]byte("e"), []byte("v"), 0)
	prevOld, err2 := w.Put([]byte("a"), []byte("v3"), 0)
	prevGone, err3 := w.Put([]byte("c"), []byte("v"), 0)
	if _, err := w.End(nextIndex(s)); err != nil || err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err, err1, err2, err3)
	}
	if prevNew != nil || prevGone != nil {
		t.Fatalf("new key's previous record %v, deleted key's %v: want none", prevNew, prevGone)
	}
	if prevOld == nil || string(prevOld.Value) != "v2" || prevOld.Version != 2 {
		t.Fatalf("live key's previous record %v, want v2 at version 2", prevOld)
	}
	if got := testutil.ToFloat64(s.metrics.indexAbsent); got != 2 {
		t.Fatalf("puts answered by the index: %v, want 2 (e and c)", got)
	}
}

// TestKeyIndexPastItsLimitIsDropped requires the index to stop being used
// (not to answer wrongly) once the live keys outnumber its limit, both
// while writing and at Open.
func TestKeyIndexPastItsLimitIsDropped(t *testing.T) {
	db := openDB(t, vfs.NewMem())
	opts := testOptions()
	opts.LatestCacheBytes = 0
	opts.KeyIndexMaxKeys = 2
	s := openStore(t, db, opts)
	mustPut(t, s, "a", "1", 0)
	mustPut(t, s, "b", "1", 0)
	if !s.index.complete {
		t.Fatal("index dropped at its limit, want it kept")
	}
	mustPut(t, s, "c", "1", 0)
	if s.index.complete {
		t.Fatal("index kept past its limit")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, db, opts)
	if s.index.complete {
		t.Fatal("index rebuilt at Open with more keys than its limit")
	}
	w := s.Write()
	prev, err := w.Put([]byte("c"), []byte("2"), 0)
	if _, eerr := w.End(nextIndex(s)); err != nil || eerr != nil {
		t.Fatal(err, eerr)
	}
	if prev == nil || string(prev.Value) != "1" {
		t.Fatalf("previous record %v, want c=1", prev)
	}
}
