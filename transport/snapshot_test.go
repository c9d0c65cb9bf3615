package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// A 20 MiB snapshot streams intact while frames keep flowing on the same
// connection, even while the receiver has stopped reading the snapshot;
// SendSnapshot returns only after the handler has returned.
func TestSnapshotStreamsWhileFramesFlow(t *testing.T) {
	size := 20 << 20
	if testing.Short() {
		size = 4 << 20
	}
	body := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	want := sha256.Sum256(body)

	var framesSeen atomic.Int64
	var handlerReturned atomic.Bool
	var got [32]byte
	var gotHeader []byte
	stallErr := make(chan error, 1)
	b := startNode(t, 2, "127.0.0.1:0", func(c *Config) {
		rec := c.Handler.(*recorder)
		rec.onFrames = func(_ uint64, frames [][]byte) { framesSeen.Add(int64(len(frames))) }
		rec.snapshot = func(_ context.Context, from uint64, header []byte, r io.Reader) error {
			defer handlerReturned.Store(true)
			gotHeader = header
			h := sha256.New()
			if _, err := io.CopyN(h, r, 2<<20); err != nil {
				return err
			}
			// Stop reading until frames have kept arriving.
			seen := framesSeen.Load()
			deadline := time.Now().Add(5 * time.Second)
			for framesSeen.Load() < seen+50 {
				if time.Now().After(deadline) {
					stallErr <- errors.New("no frames arrived while the snapshot stalled")
					break
				}
				time.Sleep(time.Millisecond)
			}
			if _, err := io.Copy(h, r); err != nil {
				return err
			}
			copy(got[:], h.Sum(nil))
			return nil
		}
	})
	a := startNode(t, 1, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		for seq := uint64(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			a.tr.Send(2, seqFrame(seq, 64))
		}
	}()
	start := time.Now()
	err := a.tr.SendSnapshot(context.Background(), 2, []byte("snap-header"), bytes.NewReader(body))
	elapsed := time.Since(start)
	close(stop)
	<-sending
	if err != nil {
		t.Fatal(err)
	}
	if !handlerReturned.Load() {
		t.Fatal("SendSnapshot returned before the handler")
	}
	select {
	case err := <-stallErr:
		t.Fatal(err)
	default:
	}
	if got != want || string(gotHeader) != "snap-header" {
		t.Fatalf("snapshot damaged: header %q", gotHeader)
	}
	t.Logf("%d MiB in %v, %d frames meanwhile", size>>20, elapsed, framesSeen.Load())
	if sent := counter(a.tr.m.snapshotBytes.WithLabelValues(label(2), "sent")); sent != float64(size) {
		t.Errorf("snapshot_bytes_total sent = %v, want %d", sent, size)
	}
}

// The handler's error comes back to the sender; a body that fails on the
// sender's side never reads as complete on the receiver's.
func TestSnapshotErrors(t *testing.T) {
	readErr := make(chan error, 1)
	b := startNode(t, 2, "127.0.0.1:0", func(c *Config) {
		c.Handler.(*recorder).snapshot = func(_ context.Context, _ uint64, header []byte, r io.Reader) error {
			if string(header) == "refuse" {
				return errors.New("disk full")
			}
			_, err := io.Copy(io.Discard, r)
			readErr <- err
			return err
		}
	})
	a := startNode(t, 1, "127.0.0.1:0", nil)
	if err := a.tr.AddPeer(2, b.addr); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.tr.SendSnapshot(ctx, 2, []byte("refuse"), strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("handler error: got %v", err)
	}
	broken := io.MultiReader(strings.NewReader(strings.Repeat("x", 3<<20)), failingReader{})
	if err := a.tr.SendSnapshot(ctx, 2, []byte("ok"), broken); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("body error: got %v", err)
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("the receiver read a cut body to a clean EOF")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver's handler did not finish")
	}
	if err := a.tr.SendSnapshot(ctx, 2, make([]byte, a.tr.cfg.MaxFrameBytes+1), strings.NewReader("")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge header: got %v", err)
	}
	if err := a.tr.SendSnapshot(ctx, 9, nil, strings.NewReader("")); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("unknown peer: got %v", err)
	}
	// An empty body is a valid snapshot.
	if err := a.tr.SendSnapshot(ctx, 2, []byte("ok"), strings.NewReader("")); err != nil {
		t.Errorf("empty body: %v", err)
	}
	if err := <-readErr; err != nil {
		t.Errorf("empty body read: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

// fakeServerStream replays messages to a snapshotReader.
type fakeServerStream struct {
	grpc.ServerStream
	msgs [][]byte
}

func (f *fakeServerStream) RecvMsg(m any) error {
	if len(f.msgs) == 0 {
		return io.EOF
	}
	in := m.(*inMessage)
	in.data = append(in.data[:0], f.msgs[0]...)
	f.msgs = f.msgs[1:]
	return nil
}

// The body reader returns io.EOF only for a body that arrived whole and
// unchanged.
func TestSnapshotReaderChecksEnd(t *testing.T) {
	chunk := func(s string) []byte { return append([]byte{kindChunk}, s...) }
	crcOf := func(s string) uint32 { return crc32.Checksum([]byte(s), castagnoli) }
	end := func(n int, crc uint32) []byte { return appendEndMarker(nil, uint64(n), crc) }
	cases := []struct {
		name string
		msgs [][]byte
		want error
		body string
	}{
		{"whole", [][]byte{chunk("hello "), chunk("world"), end(11, crcOf("hello world"))}, nil, "hello world"},
		{"empty", [][]byte{end(0, 0)}, nil, ""},
		{"no end marker", [][]byte{chunk("hello")}, ErrSnapshotTruncated, ""},
		{"short", [][]byte{chunk("hello"), end(11, crcOf("hello world"))}, ErrSnapshotCorrupt, ""},
		{"damaged", [][]byte{chunk("hellO world"), end(11, crcOf("hello world"))}, ErrSnapshotCorrupt, ""},
		{"malformed end", [][]byte{chunk("a"), {kindEnd, 1}}, ErrSnapshotCorrupt, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &snapshotReader{ss: &fakeServerStream{msgs: tc.msgs}, msg: inMessage{reuse: true}}
			got, err := io.ReadAll(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if tc.want == nil && string(got) != tc.body {
				t.Fatalf("body %q, want %q", got, tc.body)
			}
			if _, again := r.Read(make([]byte, 1)); !errors.Is(again, errOrEOF(tc.want)) {
				t.Fatalf("error not sticky: %v", again)
			}
		})
	}
}

func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}
