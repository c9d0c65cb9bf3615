package mvcc

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// benchStore opens a store on a real on-disk Pebble DB.
func benchStore(b *testing.B) *Store {
	b.Helper()
	db, err := pebble.Open(filepath.Join(b.TempDir(), "db"), &pebble.Options{Logger: quietLogger{}, CacheSize: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return openStore(b, db, testOptions())
}

// BenchmarkPut measures one single-put write transaction, End included,
// over a key space of 10k keys.
func BenchmarkPut(b *testing.B) {
	s := benchStore(b)
	value := make([]byte, 128)
	keys := make([][]byte, 10_000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "/registry/pods/ns/pod-%05d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w := s.Write()
		if _, err := w.Put(keys[i%len(keys)], value, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := w.End(uint64(i) + 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRange reads 1 and 100 consecutive keys of 10k, each with three
// revisions, at the current revision and at an older one.
func BenchmarkRange(b *testing.B) {
	s := benchStore(b)
	value := make([]byte, 128)
	for round := range 3 {
		w := s.Write()
		for i := range 10_000 {
			if _, err := w.Put(fmt.Appendf(nil, "/registry/pods/ns/pod-%05d", i), value, 0); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.End(uint64(round) + 1); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{1, 100} {
		for _, at := range []struct {
			name string
			rev  int64
		}{{"current", 0}, {"past", 3}} {
			b.Run(fmt.Sprintf("keys=%d/rev=%s", n, at.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := range b.N {
					start := (i * 37) % (10_000 - n)
					key := fmt.Appendf(nil, "/registry/pods/ns/pod-%05d", start)
					var end []byte
					if n > 1 {
						end = fmt.Appendf(nil, "/registry/pods/ns/pod-%05d", start+n)
					}
					r, err := s.Range(key, end, RangeOptions{Rev: at.rev})
					if err != nil || len(r.KVs) != n {
						b.Fatalf("%d kvs, %v", len(r.KVs), err)
					}
				}
			})
		}
	}
}
