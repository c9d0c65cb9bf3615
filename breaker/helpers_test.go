package breaker_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

// fakeClock is a manual clock, safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var errBoom = errors.New("dependency failed")

// testConfig is a small config on a fake clock: 3 failures in a row trip
// it, the rate needs 10 calls, open for 1 s doubling up to 8 s, 2 probes,
// 2 successes to close.
func testConfig(clk *fakeClock) breaker.Config {
	cfg := breaker.DefaultConfig()
	cfg.ConsecutiveFailures = 3
	cfg.MinCalls = 10
	cfg.RateWindow = 10 * time.Second
	cfg.RateBuckets = 10
	cfg.OpenDuration = time.Second
	cfg.MaxOpenDuration = 8 * time.Second
	cfg.MaxProbes = 2
	cfg.ProbeSuccesses = 2
	cfg.ProbeTimeout = 5 * time.Second
	cfg.Now = clk.Now
	return cfg
}

// recorder collects transitions passed to OnStateChange.
type recorder struct {
	mu sync.Mutex
	ts []breaker.Transition
}

func (r *recorder) record(t breaker.Transition) {
	r.mu.Lock()
	r.ts = append(r.ts, t)
	r.mu.Unlock()
}

func (r *recorder) all() []breaker.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]breaker.Transition(nil), r.ts...)
}

func newBreaker(t testing.TB, cfg breaker.Config) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call runs one allowed call with the given error and fails the test if
// the breaker rejects it.
func call(t testing.TB, b *breaker.Breaker, err error) {
	t.Helper()
	p, aerr := b.Allow()
	if aerr != nil {
		t.Fatalf("Allow: %v (state %v)", aerr, b.State())
	}
	p.Done(err)
}

// trip opens a closed breaker of testConfig with three failures.
func trip(t testing.TB, b *breaker.Breaker) {
	t.Helper()
	for range 3 {
		call(t, b, errBoom)
	}
	if s := b.State(); s != breaker.Open {
		t.Fatalf("state after three failures = %v, want open", s)
	}
}

func wantState(t testing.TB, b *breaker.Breaker, want breaker.State) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("state = %v, want %v", got, want)
	}
}
