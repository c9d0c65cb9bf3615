package breaker_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

// TestHalfOpenCapUnderConcurrency: many goroutines hammer a breaker that
// keeps tripping and testing; at no moment may more than MaxProbes probes
// be in flight. Run with -race.
func TestHalfOpenCapUnderConcurrency(t *testing.T) {
	const maxProbes, goroutines, iterations = 3, 16, 1000
	clk := newFakeClock()
	cfg := testConfig(clk)
	cfg.MaxProbes = maxProbes
	cfg.ConsecutiveFailures = 1
	cfg.OpenBackoff = 1
	// No probe may time out during the test: the clock moves by at most
	// OpenDuration per Allow, far less than this in all.
	cfg.ProbeTimeout = 24 * time.Hour
	b := newBreaker(t, cfg)

	var inFlight, maxSeen, probes atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range iterations {
				p, err := b.Allow()
				var open *breaker.OpenError
				if errors.As(err, &open) {
					clk.Advance(open.RetryAfter) // end the open period
				}
				if err != nil {
					continue
				}
				if !p.Probe() {
					p.Done(errBoom) // trip again quickly
					continue
				}
				probes.Add(1)
				n := inFlight.Add(1)
				for {
					m := maxSeen.Load()
					if n <= m || maxSeen.CompareAndSwap(m, n) {
						break
					}
				}
				if n > maxProbes {
					t.Errorf("%d probes in flight, cap %d", n, maxProbes)
				}
				runtime.Gosched()
				inFlight.Add(-1)
				switch rng.IntN(3) {
				case 0:
					p.Done(nil)
				case 1:
					p.Done(errBoom)
				default:
					p.Done(context.Canceled)
				}
			}
		})
	}
	wg.Wait()
	if probes.Load() == 0 {
		t.Fatal("no probe ran: the test proved nothing")
	}
	t.Logf("%d probes, at most %d in flight at once", probes.Load(), maxSeen.Load())
}

// TestCallbacksInOrderUnderConcurrency: transitions made by many
// goroutines reach OnStateChange one at a time and in order, so each one
// starts where the previous one ended.
func TestCallbacksInOrderUnderConcurrency(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	var seq []breaker.Transition
	var active atomic.Int32
	cfg := testConfig(clk)
	cfg.ConsecutiveFailures = 1
	cfg.OpenBackoff = 1
	cfg.MaxProbes = 4
	cfg.ProbeSuccesses = 1
	cfg.OnStateChange = func(tr breaker.Transition) {
		if active.Add(1) != 1 {
			t.Error("OnStateChange called concurrently")
		}
		mu.Lock()
		seq = append(seq, tr)
		mu.Unlock()
		runtime.Gosched()
		active.Add(-1)
	}
	b := newBreaker(t, cfg)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for range 500 {
				if rng.IntN(4) == 0 {
					clk.Advance(500 * time.Millisecond)
				}
				p, err := b.Allow()
				if err != nil {
					continue
				}
				if rng.IntN(2) == 0 {
					p.Done(nil)
				} else {
					p.Done(errBoom)
				}
			}
		})
	}
	wg.Wait()
	_ = b.State() // deliver anything still pending
	mu.Lock()
	defer mu.Unlock()
	if len(seq) < 10 {
		t.Fatalf("only %d transitions: the test proved nothing", len(seq))
	}
	if seq[0].From != breaker.Closed {
		t.Fatalf("first transition %v does not start closed", seq[0])
	}
	for i := 1; i < len(seq); i++ {
		if seq[i].From != seq[i-1].To {
			t.Fatalf("transition %d (%v->%v) does not follow %d (%v->%v)", i, seq[i].From, seq[i].To, i-1, seq[i-1].From, seq[i-1].To)
		}
	}
	if c := b.Counts(); c.Transitions != uint64(len(seq)) {
		t.Fatalf("%d transitions counted, %d delivered", c.Transitions, len(seq))
	}
}
