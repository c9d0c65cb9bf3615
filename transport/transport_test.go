package transport

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

// Frames from one sender reach each peer complete and in order, with two
// peers fed at once under a load that fills the queues.
func TestFramesDeliveredInOrderPerPeer(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) { c.QueueLen = 256 })
	b := startNode(t, 2, "127.0.0.1:0", nil)
	c := startNode(t, 3, "127.0.0.1:0", nil)
	for _, p := range []*node{b, c} {
		if err := a.tr.AddPeer(p.tr.cfg.LocalID, p.addr); err != nil {
			t.Fatal(err)
		}
	}
	n := uint64(20000)
	if testing.Short() {
		n = 4000
	}
	var wg sync.WaitGroup
	for _, to := range []uint64{2, 3} {
		wg.Go(func() { sendAll(t, a.tr, to, 0, n, 100) })
	}
	wg.Wait()
	for _, p := range []*node{b, c} {
		waitFor(t, 10*time.Second, "all frames", func() bool { return p.rec.count(1) == int(n) })
		for i, f := range p.rec.received(1) {
			if got := frameSeq(f); got != uint64(i) {
				t.Fatalf("node %d: frame %d carries seq %d", p.tr.cfg.LocalID, i, got)
			}
		}
	}
	if d := counter(a.tr.m.dropped.WithLabelValues(label(2), dropSendFailed.String())); d != 0 {
		t.Errorf("%v frames lost on a healthy link", d)
	}
}

// A single frame on an idle link goes out at once, alone.
func TestIdleFrameIsNotHeldBack(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", nil)
	b := startNode(t, 2, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "connection", func() bool { return a.tr.Peers()[0].Connected })
	start := time.Now()
	if !a.tr.Send(2, []byte("ping")) {
		t.Fatal("Send refused a frame on an idle link")
	}
	waitFor(t, time.Second, "the frame", func() bool { return b.rec.count(1) == 1 })
	t.Logf("one frame delivered in %v", time.Since(start))
	if got := string(b.rec.received(1)[0]); got != "ping" {
		t.Fatalf("got %q", got)
	}
}

// While the receiver is busy, frames pile up and leave as few large
// messages: the count of stream messages, seen by both sides, is a
// fraction of the count of frames, and no message exceeds the bounds.
func TestBatchingBatches(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	const maxFrames = 256
	b := startNode(t, 2, "127.0.0.1:0", func(c *Config) {
		c.Handler.(*recorder).onFrames = func(uint64, [][]byte) {
			once.Do(func() { <-release }) // hold the first batch
		}
	})
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) { c.MaxBatchFrames = maxFrames })
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	sendAll(t, a.tr, 2, 0, 1, 64)
	waitFor(t, 5*time.Second, "the first batch to reach the handler", func() bool {
		c, _ := histogram(t, a.tr.m.batchFrames)
		return c == 1
	})
	sendAll(t, a.tr, 2, 1, n, 64)
	close(release)
	waitFor(t, 10*time.Second, "all frames", func() bool { return b.rec.count(1) == n })

	messages, frames := histogram(t, a.tr.m.batchFrames)
	t.Logf("%d frames in %d messages", int(frames), messages)
	if frames != n {
		t.Fatalf("histogram counts %v frames, want %d", frames, n)
	}
	if messages > n/10 || messages < (n+maxFrames-1)/maxFrames {
		t.Errorf("%d messages for %d frames: want between %d and %d", messages, n, (n+maxFrames-1)/maxFrames, n/10)
	}
	if got := b.rec.batches(); uint64(got) != messages {
		t.Errorf("receiver saw %d batches, sender sent %d messages", got, messages)
	}
	for i, f := range b.rec.received(1) {
		if frameSeq(f) != uint64(i) {
			t.Fatalf("frame %d carries seq %d", i, frameSeq(f))
		}
	}
}

