package transport

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/loglimit"
)

func TestBatchRoundTrip(t *testing.T) {
	for _, frames := range [][][]byte{
		{{}},
		{[]byte("a")},
		{[]byte("one"), {}, bytes.Repeat([]byte("x"), 300), []byte("four")},
	} {
		size := 0
		for _, f := range frames {
			size += frameEncodedLen(len(f))
		}
		buf := make([]byte, batchEncodedLen(len(frames), size))
		encodeBatch(buf, frames)
		got, err := decodeBatch(buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(frames) {
			t.Fatalf("%d frames back, want %d", len(got), len(frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) || cap(got[i]) != len(got[i]) {
				t.Fatalf("frame %d: %q (cap %d), want %q", i, got[i], cap(got[i]), frames[i])
			}
		}
	}
}

func TestDecodeBatchRejectsMalformed(t *testing.T) {
	for _, data := range [][]byte{
		nil,
		{0x80},             // unterminated count
		{5, 1, 'a'},        // more frames than bytes
		{1, 5, 'a'},        // frame longer than what is left
		{1, 1, 'a', 'b'},   // trailing byte
		{2, 1, 'a', 0x80},  // unterminated length
		{0xff, 0xff, 0x03}, // count far beyond the data
	} {
		if _, err := decodeBatch(data, nil); !errors.Is(err, errBadBatch) {
			t.Errorf("decodeBatch(%v) = %v, want errBadBatch", data, err)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte{2, 1, 'a', 0})
	f.Add([]byte{1, 5, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, err := decodeBatch(data, nil)
		if err != nil {
			return
		}
		// A batch that decodes re-encodes to the same frames.
		size := 0
		for _, fr := range frames {
			size += frameEncodedLen(len(fr))
		}
		buf := make([]byte, batchEncodedLen(len(frames), size))
		encodeBatch(buf, frames)
		// Varints have non-minimal encodings, so the bytes may differ;
		// the frames may not.
		again, err := decodeBatch(buf, nil)
		if err != nil {
			t.Fatalf("re-encoding of %x does not decode: %v", data, err)
		}
		if len(again) != len(frames) {
			t.Fatalf("%d frames, %d after a round trip", len(frames), len(again))
		}
		for i := range again {
			if !bytes.Equal(again[i], frames[i]) {
				t.Fatalf("frame %d: %x, %x after a round trip", i, frames[i], again[i])
			}
		}
	})
}

func TestStreamAdmission(t *testing.T) {
	var in inboundPeer
	steps := []struct {
		k    streamKey
		want bool
	}{
		{streamKey{1, 5}, true},
		{streamKey{1, 4}, false}, // older stream of the same incarnation
		{streamKey{1, 7}, true},
		{streamKey{2, 1}, true}, // a restarted sender
		{streamKey{1, 9}, true}, // another incarnation: cannot be ordered, newest wins
	}
	for _, s := range steps {
		if got := in.admit(s.k); got != s.want {
			t.Errorf("admit(%+v) = %v, want %v", s.k, got, s.want)
		}
	}

	// Only the current stream delivers.
	rec := newRecorder()
	tr, err := New(testConfig(1, rec))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	peer := tr.inbound(2)
	old, current := streamKey{7, 1}, streamKey{7, 2}
	peer.admit(old)
	peer.admit(current)
	if err := tr.deliver(peer, old, [][]byte{[]byte("stale")}); !errors.Is(err, errSuperseded) {
		t.Errorf("superseded stream delivered: %v", err)
	}
	if err := tr.deliver(peer, current, [][]byte{[]byte("fresh")}); err != nil {
		t.Errorf("current stream: %v", err)
	}
	if got := rec.received(2); len(got) != 1 || string(got[0]) != "fresh" {
		t.Errorf("handler got %q", got)
	}
}

func TestBackoff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BackoffMin, cfg.BackoffMax, cfg.BackoffJitter = 10*time.Millisecond, 80*time.Millisecond, 0.5
	b := newBackoff(cfg, 1)
	ceilings := []time.Duration{10, 20, 40, 80, 80, 80}
	for i, c := range ceilings {
		c *= time.Millisecond
		d := b.next()
		if d > c || d < c/2 {
			t.Errorf("wait %d = %v, want in [%v, %v]", i, d, c/2, c)
		}
	}
	b.reset()
	if d := b.next(); d > 10*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}
	b.failures = math.MaxInt32 // no overflow however long the peer is down
	if d := b.next(); d > 80*time.Millisecond || d <= 0 {
		t.Errorf("after many failures: %v", d)
	}
}

func TestLogLimiter(t *testing.T) {
	l := loglimit.New(time.Second)
	t0 := time.Unix(1000, 0)
	if ok, _ := l.Allow(t0); !ok {
		t.Fatal("first event held back")
	}
	for i := range 3 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i) * 100 * time.Millisecond)); ok {
			t.Fatal("event within the interval logged")
		}
	}
	ok, suppressed := l.Allow(t0.Add(time.Second))
	if !ok || suppressed != 3 {
		t.Fatalf("after the interval: ok=%v suppressed=%d", ok, suppressed)
	}
	l.Reset()
	if ok, _ := l.Allow(t0.Add(time.Second + time.Millisecond)); !ok {
		t.Fatal("event after reset held back")
	}
}

func TestConfigValidate(t *testing.T) {
	valid := testConfig(1, newRecorder())
	if err := valid.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Config){
		"LocalID":         func(c *Config) { c.LocalID = 0 },
		"ClusterID":       func(c *Config) { c.ClusterID = 0 },
		"Handler":         func(c *Config) { c.Handler = nil },
		"QueueLen":        func(c *Config) { c.QueueLen = 0 },
		"QueueBytes":      func(c *Config) { c.QueueBytes = c.MaxFrameBytes - 1 },
		"MaxFrameBytes":   func(c *Config) { c.MaxFrameBytes = 0 },
		"MaxBatchFrames":  func(c *Config) { c.MaxBatchFrames = 0 },
		"MaxBatchBytes":   func(c *Config) { c.MaxBatchBytes = maxMessageLimit + 1 },
		"DialTimeout":     func(c *Config) { c.DialTimeout = 0 },
		"SendTimeout":     func(c *Config) { c.SendTimeout = time.Hour },
		"BackoffMin":      func(c *Config) { c.BackoffMin = c.BackoffMax + 1 },
		"BackoffJitter":   func(c *Config) { c.BackoffJitter = math.NaN() },
		"Keepalive":       func(c *Config) { c.KeepaliveInterval = time.Second },
		"Chunk":           func(c *Config) { c.SnapshotChunkBytes = 0 },
		"Snapshots":       func(c *Config) { c.MaxSnapshotsInFlight = 0 },
		"LogInterval":     func(c *Config) { c.LogInterval = 0 },
		"Breaker":         func(c *Config) { c.Breaker.MaxProbes = 0 },
		"ProbeTimeout":    func(c *Config) { c.Breaker.ProbeTimeout = c.SendTimeout },
		"KeepaliveTimout": func(c *Config) { c.KeepaliveTimeout = 0 },
	} {
		c := valid
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted an invalid config", name)
		}
	}
	d := DefaultConfig()
	d.LocalID, d.ClusterID, d.Handler = 1, 1, newRecorder()
	if err := d.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if m := d.maxMessageBytes(); m >= 4<<20 {
		t.Errorf("default largest message %d does not fit gRPC's default 4 MiB limit", m)
	}
}
