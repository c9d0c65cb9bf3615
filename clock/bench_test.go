package clock

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkHLCNow(b *testing.B) {
	b.Run("system", func(b *testing.B) {
		h := NewHLC(SystemClock{}, DefaultMaxOffset)
		b.ReportAllocs()
		for b.Loop() {
			h.Now()
		}
	})
	b.Run("manual", func(b *testing.B) { // the lock and rule alone, no clock read cost
		h := NewHLC(NewManualClock(1), DefaultMaxOffset)
		b.ReportAllocs()
		for b.Loop() {
			h.Now()
		}
	})
	b.Run("manual/parallel", func(b *testing.B) { // lock contention alone
		h := NewHLC(NewManualClock(1), DefaultMaxOffset)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Now()
			}
		})
	})
	b.Run("system/parallel", func(b *testing.B) {
		h := NewHLC(SystemClock{}, DefaultMaxOffset)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Now()
			}
		})
	})
}

func BenchmarkSystemClockNow(b *testing.B) { // the floor under HLC Now
	b.ReportAllocs()
	var c SystemClock
	for b.Loop() {
		c.Now()
	}
}

func BenchmarkHLCUpdate(b *testing.B) {
	b.Run("remote behind", func(b *testing.B) {
		h := NewHLC(SystemClock{}, DefaultMaxOffset)
		remote := Timestamp{WallTime: time.Now().Add(-time.Second).UnixNano()}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Update(remote); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remote ahead", func(b *testing.B) { // the remote leads every time
		h := NewHLC(NewManualClock(1_000), DefaultMaxOffset)
		remote := Timestamp{WallTime: 1_000}
		b.ReportAllocs()
		for b.Loop() {
			remote.WallTime++ // stays within the max offset for 5e8 iterations
			if _, err := h.Update(remote); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		h := NewHLC(SystemClock{}, DefaultMaxOffset)
		remote := Timestamp{WallTime: time.Now().UnixNano()}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := h.Update(remote); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkLamport(b *testing.B) {
	b.Run("Tick", func(b *testing.B) {
		var l Lamport
		b.ReportAllocs()
		for b.Loop() {
			l.Tick()
		}
	})
	b.Run("Tick/parallel", func(b *testing.B) {
		var l Lamport
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Tick()
			}
		})
	})
	b.Run("Witness/parallel", func(b *testing.B) {
		var l Lamport
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var r LamportTime
			for pb.Next() {
				r = l.Witness(r + 1)
			}
		})
	})
}

// benchVectors returns two vectors over n replicas that are concurrent
// (each ahead somewhere), the worst case for Compare.
func benchVectors(n int) (VersionVector, VersionVector) {
	var a, b VersionVector
	for i := range n {
		a.Set(ReplicaID(i*7+1), uint64(i+5))
		b.Set(ReplicaID(i*7+1), uint64(i+5))
	}
	a.Set(1, 1000)
	b.Set(ReplicaID((n-1)*7+1), 1000)
	return a, b
}

var vectorSizes = []int{3, 10, 100}

func BenchmarkVersionVectorMerge(b *testing.B) {
	for _, n := range vectorSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			x, y := benchVectors(n)
			b.ReportAllocs()
			for b.Loop() {
				m := x // Merge replaces m's slice; x is not modified
				m.Merge(y)
			}
		})
	}
}

func BenchmarkVersionVectorCompare(b *testing.B) {
	for _, n := range vectorSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			x, y := benchVectors(n)
			b.ReportAllocs()
			for b.Loop() {
				if x.Compare(y) != Concurrent {
					b.Fatal("want concurrent")
				}
			}
		})
	}
}

func BenchmarkVersionVectorEncoding(b *testing.B) {
	for _, n := range vectorSizes {
		x, _ := benchVectors(n)
		buf := x.AppendBinary(nil)
		b.Run(fmt.Sprintf("append/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			dst := make([]byte, 0, len(buf))
			for b.Loop() {
				dst = x.AppendBinary(dst[:0])
			}
		})
		b.Run(fmt.Sprintf("decode/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, _, err := DecodeVersionVector(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTimestampEncoding(b *testing.B) {
	ts := Timestamp{WallTime: time.Now().UnixNano(), Logical: 3}
	buf := ts.AppendBinary(nil)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		dst := make([]byte, 0, TimestampSize)
		for b.Loop() {
			dst = ts.AppendBinary(dst[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeTimestamp(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDVV(b *testing.B) {
	for _, n := range []int{3, 10} {
		ctx, _ := benchVectors(n)
		d := DVV{Dot: Dot{Replica: 1, Counter: ctx.Get(1) + 1}, Context: ctx}
		buf := d.AppendBinary(nil)
		b.Run(fmt.Sprintf("decode/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := DecodeDVV(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A key with s concurrent siblings (one per coordinator) syncing with a
	// replica that holds the same versions.
	for _, s := range []int{1, 4, 16} {
		var set []Sibling[int]
		for i := range s {
			set = append(set, Sibling[int]{Clock: DVV{Dot: Dot{Replica: ReplicaID(i + 1), Counter: 1}}, Value: i})
		}
		b.Run(fmt.Sprintf("Sync/%d", s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Sync(set, set)
			}
		})
		b.Run(fmt.Sprintf("Put/%d", s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Put(set, VersionVector{}, 1, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