// With the peer down, Send fails once the queue fills and then fast, as
// the breaker opens; the transport reconnects when the peer returns, both
// before it was ever reached and after an established stream broke.
func TestPeerDownThenBack(t *testing.T) {
	const queueLen = 16
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) {
		c.QueueLen = queueLen
		// Open long enough to observe, short enough to recover quickly.
		c.Breaker.OpenDuration = time.Second
		c.Breaker.MaxOpenDuration = 2 * time.Second
	})

	// A port that nothing listens on (for now).
	lis := listen(t, "127.0.0.1:0")
	addr := lis.Addr().String()
	_ = lis.Close()
	if err := a.tr.AddPeer(2, addr); err != nil {
		t.Fatal(err)
	}
	expectRefusals(t, a, queueLen)
	if err := a.tr.Peers()[0].LastError; err == nil {
		t.Error("no LastError for a peer that cannot be reached")
	}

	b := startNode(t, 2, addr, nil)
	expectDelivery(t, a, b)

	// Now break an established connection.
	b.stop()
	expectRefusals(t, a, queueLen)
	b2 := startNode(t, 2, addr, nil)
	expectDelivery(t, a, b2)

	if ok := counter(a.tr.m.connects.WithLabelValues(label(2), "ok")); ok < 2 {
		t.Errorf("%v successful connections, want at least 2", ok)
	}
	if fails := counter(a.tr.m.connects.WithLabelValues(label(2), "error")); fails < 3 {
		t.Errorf("%v failed connection attempts, want at least 3", fails)
	}
}

// expectRefusals sends to peer 2 until Send refuses, then waits for the
// breaker to open and checks that Send fails fast.
func expectRefusals(t *testing.T, a *node, queueLen int) {
	t.Helper()
	accepted := 0
	waitFor(t, 5*time.Second, "Send to refuse", func() bool {
		if a.tr.Send(2, []byte("x")) {
			accepted++
			return false
		}
		return true
	})
	if accepted > 10*queueLen {
		t.Errorf("Send accepted %d frames for a dead peer with a queue of %d", accepted, queueLen)
	}
	waitFor(t, 5*time.Second, "the breaker to open and the queue to be dropped", func() bool {
		p := a.tr.Peers()[0]
		return p.Breaker == breaker.Open && p.Queued == 0
	})
	// The queue has room: only the breaker can refuse now.
	before := counter(a.tr.m.dropped.WithLabelValues(label(2), dropBreakerOpen.String()))
	if a.tr.Send(2, []byte("x")) {
		t.Fatal("Send accepted a frame while the breaker was open")
	}
	if after := counter(a.tr.m.dropped.WithLabelValues(label(2), dropBreakerOpen.String())); after != before+1 {
		t.Errorf("breaker-open drops went from %v to %v", before, after)
	}
}

// expectDelivery sends to peer 2 until b receives something.
func expectDelivery(t *testing.T, a, b *node) {
	t.Helper()
	waitFor(t, 10*time.Second, "delivery after the peer came back", func() bool {
		a.tr.Send(2, []byte("hello"))
		time.Sleep(5 * time.Millisecond)
		return b.rec.count(1) > 0
	})
	waitFor(t, 5*time.Second, "the breaker to close", func() bool { return a.tr.Peers()[0].Breaker == breaker.Closed })
}

