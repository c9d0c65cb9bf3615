package raftlog

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairndb/cairn/raft/raftpb"
)

// syncCountingFS counts the fsyncs Pebble issues (file and directory).
type syncCountingFS struct {
	vfs.FS
	syncs *atomic.Int64
}

func (fs syncCountingFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return syncCountingFile{File: f, syncs: fs.syncs}, nil
}

func (fs syncCountingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.Create(name, c))
}

func (fs syncCountingFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.OpenReadWrite(name, c, opts...))
}

func (fs syncCountingFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.ReuseForWrite(oldname, newname, c))
}

func (fs syncCountingFS) OpenDir(name string) (vfs.File, error) { return fs.wrap(fs.FS.OpenDir(name)) }

type syncCountingFile struct {
	vfs.File
	syncs *atomic.Int64
}

func (f syncCountingFile) Sync() error     { f.syncs.Add(1); return f.File.Sync() }
func (f syncCountingFile) SyncData() error { f.syncs.Add(1); return f.File.SyncData() }
func (f syncCountingFile) SyncTo(n int64) (bool, error) {
	f.syncs.Add(1)
	return f.File.SyncTo(n)
}

// BenchmarkSave measures Save of one Ready carrying 1, 16 and 256 entries
// of 256 bytes, synced, on the real disk (b.TempDir). It reports the
// fsyncs Pebble issued per Save and per entry.
func BenchmarkSave(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, n := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("sync=%t/entries=%d", sync, n), func(b *testing.B) {
				var syncs atomic.Int64
				db, err := pebble.Open(b.TempDir(), &pebble.Options{
					FS: syncCountingFS{FS: vfs.Default, syncs: &syncs}, Logger: silentLogger{}})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = db.Close() }()
				s := openStorage(b, db, testOptions())
				ents := make([]raftpb.Entry, n)
				next := uint64(1)
				b.SetBytes(int64(n * 256))
				b.ReportAllocs()
				syncs.Store(0)
				for b.Loop() {
					for i := range ents {
						ents[i] = payload(next, 1, 256)
						next++
					}
					u := Update{Entries: ents, HardState: raftpb.HardState{Term: 1, Vote: 1, Commit: next - 1}, Sync: sync}
					if err := s.Save(u); err != nil {
						b.Fatal(err)
					}
				}
				perSave := float64(syncs.Load()) / float64(b.N)
				b.ReportMetric(perSave, "fsyncs/save")
				b.ReportMetric(perSave/float64(n), "fsyncs/entry")
			})
		}
	}
}

// BenchmarkEntries reads 64 entries from the tail cache and from Pebble.
func BenchmarkEntries(b *testing.B) {
	for _, cached := range []bool{true, false} {
		b.Run(fmt.Sprintf("cached=%t", cached), func(b *testing.B) {
			opts := testOptions()
			if !cached {
				opts.CacheBytes = MinCacheBytes
			}
			s, _ := memStorage(b, opts)
			ents := make([]raftpb.Entry, 1024)
			for i := range ents {
				ents[i] = payload(uint64(i+1), 1, 256)
			}
			mustSave(b, s, Update{Entries: ents})
			b.ReportAllocs()
			for b.Loop() {
				if got, err := s.Entries(100, 164, noLimit); err != nil || len(got) != 64 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
