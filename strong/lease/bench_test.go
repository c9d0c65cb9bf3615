package lease

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchLessor returns a primary lessor holding n leases of mixed TTLs.
func benchLessor(b *testing.B, n int) (*Lessor, *ManualClock) {
	b.Helper()
	clock := NewManualClock(epoch)
	cfg := testConfig(clock, NewMemBackend())
	cfg.ExpiredBatchMax = 500
	l, err := NewLessor(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	l.Promote(0)
	for i := range n {
		mustGrant(b, l, ID(i+1), int64(10+i%50))
	}
	return l, clock
}

// BenchmarkGrantAttach grants a lease and attaches a key to it, on a
// primary that already holds the given number of leases.
func BenchmarkGrantAttach(b *testing.B) {
	for _, n := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("leases=%d", n), func(b *testing.B) {
			l, _ := benchLessor(b, n)
			next := ID(n + 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Grant(next, 30); err != nil {
					b.Fatal(err)
				}
				if err := l.Attach(next, fmt.Sprint("/k/", next)); err != nil {
					b.Fatal(err)
				}
				next++
			}
		})
	}
}

// BenchmarkRenew renews random leases among 100k (a heap fix each).
func BenchmarkRenew(b *testing.B) {
	const n = 100_000
	l, _ := benchLessor(b, n)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		id := ID(i*7919%n + 1)
		if _, err := l.Renew(ctx, id); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkExpired measures one Expired call among 100k leases: when
// nothing is due (a peek) and when a full batch of 500 is due.
func BenchmarkExpired(b *testing.B) {
	const n = 100_000
	b.Run("none-due", func(b *testing.B) {
		l, _ := benchLessor(b, n)
		b.ReportAllocs()
		for b.Loop() {
			if got := l.Expired(); len(got) != 0 {
				b.Fatal("something expired")
			}
		}
	})
	b.Run("batch-of-500", func(b *testing.B) {
		l, clock := benchLessor(b, n)
		clock.Advance(time.Hour) // all 100k due; each call reports 500
		b.ReportAllocs()
		for b.Loop() {
			got := l.Expired()
			if len(got) == 0 {
				// Every lease is pending: let the retry interval pass
				// (once per 200 calls).
				clock.Advance(l.cfg.RevokeRetryInterval)
				got = l.Expired()
			}
			if len(got) != 500 {
				b.Fatalf("batch of %d", len(got))
			}
		}
	})
}

// BenchmarkPromote measures refreshing 100k leases on becoming leader.
func BenchmarkPromote(b *testing.B) {
	l, _ := benchLessor(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		l.Promote(time.Second)
	}
}
