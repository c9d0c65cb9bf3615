package transport

import (
	"context"
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// countingHandler counts frames and signals when it has seen want.
type countingHandler struct {
	frames atomic.Int64
	want   atomic.Int64
	done   chan struct{}
}

func (h *countingHandler) HandleFrames(_ uint64, frames [][]byte) {
	if h.frames.Add(int64(len(frames))) == h.want.Load() {
		h.done <- struct{}{}
	}
}

func (h *countingHandler) HandleSnapshot(context.Context, uint64, []byte, io.Reader) error {
	return nil
}

// BenchmarkSend measures frames/s and MB/s from one transport to another
// over loopback, Send to HandleFrames, for small (Raft heartbeat-sized)
// and 4 KiB frames. allocs/op counts both sides.
func BenchmarkSend(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			h := &countingHandler{done: make(chan struct{}, 1)}
			recv := startNode(b, 2, "127.0.0.1:0", func(c *Config) { c.Handler = h })
			send := startNode(b, 1, "127.0.0.1:0", nil)
			if err := send.tr.AddPeer(2, recv.addr); err != nil {
				b.Fatal(err)
			}
			waitFor(b, 5*time.Second, "connection", func() bool { return send.tr.Peers()[0].Connected })
			// The transport never writes a frame, so one read-only frame
			// can be sent b.N times: the benchmark measures the
			// transport, not the caller's allocations.
			frame := make([]byte, size)
			h.want.Store(int64(b.N))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				for !send.tr.Send(2, frame) {
					time.Sleep(20 * time.Microsecond) // queue full: wait for the sender
				}
			}
			select {
			case <-h.done:
			case <-time.After(time.Minute):
				b.Fatalf("received %d of %d frames; lost with a broken stream: %v", h.frames.Load(), b.N,
					counter(send.tr.m.dropped.WithLabelValues(label(2), dropSendFailed.String())))
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
			messages, _ := histogram(b, send.tr.m.batchFrames)
			b.ReportMetric(float64(b.N)/float64(messages), "frames/msg")
		})
	}
}

// BenchmarkSnapshot measures snapshot throughput (64 MiB per op).
func BenchmarkSnapshot(b *testing.B) {
	const size = 64 << 20
	recv := startNode(b, 2, "127.0.0.1:0", nil)
	send := startNode(b, 1, "127.0.0.1:0", nil)
	if err := send.tr.AddPeer(2, recv.addr); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := send.tr.SendSnapshot(context.Background(), 2, nil, io.LimitReader(zeros{}, size)); err != nil {
			b.Fatal(err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
