package detector_test

import (
	"testing"
	"time"

	"github.com/cairndb/cairn/detector"
)

// TestFixedTimeoutSuspicion: suspicion is elapsed/Timeout, it never
// decreases between heartbeats, and the node is suspected exactly from
// Timeout on.
func TestFixedTimeoutSuspicion(t *testing.T) {
	cfg := detector.DefaultFixedTimeoutConfig()
	cfg.Timeout = 4 * time.Second
	d, err := detector.NewFixedTimeout[string](cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := feed(t, d, "a", regular(0, time.Second, 3))
	for _, tc := range []struct {
		elapsed   time.Duration
		suspicion float64
		available bool
	}{
		{-time.Second, 0, true},
		{0, 0, true},
		{time.Second, 0.25, true},
		{4*time.Second - 1, float64(4*time.Second-1) / float64(4*time.Second), true},
		{4 * time.Second, 1, false},
		{8 * time.Second, 2, false},
	} {
		now := last.Add(tc.elapsed)
		if s := d.Suspicion("a", now); s != tc.suspicion {
			t.Errorf("+%v: suspicion %v, want %v", tc.elapsed, s, tc.suspicion)
		}
		if a := d.Available("a", now); a != tc.available {
			t.Errorf("+%v: available %v, want %v", tc.elapsed, a, tc.available)
		}
	}
	// A stale heartbeat does not move the last arrival back.
	feed(t, d, "a", []time.Duration{0})
	if d.Available("a", last.Add(5*time.Second)) {
		t.Error("stale heartbeat reset the timeout")
	}
	// A fresh one does.
	feed(t, d, "a", []time.Duration{3 * time.Second})
	if !d.Available("a", epoch.Add(6*time.Second)) {
		t.Error("fresh heartbeat did not reset the timeout")
	}
}

func TestFixedTimeoutUnknownAndRemoved(t *testing.T) {
	d, err := detector.NewFixedTimeout[int](detector.DefaultFixedTimeoutConfig())
	if err != nil {
		t.Fatal(err)
	}
	if d.Suspicion(7, epoch) != 0 || !d.Available(7, epoch) {
		t.Fatal("unknown node suspected")
	}
	if err := d.Heartbeat(7, epoch); err != nil {
		t.Fatal(err)
	}
	if d.Available(7, epoch.Add(time.Hour)) {
		t.Fatal("silent node available after an hour")
	}
	d.Remove(7)
	if !d.Available(7, epoch.Add(time.Hour)) {
		t.Fatal("removed node still suspected")
	}
}
