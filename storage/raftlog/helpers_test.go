package raftlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

const noLimit = ^uint64(0)

var discardLogger = slog.New(slog.DiscardHandler)

// silentLogger keeps Pebble quiet in tests; a fatal error still stops them.
type silentLogger struct{}

func (silentLogger) Infof(string, ...any)              {}
func (silentLogger) Errorf(string, ...any)             {}
func (silentLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

const testDir = "db"

// tb is the part of testing.TB that *rapid.T has too.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// openDB opens (or reopens) a Pebble DB in fs.
func openDB(t tb, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(testDir, &pebble.Options{FS: fs, Logger: silentLogger{}})
	if err != nil {
		t.Fatalf("open pebble: %v", err)
	}
	return db
}

func testOptions() Options {
	opts := DefaultOptions()
	opts.Logger = discardLogger
	return opts
}

// openStorage opens a Storage on db with opts, failing the test on error.
func openStorage(t tb, db *pebble.DB, opts Options) *Storage {
	t.Helper()
	s, err := Open(db, opts)
	if err != nil {
		t.Fatalf("open storage: %v", err)
	}
	return s
}

// testDB is a Pebble DB on an in-memory file system that a test can
// close and reopen, as a restarted process would. The DB open at the end
// of the test is closed.
type testDB struct {
	fs vfs.FS
	*pebble.DB
}

// memStorage is a Storage on a fresh in-memory Pebble.
func memStorage(t testing.TB, opts Options) (*Storage, *testDB) {
	t.Helper()
	d := &testDB{fs: vfs.NewMem()}
	d.DB = openDB(t, d.fs)
	t.Cleanup(func() { _ = d.Close() })
	return openStorage(t, d.DB, opts), d
}

// reopen closes the DB, opens it again from the same files and opens a
// Storage on it.
func (d *testDB) reopen(t testing.TB, opts Options) *Storage {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("close pebble: %v", err)
	}
	d.DB = openDB(t, d.fs)
	return openStorage(t, d.DB, opts)
}

// ent is the entry at index with term and payload data (nil if empty, the
// form a decoder returns).
func ent(index, term uint64, data string) raftpb.Entry {
	e := raftpb.Entry{Type: raftpb.EntryNormal, Index: index, Term: term}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

// run returns entries first, first+1, ... with the given terms, each
// carrying its index as payload.
func run(first uint64, terms ...uint64) []raftpb.Entry {
	out := make([]raftpb.Entry, len(terms))
	for i, term := range terms {
		idx := first + uint64(i)
		out[i] = ent(idx, term, fmt.Sprintf("e%d", idx))
	}
	return out
}

// payload returns an entry with size bytes of data.
func payload(index, term uint64, size int) raftpb.Entry {
	e := ent(index, term, "")
	if size > 0 {
		e.Data = bytes.Repeat([]byte{byte(index)}, size)
	}
	return e
}

func termsOf(ents []raftpb.Entry) []uint64 {
	out := make([]uint64, len(ents))
	for i, e := range ents {
		out[i] = e.Term
	}
	return out
}

func mustSave(t testing.TB, s *Storage, u Update) {
	t.Helper()
	if err := s.Save(u); err != nil {
		t.Fatalf("save: %v", err)
	}
}

// durable adapts Storage to the mutators of raft.MemoryStorage, so the
// same scenario runs against both. Each mutation is its own synced Save.
type durable struct{ *Storage }

func (d durable) Append(ents []raftpb.Entry) error {
	return d.Save(Update{Entries: ents, Sync: true})
}

func (d durable) SetHardState(hs raftpb.HardState) error {
	return d.Save(Update{HardState: hs, Sync: true})
}

func (d durable) ApplySnapshot(snap raftpb.Snapshot) error {
	return d.Save(Update{Snapshot: snap, Sync: true})
}

// mutableStorage is what raft.MemoryStorage and durable have in common.
type mutableStorage interface {
	raft.Storage
	Append([]raftpb.Entry) error
	SetHardState(raftpb.HardState) error
	ApplySnapshot(raftpb.Snapshot) error
	CreateSnapshot(uint64, *raftpb.ConfState, []byte) (raftpb.Snapshot, error)
	Compact(uint64) error
	Bootstrap(raftpb.ConfState) error
}

var (
	_ mutableStorage = (*raft.MemoryStorage)(nil)
	_ mutableStorage = durable{}
)