// A node of another cluster refuses the stream, and the sender reports a
// MismatchError; so does an address that reaches the wrong node.
func TestIdentityMismatchRefused(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", nil)
	other := startNode(t, 2, "127.0.0.1:0", func(c *Config) { c.ClusterID = testCluster + 1 })
	wrongNode := startNode(t, 4, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, other.addr); err != nil {
		t.Fatal(err)
	}
	if err := a.tr.AddPeer(3, wrongNode.addr); err != nil { // node 4 answers there
		t.Fatal(err)
	}
	cases := []struct {
		peer    uint64
		target  error
		cluster bool
		got     uint64
	}{
		{2, ErrClusterMismatch, true, testCluster + 1},
		{3, ErrNodeMismatch, false, 4},
	}
	for _, tc := range cases {
		var mm *MismatchError
		waitFor(t, 5*time.Second, "a mismatch error", func() bool {
			a.tr.Send(tc.peer, []byte("x"))
			for _, p := range a.tr.Peers() {
				if p.ID == tc.peer && errors.As(p.LastError, &mm) {
					return true
				}
			}
			return false
		})
		if !errors.Is(mm, tc.target) || mm.Cluster != tc.cluster || mm.Got != tc.got || mm.Peer != tc.peer {
			t.Errorf("peer %d: got %+v (%v)", tc.peer, mm, mm)
		}
		err := a.tr.SendSnapshot(context.Background(), tc.peer, []byte("h"), strings.NewReader("body"))
		if !errors.Is(err, tc.target) {
			t.Errorf("peer %d: SendSnapshot returned %v, want %v", tc.peer, err, tc.target)
		}
		// Once the failures open the breaker, a snapshot is refused at
		// once, and the error still says why.
		waitFor(t, 10*time.Second, "the breaker to open", func() bool {
			a.tr.Send(tc.peer, []byte("x"))
			for _, p := range a.tr.Peers() {
				if p.ID == tc.peer {
					return p.Breaker == breaker.Open
				}
			}
			return false
		})
		err = a.tr.SendSnapshot(context.Background(), tc.peer, []byte("h"), strings.NewReader("body"))
		if !errors.Is(err, tc.target) || !errors.Is(err, breaker.ErrOpen) {
			t.Errorf("peer %d, breaker open: SendSnapshot returned %v, want %v and %v", tc.peer, err, breaker.ErrOpen, tc.target)
		}
	}
	if n := other.rec.count(1) + wrongNode.rec.count(1); n != 0 {
		t.Errorf("%d frames delivered across a mismatch", n)
	}
}

// Peers can be moved and removed; Send to an unknown peer fails.
func TestUpdateAndRemovePeer(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", nil)
	b := startNode(t, 2, "127.0.0.1:0", nil)
	b2 := startNode(t, 2, "127.0.0.1:0", nil) // node 2, moved
	if a.tr.Send(2, []byte("x")) {
		t.Fatal("Send to an unknown peer succeeded")
	}
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	if err := a.tr.AddPeer(2, b.addr); !errors.Is(err, ErrPeerExists) {
		t.Fatalf("second AddPeer: %v", err)
	}
	for _, bad := range []struct {
		id   uint64
		addr string
	}{{0, b.addr}, {1, b.addr}, {5, "no-port"}} {
		if err := a.tr.AddPeer(bad.id, bad.addr); err == nil {
			t.Errorf("AddPeer(%d, %q) accepted", bad.id, bad.addr)
		}
	}
	expectDelivery(t, a, b)
	if err := a.tr.UpdatePeer(2, b2.addr); err != nil {
		t.Fatal(err)
	}
	expectDelivery(t, a, b2)
	if err := a.tr.RemovePeer(2); err != nil {
		t.Fatal(err)
	}
	if a.tr.Send(2, []byte("x")) {
		t.Error("Send to a removed peer succeeded")
	}
	if err := a.tr.RemovePeer(2); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("second RemovePeer: %v", err)
	}
	if err := a.tr.UpdatePeer(2, b.addr); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("UpdatePeer of a removed peer: %v", err)
	}
}

// Frames larger than MaxFrameBytes are refused.
func TestFrameTooLarge(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) { c.MaxFrameBytes = 1000; c.QueueBytes = 1 << 20 })
	b := startNode(t, 2, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	if a.tr.Send(2, make([]byte, 1001)) {
		t.Error("Send accepted a frame over MaxFrameBytes")
	}
	if !a.tr.Send(2, make([]byte, 1000)) {
		t.Error("Send refused a frame of MaxFrameBytes")
	}
	waitFor(t, 5*time.Second, "the largest frame", func() bool { return b.rec.count(1) == 1 })
}

