package clock

import (
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestHLC returns an HLC on a ManualClock reading pt, whose last timestamp
// is last (as if it had issued it).
func newTestHLC(pt int64, last Timestamp, maxOffset time.Duration) (*HLC, *ManualClock) {
	m := NewManualClock(pt)
	h := NewHLC(m, maxOffset)
	h.mu.last = last
	return h, m
}

// TestHLCNowSendRule checks the paper's rule for local and send events:
// l = max(l', pt); c = c'+1 if l did not change, else 0.
func TestHLCNowSendRule(t *testing.T) {
	tests := []struct {
		name string
		last Timestamp
		pt   int64
		want Timestamp
	}{
		{"first reading takes physical time", Timestamp{}, 1000, Timestamp{WallTime: 1000}},
		{"physical clock ahead: reset logical", Timestamp{WallTime: 1000, Logical: 7}, 1001, Timestamp{WallTime: 1001}},
		{"physical clock unchanged: count", Timestamp{WallTime: 1000, Logical: 7}, 1000, Timestamp{WallTime: 1000, Logical: 8}},
		{"physical clock behind: count", Timestamp{WallTime: 1000, Logical: 7}, 400, Timestamp{WallTime: 1000, Logical: 8}},
		{"physical clock at zero never yields the zero timestamp", Timestamp{}, 0, Timestamp{Logical: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHLC(tt.pt, tt.last, time.Second)
			if got := h.Now(); got != tt.want {
				t.Fatalf("Now() from %v at pt %d = %v, want %v", tt.last, tt.pt, got, tt.want)
			}
			if h.Last() != tt.want {
				t.Fatalf("Last() = %v, want %v", h.Last(), tt.want)
			}
		})
	}
}

// TestHLCUpdateReceiveRule checks each case of the paper's receive rule
// (Kulkarni et al. 2014, Figure 5): l = max(l', l.m, pt), and
// c = max(c', c.m)+1 if l = l' = l.m; c'+1 if l = l'; c.m+1 if l = l.m;
// else 0.
func TestHLCUpdateReceiveRule(t *testing.T) {
	ts := func(w int64, c uint32) Timestamp { return Timestamp{WallTime: w, Logical: c} }
	tests := []struct {
		name         string
		last, remote Timestamp
		pt           int64
		want         Timestamp
	}{
		{"physical clock leads both: c = 0", ts(100, 5), ts(90, 7), 200, ts(200, 0)},
		{"local leads (l = l'): c = c'+1", ts(300, 5), ts(200, 9), 250, ts(300, 6)},
		{"remote leads (l = l.m): c = c.m+1", ts(100, 5), ts(300, 9), 250, ts(300, 10)},
		{"local and remote tie, local logical lower: max(c', c.m)+1", ts(300, 5), ts(300, 9), 250, ts(300, 10)},
		{"local and remote tie, local logical higher: max(c', c.m)+1", ts(300, 9), ts(300, 5), 250, ts(300, 10)},
		{"local equals remote exactly", ts(300, 5), ts(300, 5), 100, ts(300, 6)},
		{"all three walls equal", ts(300, 5), ts(300, 2), 300, ts(300, 6)},
		{"local ties physical, remote behind: c'+1", ts(300, 5), ts(100, 1), 300, ts(300, 6)},
		{"remote ties physical, local behind: c.m+1", ts(100, 5), ts(300, 4), 300, ts(300, 5)},
		{"zero remote on a fresh clock", Timestamp{}, Timestamp{}, 50, ts(50, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHLC(tt.pt, tt.last, time.Second)
			got, err := h.Update(tt.remote)
			if err != nil {
				t.Fatalf("Update(%v): %v", tt.remote, err)
			}
			if got != tt.want {
				t.Fatalf("Update(%v) from %v at pt %d = %v, want %v", tt.remote, tt.last, tt.pt, got, tt.want)
			}
			if !tt.last.Less(got) || !tt.remote.Less(got) || got.WallTime < tt.pt {
				t.Fatalf("Update result %v must exceed last %v and remote %v and not trail pt %d",
					got, tt.last, tt.remote, tt.pt)
			}
			if h.Last() != got {
				t.Fatalf("Last() = %v, want %v", h.Last(), got)
			}
		})
	}
}

// TestHLCMonotonicWhenPhysicalStepsBack steps the physical clock back by a
// second, twice, in the middle of a run: timestamps keep increasing, with the
// logical counter carrying them until physical time catches up.
func TestHLCMonotonicWhenPhysicalStepsBack(t *testing.T) {
	m := NewManualClock(10 * int64(time.Second))
	h := NewHLC(m, DefaultMaxOffset)
	prev := h.Now()
	steps := []time.Duration{time.Millisecond, -time.Second, 0, time.Microsecond, -time.Second,
		time.Second, time.Second, 500 * time.Millisecond, time.Nanosecond}
	for i, d := range steps {
		m.Advance(d)
		ts := h.Now()
		if !prev.Less(ts) {
			t.Fatalf("step %d (%v): %v after %v", i, d, ts, prev)
		}
		if ts.WallTime < m.Now() {
			t.Fatalf("step %d: wall time %d trails the physical clock %d", i, ts.WallTime, m.Now())
		}
		prev = ts
	}
	// After the clock stepped back 2s and advanced 2.5s, wall time is physical again.
	if prev.WallTime != m.Now() || prev.Logical != 0 {
		t.Fatalf("once physical time caught up, got %v, want %d.0", prev, m.Now())
	}
}

func TestHLCUpdateRejectsRemoteTooFarAhead(t *testing.T) {
	const maxOffset = 100 * time.Nanosecond
	h, _ := newTestHLC(1000, Timestamp{WallTime: 1000, Logical: 3}, maxOffset)
	twin, _ := newTestHLC(1000, Timestamp{WallTime: 1000, Logical: 3}, maxOffset)

	remote := Timestamp{WallTime: 1101, Logical: 4}
	got, err := h.Update(remote)
	var offErr *ClockOffsetError
	if !errors.As(err, &offErr) {
		t.Fatalf("Update(%v) = %v, %v; want a *ClockOffsetError", remote, got, err)
	}
	want := ClockOffsetError{Remote: remote, Local: Timestamp{WallTime: 1000}, MaxOffset: maxOffset}
	if *offErr != want {
		t.Fatalf("error = %+v, want %+v", *offErr, want)
	}
	if got != (Timestamp{}) {
		t.Fatalf("rejected Update returned timestamp %v, want the zero Timestamp", got)
	}
	if msg := err.Error(); !strings.Contains(msg, "101ns ahead") || !strings.Contains(msg, "100ns") {
		t.Fatalf("error message %q does not give the offset and the bound", msg)
	}
	if h.Rejected() != 1 {
		t.Fatalf("Rejected() = %d, want 1", h.Rejected())
	}
	if h.Last() != twin.Last() || h.Now() != twin.Now() {
		t.Fatalf("a rejected Update changed the clock: %v vs untouched %v", h.Last(), twin.Last())
	}
	if h.MaxForwardJump() != 0 {
		t.Fatalf("a rejected timestamp counted as a forward jump: %v", h.MaxForwardJump())
	}

	// Exactly MaxOffset ahead is accepted.
	if got, err := h.Update(Timestamp{WallTime: 1100}); err != nil || got != (Timestamp{WallTime: 1100, Logical: 1}) {
		t.Fatalf("Update exactly MaxOffset ahead = %v, %v; want 1100.1", got, err)
	}
	if h.Rejected() != 1 {
		t.Fatalf("Rejected() = %d after an accepted update, want 1", h.Rejected())
	}
}

// TestHLCOffsetCheckDoesNotOverflow uses wall times whose difference does not
// fit in an int64: a naive remote-pt subtraction would wrap and accept them.
func TestHLCOffsetCheckDoesNotOverflow(t *testing.T) {
	h, _ := newTestHLC(-5, Timestamp{}, MaxOffsetLimit)
	if _, err := h.Update(Timestamp{WallTime: math.MaxInt64}); err == nil {
		t.Fatal("remote at MaxInt64 with the local clock at -5 was accepted")
	} else if !strings.Contains(err.Error(), "more than 292 years") {
		t.Fatalf("message %q does not say how far ahead", err)
	}
	h2, _ := newTestHLC(math.MaxInt64-10, Timestamp{}, time.Second)
	got, err := h2.Update(Timestamp{WallTime: math.MinInt64, Logical: 9})
	if err != nil || got != (Timestamp{WallTime: math.MaxInt64 - 10}) {
		t.Fatalf("remote far behind: Update = %v, %v; want the physical time", got, err)
	}
}

func TestHLCMaxForwardJump(t *testing.T) {
	h, m := newTestHLC(1000, Timestamp{}, time.Microsecond)
	for _, step := range []struct {
		remote int64
		want   time.Duration
	}{
		{1080, 80},  // 80ns ahead
		{1030, 80},  // 30ns ahead: the max stays
		{900, 80},   // behind
		{5000, 80},  // rejected: not an observed jump
		{1999, 999}, // 999ns ahead
	} {
		h.Update(Timestamp{WallTime: step.remote})
		if got := h.MaxForwardJump(); got != step.want {
			t.Fatalf("after remote %d at pt %d: MaxForwardJump() = %v, want %v", step.remote, m.Now(), got, step.want)
		}
	}
}

func TestHLCLogicalOverflowAdvancesWallTime(t *testing.T) {
	full := Timestamp{WallTime: 500, Logical: math.MaxUint32}
	h, _ := newTestHLC(400, full, time.Second)
	if got := h.Now(); got != (Timestamp{WallTime: 501}) {
		t.Fatalf("Now() after %v = %v, want 501.0", full, got)
	}
	if got := h.Now(); got != (Timestamp{WallTime: 501, Logical: 1}) {
		t.Fatalf("next Now() = %v, want 501.1", got)
	}

	h, _ = newTestHLC(400, Timestamp{WallTime: 100}, time.Second)
	if got, err := h.Update(full); err != nil || got != (Timestamp{WallTime: 501}) {
		t.Fatalf("Update(%v) = %v, %v; want 501.0", full, got, err)
	}
}

func TestHLCExhaustedPanics(t *testing.T) {
	h, _ := newTestHLC(math.MaxInt64, Timestamp{WallTime: math.MaxInt64, Logical: math.MaxUint32}, time.Second)
	defer func() {
		if recover() == nil {
			t.Fatal("Now() past the last representable timestamp did not panic")
		}
	}()
	h.Now()
}

func TestHLCMaxOffsetBounds(t *testing.T) {
	for _, d := range []time.Duration{0, -1, MaxOffsetLimit + 1} {
		if CheckMaxOffset(d) == nil {
			t.Errorf("CheckMaxOffset(%v) = nil, want an error", d)
		}
	}
	for _, d := range []time.Duration{1, DefaultMaxOffset, MaxOffsetLimit} {
		if err := CheckMaxOffset(d); err != nil {
			t.Errorf("CheckMaxOffset(%v) = %v, want nil", d, err)
		}
	}
	h := NewHLC(SystemClock{}, DefaultMaxOffset)
	if h.MaxOffset() != DefaultMaxOffset {
		t.Fatalf("MaxOffset() = %v, want %v", h.MaxOffset(), DefaultMaxOffset)
	}
	if err := h.SetMaxOffset(0); err == nil || h.MaxOffset() != DefaultMaxOffset {
		t.Fatalf("SetMaxOffset(0) = %v and left %v; want an error and no change", err, h.MaxOffset())
	}
	if err := h.SetMaxOffset(time.Second); err != nil || h.MaxOffset() != time.Second {
		t.Fatalf("SetMaxOffset(1s) = %v and left %v", err, h.MaxOffset())
	}
}

func TestHLCSetMaxOffsetAppliesToUpdate(t *testing.T) {
	h, _ := newTestHLC(1000, Timestamp{}, 10*time.Nanosecond)
	if _, err := h.Update(Timestamp{WallTime: 1050}); err == nil {
		t.Fatal("50ns ahead accepted with a 10ns max offset")
	}
	if err := h.SetMaxOffset(100 * time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Update(Timestamp{WallTime: 1050}); err != nil {
		t.Fatalf("50ns ahead refused with a 100ns max offset: %v", err)
	}
}

func TestNewHLCPanicsOnBadArguments(t *testing.T) {
	for name, f := range map[string]func(){
		"nil clock":       func() { NewHLC(nil, time.Second) },
		"zero max offset": func() { NewHLC(SystemClock{}, 0) },
		"huge max offset": func() { NewHLC(SystemClock{}, MaxOffsetLimit+1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// TestHLCConcurrent has many goroutines call Now and Update while another
// goroutine moves the physical clock back and forth. Each goroutine must see
// strictly increasing timestamps, every Update result must exceed its remote,
// and no timestamp may be handed out twice. Run with -race.
func TestHLCConcurrent(t *testing.T) {
	rng := testRand(t)
	goroutines, ops := 8, 20_000
	if *longFlag {
		ops = 200_000
	}
	const maxOffset = 50 * time.Microsecond
	m := NewManualClock(1 << 40)
	h := NewHLC(m, maxOffset)
	seeds := make([]uint64, goroutines)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}

	stop := make(chan struct{})
	var mover sync.WaitGroup
	moverSeed := rng.Uint64()
	mover.Go(func() {
		r := newRandFromSeed(moverSeed)
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.Advance(time.Duration(r.IntN(2000) - 800)) // drifts forward, often steps back
		}
	})

	results := make([][]Timestamp, goroutines)
	var rejected, updates int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := newRandFromSeed(seeds[g])
			got := make([]Timestamp, 0, ops)
			var rej, upd int64
			for range ops {
				var ts Timestamp
				if r.IntN(3) == 0 {
					upd++
					remote := Timestamp{WallTime: m.Now() + int64(r.IntN(int(2*maxOffset))), Logical: r.Uint32()}
					var err error
					ts, err = h.Update(remote)
					if err != nil {
						var offErr *ClockOffsetError
						if !errors.As(err, &offErr) {
							t.Errorf("Update: unexpected error %v", err)
							return
						}
						rej++
						continue
					}
					if !remote.Less(ts) {
						t.Errorf("Update(%v) = %v, not after the remote", remote, ts)
						return
					}
				} else {
					ts = h.Now()
				}
				if n := len(got); n > 0 && !got[n-1].Less(ts) {
					t.Errorf("goroutine %d: %v after %v", g, ts, got[n-1])
					return
				}
				got = append(got, ts)
			}
			results[g] = got
			mu.Lock()
			rejected += rej
			updates += upd
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stop)
	mover.Wait()

	var all []Timestamp
	for _, r := range results {
		all = append(all, r...)
	}
	slices.SortFunc(all, Timestamp.Compare)
	if i := firstDuplicate(all); i >= 0 {
		t.Fatalf("timestamp %v handed out twice", all[i])
	}
	if uint64(rejected) != h.Rejected() {
		t.Fatalf("goroutines saw %d rejections, Rejected() = %d", rejected, h.Rejected())
	}
	if rejected == 0 || rejected == updates {
		t.Fatalf("%d of %d updates rejected: the test should exercise both outcomes", rejected, updates)
	}
	if last := all[len(all)-1]; h.Last() != last {
		t.Fatalf("Last() = %v, want the largest timestamp handed out %v", h.Last(), last)
	}
}
