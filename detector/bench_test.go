package detector_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/detector"
)

// benchPhi returns a detector tracking nodes nodes, each with a full
// window of jittery 1 s intervals, and the time of the last heartbeat.
func benchPhi(b *testing.B, nodes, window int) (*detector.PhiAccrual[int], time.Time) {
	b.Helper()
	cfg := detector.DefaultPhiAccrualConfig()
	cfg.WindowSize, cfg.MaxNodes = window, nodes
	d, err := detector.NewPhiAccrual[int](cfg)
	if err != nil {
		b.Fatal(err)
	}
	var at time.Time
	for i := range window + 1 {
		at = epoch.Add(time.Duration(i)*time.Second + time.Duration(i%7)*10*time.Millisecond)
		for n := range nodes {
			if err := d.Heartbeat(n, at); err != nil {
				b.Fatal(err)
			}
		}
	}
	return d, at
}

// BenchmarkPhiSuspicion measures one phi computation, sweeping the number
// of tracked nodes (the map lookup is the only part that depends on it).
func BenchmarkPhiSuspicion(b *testing.B) {
	for _, nodes := range []int{1, 100, 4096} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			d, last := benchPhi(b, nodes, 100)
			now := last.Add(2500 * time.Millisecond)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = d.Suspicion(i%nodes, now)
				i++
			}
		})
	}
}

func BenchmarkPhiSuspicionParallel(b *testing.B) {
	d, last := benchPhi(b, 100, 100)
	now := last.Add(2500 * time.Millisecond)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_ = d.Suspicion(i%100, now)
			i++
		}
	})
}

// BenchmarkPhiHeartbeat measures recording a heartbeat into a full window
// (evict, add, refresh the mean and deviation), sweeping the window size.
func BenchmarkPhiHeartbeat(b *testing.B) {
	for _, window := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			d, last := benchPhi(b, 1, window)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := d.Heartbeat(0, last.Add(time.Duration(i)*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPhiHeartbeatParallel(b *testing.B) {
	const nodes = 64
	d, last := benchPhi(b, nodes, 100)
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		node := int(worker.Add(1)) % nodes
		at := last
		for pb.Next() {
			at = at.Add(time.Second)
			if err := d.Heartbeat(node, at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkFixedTimeoutAvailable(b *testing.B) {
	d, err := detector.NewFixedTimeout[int](detector.DefaultFixedTimeoutConfig())
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Heartbeat(1, epoch); err != nil {
		b.Fatal(err)
	}
	now := epoch.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Available(1, now)
	}
}
