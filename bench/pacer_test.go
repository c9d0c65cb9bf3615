package bench

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestPacerRefusesBadRates(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1), MaxRate * 2} {
		if _, err := NewPacer(r, time.Now()); err == nil {
			t.Errorf("rate %v accepted", r)
		}
	}
}

func TestPacerScheduleIsEvenAndBounded(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, rate := range []float64{1, 3, 1000, 7777, MaxRate} {
		p, err := NewPacer(rate, start)
		if err != nil {
			t.Fatal(err)
		}
		exact := float64(time.Second) / rate
		for i := int64(0); i < 1000; i++ {
			if got := float64(p.Due(i + 1).Sub(p.Due(i))); math.Abs(got-exact) > 1 {
				t.Fatalf("rate %v: slots %d and %d are %vns apart, want %.2fns", rate, i, i+1, got, exact)
			}
		}
		// No drift: slot i is i/rate after the start, to the nanosecond.
		if got, want := float64(p.Due(1e9).Sub(start)), 1e9*exact; math.Abs(got-want) > 1 {
			t.Fatalf("rate %v: slot 1e9 due after %vns, want %.0fns", rate, got, want)
		}
		// Over any window of length w, at most rate*w+1 slots fall due.
		r := rand.New(rand.NewPCG(uint64(rate), 1))
		for range 200 {
			from := start.Add(time.Duration(r.Int64N(int64(1000 * p.Interval()))))
			w := time.Duration(r.Int64N(int64(2000 * p.Interval())))
			var n int64
			for i := int64(0); p.Due(i).Before(from.Add(w)); i++ {
				if !p.Due(i).Before(from) {
					n++
				}
			}
			// +2ns: due times are rounded to the nanosecond.
			if limit := rate*(w+2).Seconds() + 1; float64(n) > limit {
				t.Fatalf("rate %v: %d slots due in a %v window, limit %.2f", rate, n, w, limit)
			}
		}
	}
}

func TestPacerSlotsAreUniqueUnderConcurrency(t *testing.T) {
	p, _ := NewPacer(1000, time.Now())
	const workers, each = 8, 500
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				s, due := p.Take()
				if !due.Equal(p.Due(s)) {
					t.Errorf("slot %d due %v, want %v", s, due, p.Due(s))
				}
				mu.Lock()
				if seen[s] {
					t.Errorf("slot %d handed out twice", s)
				}
				seen[s] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range int64(workers * each) {
		if !seen[i] {
			t.Fatalf("slot %d never handed out", i)
		}
	}
}

func TestPacerWaitReturnsDueTime(t *testing.T) {
	start := time.Unix(1000, 0)
	p, _ := NewPacer(10, start)
	// Behind schedule: no wait, and latency is measured from the due
	// time, not from now (coordinated omission).
	late := func() time.Time { return start.Add(time.Hour) }
	for i := range 3 {
		due, err := p.Wait(context.Background(), late)
		if err != nil || !due.Equal(start.Add(time.Duration(i)*100*time.Millisecond)) {
			t.Fatalf("slot %d: due %v err %v", i, due, err)
		}
	}
	// Ahead of schedule: Wait blocks until the slot is due; an ended
	// context releases it with the context's error.
	early := func() time.Time { return start.Add(-time.Hour) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := p.Wait(ctx, early); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v an hour before its slot", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait ignored the cancelled context")
	}
}
