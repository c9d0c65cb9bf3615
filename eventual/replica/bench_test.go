package replica

import (
	"strconv"
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// BenchmarkMutateSet is the local half of a SET: read, mutate, encode,
// write (periodic sync, so the disk is not measured).
func BenchmarkMutateSet(b *testing.B) {
	db := openDB(&testing.T{}, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		key := []byte("key:" + strconv.Itoa(i%100000))
		st := object.Stamp{Replica: s.ReplicaID(), TS: clock.Timestamp{WallTime: int64(i + 1)}}
		if _, err := s.Mutate(key, func(o *object.Object) (object.Object, error) {
			return o.Set(st, val, object.SetOptions{})
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyDelta is a replica's half: merge a peer's delta.
func BenchmarkApplyDelta(b *testing.B) {
	db := openDB(&testing.T{}, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var o object.Object
		d, _ := o.Set(object.Stamp{Replica: 7, TS: clock.Timestamp{WallTime: int64(i + 1)}}, val, object.SetOptions{})
		if _, err := s.Apply([]byte("key:"+strconv.Itoa(i%100000)), d); err != nil {
			b.Fatal(err)
		}
	}
}

// hotKeys is the key space of the hot benchmarks: the RESP comparison's
// 10,000 keys, which all stay in the object cache.
const hotKeys = 10_000

// BenchmarkMutateSetHot is BenchmarkMutateSet over keys written before:
// the cache holds every key, as under the RESP benchmark's load.
func BenchmarkMutateSetHot(b *testing.B) {
	db := openDB(&testing.T{}, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	set := func(i int) {
		st := object.Stamp{Replica: s.ReplicaID(), TS: clock.Timestamp{WallTime: int64(i + 1)}}
		if _, err := s.Mutate([]byte("key:"+strconv.Itoa(i%hotKeys)), func(o *object.Object) (object.Object, error) {
			return o.Set(st, val, object.SetOptions{})
		}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range hotKeys {
		set(i)
	}
	b.ReportAllocs()
	for i := hotKeys; b.Loop(); i++ {
		set(i)
	}
}

// BenchmarkApplyDeltaHot is BenchmarkApplyDelta over keys written before.
func BenchmarkApplyDeltaHot(b *testing.B) {
	db := openDB(&testing.T{}, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	apply := func(i int) {
		var o object.Object
		d, _ := o.Set(object.Stamp{Replica: 7, TS: clock.Timestamp{WallTime: int64(i + 1)}}, val, object.SetOptions{})
		if _, err := s.Apply([]byte("key:"+strconv.Itoa(i%hotKeys)), d); err != nil {
			b.Fatal(err)
		}
	}
	for i := range hotKeys {
		apply(i)
	}
	b.ReportAllocs()
	for i := hotKeys; b.Loop(); i++ {
		apply(i)
	}
}

// BenchmarkGetHot reads cached keys, as a GET at level ONE does locally.
func BenchmarkGetHot(b *testing.B) {
	db := openDB(&testing.T{}, vfs.NewMem())
	s, err := Open(Config{DB: db, Sync: SyncPeriodic})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	for i := range hotKeys {
		st := object.Stamp{Replica: s.ReplicaID(), TS: clock.Timestamp{WallTime: int64(i + 1)}}
		if _, err := s.Mutate([]byte("key:"+strconv.Itoa(i)), func(o *object.Object) (object.Object, error) {
			return o.Set(st, val, object.SetOptions{})
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get([]byte("key:" + strconv.Itoa(i%hotKeys))); err != nil {
			b.Fatal(err)
		}
	}
}
