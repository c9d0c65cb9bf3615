package transport

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
)

const testCluster = 0xca1e

// testConfig returns a config with timeouts short enough for tests.
func testConfig(id uint64, h Handler) Config {
	cfg := DefaultConfig()
	cfg.LocalID = id
	cfg.ClusterID = testCluster
	cfg.Handler = h
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.DialTimeout = 300 * time.Millisecond
	cfg.SendTimeout = 5 * time.Second // a loaded test machine can stall a reader for a while
	cfg.BackoffMin = 5 * time.Millisecond
	cfg.BackoffMax = 50 * time.Millisecond
	cfg.LogInterval = time.Second
	cfg.Breaker.ConsecutiveFailures = 3
	cfg.Breaker.OpenDuration = 50 * time.Millisecond
	cfg.Breaker.MaxOpenDuration = 200 * time.Millisecond
	cfg.Breaker.ProbeSuccesses = 1
	cfg.Breaker.ProbeTimeout = 10 * time.Second
	return cfg
}

// node is a transport serving on its own loopback listener.
type node struct {
	tr   *Transport
	srv  *grpc.Server
	addr string
	rec  *recorder
	done chan struct{} // closed when Serve has returned
}

// startNode starts a node with testConfig, adjusted by edit if not nil, on
// addr ("127.0.0.1:0" for any port). It is stopped at the end of the test.
func startNode(t testing.TB, id uint64, addr string, edit func(*Config)) *node {
	t.Helper()
	rec := newRecorder()
	cfg := testConfig(id, rec)
	if edit != nil {
		edit(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis := listen(t, addr)
	srv := grpc.NewServer(tr.ServerOptions()...)
	tr.Register(srv)
	n := &node{tr: tr, srv: srv, addr: lis.Addr().String(), rec: rec, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(n.stop)
	return n
}

// listen listens on addr, retrying for a while: a port just released may
// take a moment to be free again.
func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var err error
	for range 50 {
		var lis net.Listener
		if lis, err = net.Listen("tcp", addr); err == nil {
			return lis
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen %s: %v", addr, err)
	return nil
}

// stop closes the transport and stops the server; it may be called twice.
func (n *node) stop() {
	_ = n.tr.Close()
	n.srv.Stop()
	<-n.done
}

// recorder is a Handler that records what it receives.
type recorder struct {
	mu       sync.Mutex
	frames   map[uint64][][]byte
	calls    int
	changed  chan struct{} // signalled (without blocking) on every batch
	onFrames func(from uint64, frames [][]byte)
	snapshot func(ctx context.Context, from uint64, header []byte, body io.Reader) error
}

func newRecorder() *recorder {
	return &recorder{frames: map[uint64][][]byte{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) HandleFrames(from uint64, frames [][]byte) {
	if r.onFrames != nil {
		r.onFrames(from, frames)
	}
	r.mu.Lock()
	r.frames[from] = append(r.frames[from], frames...)
	r.calls++
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) HandleSnapshot(ctx context.Context, from uint64, header []byte, body io.Reader) error {
	if r.snapshot == nil {
		_, err := io.Copy(io.Discard, body)
		return err
	}
	return r.snapshot(ctx, from, header, body)
}

// received returns a copy of the frames received from a peer.
func (r *recorder) received(from uint64) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames[from]...)
}

func (r *recorder) count(from uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames[from])
}

func (r *recorder) batches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// seqFrame returns a frame of size bytes (at least 8) holding seq.
func seqFrame(seq uint64, size int) []byte {
	f := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(f, seq)
	return f
}

func frameSeq(f []byte) uint64 { return binary.BigEndian.Uint64(f) }

// sendAll sends frames seq from..to-1, retrying each refused one (a full
// queue pushes back), and fails the test if that takes too long.
func sendAll(t testing.TB, tr *Transport, to uint64, from, until uint64, size int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for seq := from; seq < until; seq++ {
		for !tr.Send(to, seqFrame(seq, size)) {
			if time.Now().After(deadline) {
				t.Fatalf("frame %d to %d still refused after 20s", seq, to)
			}
			runtime.Gosched()
		}
	}
}

func label(id uint64) string { return strconv.FormatUint(id, 10) }

// counter returns a counter's value.
func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// histogram returns a histogram's sample count and sum.
func histogram(t testing.TB, h prometheus.Histogram) (count uint64, sum float64) {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

// settledGoroutines waits for the goroutine count to stop falling and
// returns it.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}
