package breaker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

// BenchmarkAllowDoneClosed is the hot path: a call allowed and reported
// as a success in the closed state, with the real clock.
func BenchmarkAllowDoneClosed(b *testing.B) {
	br := newBreaker(b, breaker.DefaultConfig())
	b.ReportAllocs()
	for b.Loop() {
		p, err := br.Allow()
		if err != nil {
			b.Fatal(err)
		}
		p.Done(nil)
	}
}

func BenchmarkAllowDoneClosedParallel(b *testing.B) {
	br := newBreaker(b, breaker.DefaultConfig())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := br.Allow()
			if err != nil {
				b.Error(err)
				return
			}
			p.Done(nil)
		}
	})
}

func BenchmarkDoClosed(b *testing.B) {
	br := newBreaker(b, breaker.DefaultConfig())
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := br.Do(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllowOpen is the fail-fast path: a rejection while open (it
// allocates the *OpenError that carries RetryAfter).
func BenchmarkAllowOpen(b *testing.B) {
	cfg := breaker.DefaultConfig()
	cfg.OpenDuration, cfg.MaxOpenDuration = time.Hour, time.Hour
	br := newBreaker(b, cfg)
	for range cfg.ConsecutiveFailures {
		p, _ := br.Allow()
		p.Done(errBoom)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := br.Allow(); err == nil {
			b.Fatal("allowed while open")
		}
	}
}

// BenchmarkProbeCycle measures a half-open probe taken and reported
// (ignored, so the breaker stays half-open), sweeping MaxProbes: admission
// scans the slots.
func BenchmarkProbeCycle(b *testing.B) {
	for _, probes := range []int{1, 16, 256} {
		b.Run("probes="+strconv.Itoa(probes), func(b *testing.B) {
			clk := newFakeClock()
			cfg := testConfig(clk)
			cfg.MaxProbes = probes
			br := newBreaker(b, cfg)
			trip(b, br)
			clk.Advance(time.Second)
			// Hold all slots but the last, so admission scans them all.
			for range probes - 1 {
				if _, err := br.Allow(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				p, err := br.Allow()
				if err != nil {
					b.Fatal(err)
				}
				p.Done(context.Canceled)
			}
		})
	}
}
