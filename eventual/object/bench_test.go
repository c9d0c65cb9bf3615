package object

import (
	"testing"

	"github.com/cairndb/cairn/clock"
)

// benchString is a string key after two SETs from two replicas, the state
// a replica holds for a key of the SET benchmarks.
func benchString(b *testing.B) Object {
	var o Object
	val := make([]byte, 256)
	for i, r := range []clock.ReplicaID{1, 2} {
		if _, err := o.Set(Stamp{Replica: r, TS: clock.Timestamp{WallTime: int64(i + 1)}}, val, SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return o
}

// BenchmarkDecode decodes a string key's stored state.
func BenchmarkDecode(b *testing.B) {
	enc := benchString(b).AppendBinary(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClone copies a string key's state.
func BenchmarkClone(b *testing.B) {
	o := benchString(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = o.Clone()
	}
}

// BenchmarkAppendBinary encodes a string key's state.
func BenchmarkAppendBinary(b *testing.B) {
	o := benchString(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = o.AppendBinary(nil)
	}
}

// BenchmarkSet overwrites a string key, as a SET's local mutation does.
func BenchmarkSet(b *testing.B) {
	o := benchString(b)
	val := make([]byte, 256)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := o.Set(Stamp{Replica: 1, TS: clock.Timestamp{WallTime: int64(i + 10)}}, val, SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
