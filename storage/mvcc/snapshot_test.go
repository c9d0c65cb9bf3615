package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// snapshotOf writes s's snapshot stream.
func snapshotOf(t testing.TB, s *Store) ([]byte, SnapshotInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := s.Snapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), info
}

// allKVs reads every live key.
func allKVs(t testing.TB, s *Store) string {
	t.Helper()
	return fmt.Sprint(mustRange(t, s, "\x00", "\x00", RangeOptions{}).KVs)
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	src := newTestStore(t)
	writeHistory(t, src, 0, 100)
	mustPut(t, src, "with\x00zero", "v", 9)
	snap, info := snapshotOf(t, src)
	if info.Revision != src.Rev() || info.ConsistentIndex != src.ConsistentIndex() || info.CompactRevision != src.CompactRev() {
		t.Fatalf("info %+v", info)
	}

	dst := newTestStore(t)
	writeHistory(t, dst, 500, 520) // state to be replaced
	got, err := dst.Restore(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if got != info {
		t.Fatalf("restore info %+v, snapshot info %+v", got, info)
	}
	if a, b := stateOf(t, src), stateOf(t, dst); a != b {
		t.Fatalf("restored state differs:\n src %+v\n dst %+v", a, b)
	}
	if allKVs(t, src) != allKVs(t, dst) {
		t.Fatal("restored keys differ")
	}
	if keys, _ := dst.KeysWithLease(9); len(keys) != 1 || string(keys[0]) != "with\x00zero" {
		t.Fatalf("restored lease index: %q", keys)
	}
	// History too: Changes and past reads.
	a, _, err := src.Changes(src.CompactRev(), []byte("\x00"), []byte("\x00"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := dst.Changes(dst.CompactRev(), []byte("\x00"), []byte("\x00"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalEvents(b, a); err != nil {
		t.Fatal(err)
	}
	// The old generation is gone and writes continue from the snapshot.
	dst.mu.RLock()
	old := newLayout(dst.keyPrefix, otherGen(dst.mu.layout.gen))
	dst.mu.RUnlock()
	if found, err := dst.anyKey(old.prefix, old.end); err != nil || found {
		t.Fatalf("the replaced generation survived the restore (%v)", err)
	}
	if rev := mustPut(t, dst, "after", "v", 0); rev != info.Revision+1 {
		t.Fatalf("revision after restore %d", rev)
	}
	// A second restore flips back to the first generation.
	if _, err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if a, b := stateOf(t, src), stateOf(t, dst); a != b {
		t.Fatalf("second restore differs:\n src %+v\n dst %+v", a, b)
	}
}

func TestSnapshotOfFreshStore(t *testing.T) {
	snap, info := snapshotOf(t, newTestStore(t))
	dst := newTestStore(t)
	mustPut(t, dst, "a", "1", 0)
	if _, err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if dst.Rev() != 1 || dst.CompactRev() != -1 || info.Records != 0 {
		t.Fatalf("rev %d compact %d records %d", dst.Rev(), dst.CompactRev(), info.Records)
	}
}

func TestRestoreRejectsCorruptStreams(t *testing.T) {
	src := newTestStore(t)
	writeHistory(t, src, 0, 40)
	snap, _ := snapshotOf(t, src)
	dst := newTestStore(t)
	writeHistory(t, dst, 200, 230)
	want := stateOf(t, dst)
	corrupt := map[string][]byte{
		"empty":           nil,
		"truncated":       snap[:len(snap)/2],
		"no checksum":     snap[:len(snap)-4],
		"trailing byte":   append(bytes.Clone(snap), 0),
		"flipped bit":     flip(snap, len(snap)/3),
		"flipped trailer": flip(snap, len(snap)-1),
		"bad magic":       flip(snap, 0),
	}
	for name, stream := range corrupt {
		if _, err := dst.Restore(bytes.NewReader(stream)); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("%s: %v, want ErrSnapshotCorrupt", name, err)
		}
		if got := stateOf(t, dst); got != want {
			t.Fatalf("%s: a failed restore changed the store:\n %+v\n %+v", name, got, want)
		}
	}
	// A reader that fails midway leaves the store as it was too.
	boom := errors.New("connection reset")
	if _, err := dst.Restore(io.MultiReader(bytes.NewReader(snap[:len(snap)/2]), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("reader failure: %v", err)
	}
	if got := stateOf(t, dst); got != want {
		t.Fatalf("a failed restore changed the store")
	}
	if n := countRecords(t, dst); n[tagKey] == 0 {
		t.Fatal("store emptied")
	}
}

// TestCrashMidRestoreKeepsOldState cuts the power while a restore has
// written (and made durable) part of the new generation: on reopen the old
// state is intact and the partial generation is gone.
func TestCrashMidRestoreKeepsOldState(t *testing.T) {
	src := newTestStore(t)
	writeHistory(t, src, 0, 200)
	snap, _ := snapshotOf(t, src)

	fs := vfs.NewCrashableMem()
	db := openRawDB(t, fs)
	opts := testOptions()
	opts.RestoreBatchBytes = MinRestoreBatchBytes
	dst, err := Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeHistory(t, dst, 300, 340)
	if err := db.Set([]byte("\x01raft"), nil, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	want := stateOf(t, dst)
	big := bytes.Repeat([]byte("x"), 1<<10)
	for i := range 200 { // enough records for several restore batches
		mustPut(t, src, fmt.Sprintf("big%03d", i), string(big), 0)
	}
	snap, _ = snapshotOf(t, src)

	var crashed *vfs.MemFS
	r := &hookReader{r: bytes.NewReader(snap), at: len(snap) * 3 / 4, hook: func() error {
		// Make what Restore wrote so far durable, then cut the power.
		if err := db.Set([]byte("\x01raft"), nil, pebble.Sync); err != nil {
			return err
		}
		crashed = fs.CrashClone(vfs.CrashCloneCfg{})
		return errors.New("power cut")
	}}
	if _, err := dst.Restore(r); err == nil || crashed == nil {
		t.Fatalf("restore did not reach the crash point: %v", err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openDB(t, crashed)
	// The partial generation is on disk before Open...
	other := newLayout([]byte(opts.KeyPrefix), genB)
	if it, _ := db2.NewIter(&pebble.IterOptions{LowerBound: other.prefix, UpperBound: other.end}); !it.First() {
		t.Fatal("the crash point is too early: nothing of the new generation is durable")
	} else {
		it.Close()
	}
	s := openStore(t, db2, testOptions())
	if got := stateOf(t, s); got != want {
		t.Fatalf("state after a crash mid-restore:\n got  %+v\n want %+v", got, want)
	}
	// ...and gone after it.
	it, _ := db2.NewIter(&pebble.IterOptions{LowerBound: other.prefix, UpperBound: other.end})
	defer it.Close()
	if it.First() {
		t.Fatal("Open left the abandoned generation behind")
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x10
	return c
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// hookReader runs hook once `at` bytes have been read, returning its error.
type hookReader struct {
	r    io.Reader
	at   int
	n    int
	hook func() error
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.n >= h.at {
		return 0, h.hook()
	}
	p = p[:min(len(p), h.at-h.n)]
	n, err := h.r.Read(p)
	h.n += n
	return n, err
}