// After Close, nothing works and every goroutine the transports and
// servers started has ended.
func TestCloseStopsEverything(t *testing.T) {
	base := settledGoroutines()
	func() {
		a := startNode(t, 1, "127.0.0.1:0", nil)
		b := startNode(t, 2, "127.0.0.1:0", nil)
		for _, pair := range [][2]*node{{a, b}, {b, a}} {
			if err := pair[0].tr.AddPeer(pair[1].tr.cfg.LocalID, pair[1].addr); err != nil {
				t.Fatal(err)
			}
		}
		sendAll(t, a.tr, 2, 0, 100, 64)
		sendAll(t, b.tr, 1, 0, 100, 64)
		if err := a.tr.SendSnapshot(context.Background(), 2, []byte("h"), strings.NewReader("body")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "frames both ways", func() bool { return b.rec.count(1) == 100 && a.rec.count(2) == 100 })

		if err := a.tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.tr.Close(); err != nil {
			t.Fatal(err)
		}
		if a.tr.Send(2, []byte("x")) {
			t.Error("Send after Close succeeded")
		}
		if err := a.tr.AddPeer(3, "127.0.0.1:1"); !errors.Is(err, ErrClosed) {
			t.Errorf("AddPeer after Close: %v", err)
		}
		if err := a.tr.SendSnapshot(context.Background(), 2, nil, strings.NewReader("")); !errors.Is(err, ErrClosed) {
			t.Errorf("SendSnapshot after Close: %v", err)
		}
		// b keeps sending to the closed a: nothing may be delivered.
		before := a.rec.count(2)
		for seq := range uint64(100) {
			b.tr.Send(1, seqFrame(100+seq, 64))
		}
		time.Sleep(100 * time.Millisecond)
		if got := a.rec.count(2); got != before {
			t.Errorf("%d frames delivered after Close", got-before)
		}
		a.stop()
		b.stop()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := settledGoroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", n, base)
		}
	}
}

// A frame sent on a stream that had already ended (the peer restarted
// while the link was idle) is not lost: gRPC refused it whole, and the
// next stream carries it.
func TestFrameOnEndedStreamIsResent(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", nil)
	b := startNode(t, 2, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	expectDelivery(t, a, b)
	b.stop()
	time.Sleep(100 * time.Millisecond) // let the client see the connection close
	b2 := startNode(t, 2, b.addr, nil)
	if !a.tr.Send(2, []byte("after restart")) {
		t.Fatal("Send refused")
	}
	waitFor(t, 5*time.Second, "the frame", func() bool { return b2.rec.count(1) == 1 })
	if got := string(b2.rec.received(1)[0]); got != "after restart" {
		t.Fatalf("got %q", got)
	}
	if lost := counter(a.tr.m.dropped.WithLabelValues(label(2), dropSendFailed.String())); lost != 0 {
		t.Errorf("%v frames lost", lost)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Repeated connection failures are logged once per LogInterval, with the
// peer's id and address; the breaker's opening is logged too.
func TestConnectFailureLogsAreRateLimited(t *testing.T) {
	var logs syncBuffer
	lis := listen(t, "127.0.0.1:0")
	addr := lis.Addr().String()
	_ = lis.Close()
	a := startNode(t, 1, "127.0.0.1:0", func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		c.LogInterval = time.Hour
		c.Breaker.ConsecutiveFailures = 10
	})
	if err := a.tr.AddPeer(2, addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the breaker to open", func() bool { return a.tr.Peers()[0].Breaker == breaker.Open })
	out := logs.String()
	if fails := counter(a.tr.m.connects.WithLabelValues(label(2), "error")); fails < 10 {
		t.Fatalf("%v failed attempts", fails)
	}
	if n := strings.Count(out, "cannot connect to peer"); n != 1 {
		t.Errorf("%d connection failure logs for 10 failures in one LogInterval:\n%s", n, out)
	}
	if !strings.Contains(out, "peer=2 addr="+addr) {
		t.Errorf("logs lack the peer's id and address:\n%s", out)
	}
	if !strings.Contains(out, "peer breaker open") {
		t.Errorf("breaker opening not logged:\n%s", out)
	}
}
