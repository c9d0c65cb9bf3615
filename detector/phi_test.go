package detector_test

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/detector"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fataler is what the helpers need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// feed sends heartbeats to node at epoch+offset for each offset, and
// returns the time of the last one.
func feed(t fataler, d detector.Detector[string], node string, offsets []time.Duration) time.Time {
	t.Helper()
	var at time.Time
	for _, off := range offsets {
		at = epoch.Add(off)
		if err := d.Heartbeat(node, at); err != nil {
			t.Fatalf("Heartbeat(%s, %v): %v", node, off, err)
		}
	}
	return at
}

// regular returns n offsets spaced by every, starting at start.
func regular(start, every time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = start + time.Duration(i)*every
	}
	return out
}

func newPhi(t testing.TB, mutate func(*detector.PhiAccrualConfig)) *detector.PhiAccrual[string] {
	t.Helper()
	cfg := detector.DefaultPhiAccrualConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := detector.NewPhiAccrual[string](cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPhiNearZeroRightAfterHeartbeat(t *testing.T) {
	d := newPhi(t, nil)
	last := feed(t, d, "a", regular(0, time.Second, 100))
	if p := d.Suspicion("a", last); p > 1e-6 {
		t.Fatalf("phi right after a heartbeat = %v, want ~0", p)
	}
	if !d.Available("a", last) {
		t.Fatal("node unavailable right after a heartbeat")
	}
}

func TestPhiGrowsWithElapsed(t *testing.T) {
	d := newPhi(t, nil)
	last := feed(t, d, "a", regular(0, time.Second, 100))
	prev := -1.0
	for e := time.Duration(0); e <= 10*time.Second; e += 250 * time.Millisecond {
		p := d.Suspicion("a", last.Add(e))
		// Past the mean (1 s + 1 s of allowed pause) phi must rise.
		if p < prev || (e > 2*time.Second && p == prev) {
			t.Fatalf("phi at %v = %v, not above %v", e, p, prev)
		}
		prev = p
	}
	if d.Available("a", last.Add(10*time.Second)) {
		t.Fatalf("node still available after 10 s of silence (phi %v)", prev)
	}
}

// TestPhiFirstHeartbeatBootstrap: one heartbeat seeds the window with mean
// FirstHeartbeatEstimate, so a silence of exactly that long (with no
// allowed pause) sits at the model's median, phi = log10 2.
func TestPhiFirstHeartbeatBootstrap(t *testing.T) {
	d := newPhi(t, func(c *detector.PhiAccrualConfig) { c.AcceptablePause = 0 })
	last := feed(t, d, "a", []time.Duration{0})
	if p := d.Suspicion("a", last.Add(time.Second)); math.Abs(p-math.Log10(2)) > 1e-12 {
		t.Fatalf("phi one estimate after the first heartbeat = %v, want log10 2", p)
	}
}

// TestPhiNodesAreIndependent is the seed sketch's flaw: with one shared
// history, a slow node would make every node's phi rise more slowly. Here
// a node's phi must be exactly what it would be if it were the only node.
func TestPhiNodesAreIndependent(t *testing.T) {
	shared := newPhi(t, nil)
	alone := newPhi(t, nil)
	fast := regular(0, time.Second, 200)
	last := feed(t, alone, "fast", fast)
	feed(t, shared, "fast", fast)
	feed(t, shared, "slow", regular(0, 7*time.Second, 30))
	for e := time.Duration(0); e <= 8*time.Second; e += 500 * time.Millisecond {
		now := last.Add(e)
		if got, want := shared.Suspicion("fast", now), alone.Suspicion("fast", now); got != want {
			t.Fatalf("fast node's phi at +%v is %v beside a slow node, %v alone", e, got, want)
		}
	}
	// And the slow node is judged by its own rhythm: 4 s of silence is
	// damning for the fast node, normal for the slow one.
	slowLast := epoch.Add(29 * 7 * time.Second)
	if shared.Available("fast", last.Add(4*time.Second)) {
		t.Error("fast node available after 4 s of silence")
	}
	if !shared.Available("slow", slowLast.Add(4*time.Second)) {
		t.Error("slow node suspected after 4 s of its 7 s rhythm")
	}
}

// TestPhiMinStdDev: perfectly regular heartbeats have no variance, so
// phi is governed by MinStdDev: one floor later than the mean, y = 1, and
// phi = log10(1 + e^1.668166) = 0.79950832, whatever the floor.
func TestPhiMinStdDev(t *testing.T) {
	const window = 10
	var prev float64
	for i, floor := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 400 * time.Millisecond} {
		d := newPhi(t, func(c *detector.PhiAccrualConfig) {
			c.WindowSize, c.AcceptablePause, c.MinStdDev = window, 0, floor
		})
		last := feed(t, d, "a", regular(0, time.Second, 2*window))
		if p := d.Suspicion("a", last.Add(time.Second+floor)); math.Abs(p-0.79950832) > 1e-7 {
			t.Errorf("floor %v: phi one floor past the mean = %v, want 0.79950832", floor, p)
		}
		// At a fixed delay, a higher floor means a lower phi.
		p := d.Suspicion("a", last.Add(1300*time.Millisecond))
		if math.IsInf(p, 0) || math.IsNaN(p) || (i > 0 && p >= prev) {
			t.Errorf("floor %v: phi 300 ms late = %v, want finite and below %v", floor, p, prev)
		}
		prev = p
	}
}

// TestPhiAcceptablePause: the allowance shifts the model's mean, so phi
// with pause P at elapsed e+P equals phi without pause at e.
func TestPhiAcceptablePause(t *testing.T) {
	const pause = 3 * time.Second
	without := newPhi(t, func(c *detector.PhiAccrualConfig) { c.AcceptablePause = 0 })
	with := newPhi(t, func(c *detector.PhiAccrualConfig) { c.AcceptablePause = pause })
	offsets := []time.Duration{0, 900 * time.Millisecond, 2 * time.Second, 3100 * time.Millisecond, 4 * time.Second, 5200 * time.Millisecond}
	last := feed(t, without, "a", offsets)
	feed(t, with, "a", offsets)
	for e := time.Duration(0); e <= 5*time.Second; e += 100 * time.Millisecond {
		got, want := with.Suspicion("a", last.Add(e+pause)), without.Suspicion("a", last.Add(e))
		if math.Abs(got-want) > 1e-9*math.Max(want, 1) {
			t.Fatalf("phi with pause at +%v = %v, without at +%v = %v", e+pause, got, e, want)
		}
	}
	if !with.Available("a", last.Add(2500*time.Millisecond)) || without.Available("a", last.Add(2500*time.Millisecond)) {
		t.Fatal("a 2.5 s silence should be suspected only without the 3 s allowance")
	}
}

// TestPhiWindowSlides: once WindowSize intervals of a new rhythm have
// arrived, the old rhythm (and the bootstrap) is forgotten entirely.
func TestPhiWindowSlides(t *testing.T) {
	const window = 10
	mut := func(c *detector.PhiAccrualConfig) { c.WindowSize = window }
	changed := newPhi(t, mut)
	fresh := newPhi(t, mut)
	// 50 heartbeats at 1 s (the last at 49 s), then 10 more at 3 s: ten
	// 3 s intervals, 49 s to 52 s the first.
	offsets := append(regular(0, time.Second, 50), regular(52*time.Second, 3*time.Second, 10)...)
	last := feed(t, changed, "a", offsets)
	freshLast := feed(t, fresh, "a", regular(0, 3*time.Second, 12))
	for e := time.Duration(0); e <= 10*time.Second; e += 500 * time.Millisecond {
		if got, want := changed.Suspicion("a", last.Add(e)), fresh.Suspicion("a", freshLast.Add(e)); got != want {
			t.Fatalf("phi at +%v after the window slid = %v, want %v (as if only 3 s intervals)", e, got, want)
		}
	}
	// One interval fewer and the 1 s history still shows.
	partial := newPhi(t, mut)
	pLast := feed(t, partial, "a", offsets[:len(offsets)-1])
	if partial.Suspicion("a", pLast.Add(4*time.Second)) == fresh.Suspicion("a", freshLast.Add(4*time.Second)) {
		t.Fatal("window forgot its old samples too early")
	}
}

// TestPhiDoesNotLearnOutages: a silence longer than MaxInterval only
// moves the last arrival; the window is as if the outage never happened.
func TestPhiDoesNotLearnOutages(t *testing.T) {
	outage := newPhi(t, nil)
	steady := newPhi(t, nil)
	before := regular(0, time.Second, 30)
	after := regular(29*time.Second+5*time.Minute, time.Second, 10)
	last := feed(t, outage, "a", append(before, after...))
	steadyLast := feed(t, steady, "a", regular(0, time.Second, 39))
	for e := time.Duration(0); e <= 6*time.Second; e += 500 * time.Millisecond {
		if got, want := outage.Suspicion("a", last.Add(e)), steady.Suspicion("a", steadyLast.Add(e)); got != want {
			t.Fatalf("phi at +%v after an outage = %v, want %v", e, got, want)
		}
	}
}

func TestPhiIgnoresDuplicateAndOldHeartbeats(t *testing.T) {
	d := newPhi(t, nil)
	last := feed(t, d, "a", []time.Duration{0, 900 * time.Millisecond, 2 * time.Second})
	probe := last.Add(2500 * time.Millisecond)
	before := d.Suspicion("a", probe)
	feed(t, d, "a", []time.Duration{2 * time.Second, time.Second, 0})
	if after := d.Suspicion("a", probe); after != before {
		t.Fatalf("phi changed from %v to %v after stale heartbeats", before, after)
	}
}

func TestPhiUnknownAndRemovedNodes(t *testing.T) {
	d := newPhi(t, nil)
	if p := d.Suspicion("ghost", epoch); p != 0 || !d.Available("ghost", epoch) {
		t.Fatalf("unknown node: phi %v, available %v; want 0, true", p, d.Available("ghost", epoch))
	}
	last := feed(t, d, "a", regular(0, time.Second, 5))
	if d.Suspicion("a", last.Add(time.Minute)) == 0 {
		t.Fatal("silent known node has phi 0")
	}
	d.Remove("a")
	if p := d.Suspicion("a", last.Add(time.Minute)); p != 0 {
		t.Fatalf("removed node: phi %v, want 0", p)
	}
}

func TestMaxNodes(t *testing.T) {
	phi := newPhi(t, func(c *detector.PhiAccrualConfig) { c.MaxNodes = 2 })
	fixedCfg := detector.DefaultFixedTimeoutConfig()
	fixedCfg.MaxNodes = 2
	fixed, err := detector.NewFixedTimeout[string](fixedCfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []detector.Detector[string]{phi, fixed} {
		for _, n := range []string{"a", "b"} {
			if err := d.Heartbeat(n, epoch); err != nil {
				t.Fatalf("%T: Heartbeat(%s): %v", d, n, err)
			}
		}
		if err := d.Heartbeat("c", epoch); !errors.Is(err, detector.ErrTooManyNodes) {
			t.Fatalf("%T: third node: %v, want ErrTooManyNodes", d, err)
		}
		if d.Suspicion("c", epoch.Add(time.Hour)) != 0 {
			t.Fatalf("%T: rejected node is tracked", d)
		}
		if err := d.Heartbeat("a", epoch.Add(time.Second)); err != nil {
			t.Fatalf("%T: known node rejected when full: %v", d, err)
		}
		d.Remove("b")
		if err := d.Heartbeat("c", epoch); err != nil {
			t.Fatalf("%T: node after Remove: %v", d, err)
		}
	}
}

// TestPhiFiniteAtExtremes: silences of centuries, and clocks that go
// backwards, give a finite, non-negative phi.
func TestPhiFiniteAtExtremes(t *testing.T) {
	d := newPhi(t, func(c *detector.PhiAccrualConfig) { c.MinStdDev = time.Millisecond })
	last := feed(t, d, "a", regular(0, time.Second, 20))
	for _, now := range []time.Time{last.AddDate(300, 0, 0), last.AddDate(-300, 0, 0), {}} {
		p := d.Suspicion("a", now)
		if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			t.Fatalf("phi at %v = %v, want finite and >= 0", now, p)
		}
	}
}

// historyGen draws a random heartbeat history: intervals from a mix of
// regular, jittery and paused rhythms.
func historyGen(t *rapid.T) []time.Duration {
	n := rapid.IntRange(1, 60).Draw(t, "heartbeats")
	offsets := make([]time.Duration, n)
	for i := 1; i < n; i++ {
		var gap int64
		switch rapid.IntRange(0, 2).Draw(t, "rhythm") {
		case 0:
			gap = int64(time.Second)
		case 1:
			gap = rapid.Int64Range(1, int64(2*time.Second)).Draw(t, "jitter")
		default:
			gap = rapid.Int64Range(int64(time.Second), int64(2*time.Minute)).Draw(t, "pause")
		}
		offsets[i] = offsets[i-1] + time.Duration(gap)
	}
	return offsets
}

// TestPhiMonotoneInElapsed: for any history and any config, phi never
// decreases as the silence grows, and Available agrees with Threshold.
func TestPhiMonotoneInElapsed(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := detector.DefaultPhiAccrualConfig()
		cfg.WindowSize = rapid.IntRange(2, 64).Draw(t, "window")
		cfg.MinStdDev = time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Second)).Draw(t, "minStdDev"))
		cfg.AcceptablePause = time.Duration(rapid.Int64Range(0, int64(10*time.Second)).Draw(t, "pause"))
		cfg.Threshold = rapid.Float64Range(0.1, 50).Draw(t, "threshold")
		d, err := detector.NewPhiAccrual[string](cfg)
		if err != nil {
			t.Fatal(err)
		}
		last := feed(t, d, "a", historyGen(t))
		maxE := int64(1<<62) / 2
		e1 := time.Duration(rapid.Int64Range(-maxE, maxE).Draw(t, "e1"))
		e2 := e1 + time.Duration(rapid.Int64Range(0, maxE).Draw(t, "delta"))
		p1, p2 := d.Suspicion("a", last.Add(e1)), d.Suspicion("a", last.Add(e2))
		if p1 > p2 {
			t.Fatalf("phi(+%v) = %v > phi(+%v) = %v", e1, p1, e2, p2)
		}
		for _, p := range []float64{p1, p2} {
			if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
				t.Fatalf("phi = %v, want finite and >= 0", p)
			}
		}
		if got, want := d.Available("a", last.Add(e2)), p2 < cfg.Threshold; got != want {
			t.Fatalf("Available = %v with phi %v and threshold %v", got, p2, cfg.Threshold)
		}
	})
}

// TestConcurrentUse runs heartbeats, queries and removals from several
// goroutines (for -race) and then checks every node's state is intact.
func TestConcurrentUse(t *testing.T) {
	d := newPhi(t, nil)
	nodes := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				n := nodes[(g+i)%len(nodes)]
				at := epoch.Add(time.Duration(i) * time.Second)
				if g%2 == 0 {
					if err := d.Heartbeat(n, at); err != nil {
						t.Error(err)
						return
					}
				} else {
					_ = d.Available(n, at)
					if i%100 == 99 {
						d.Remove(n)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if err := d.Heartbeat(n, epoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !d.Available(n, epoch.Add(time.Hour)) {
			t.Fatalf("node %s unavailable right after a heartbeat", n)
		}
	}
}
