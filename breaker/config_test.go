package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := breaker.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*breaker.Config)
	}{
		{"ConsecutiveFailures", func(c *breaker.Config) { c.ConsecutiveFailures = 0 }},
		{"ConsecutiveFailures", func(c *breaker.Config) { c.ConsecutiveFailures = 1<<20 + 1 }},
		{"FailureRate", func(c *breaker.Config) { c.FailureRate = 0 }},
		{"FailureRate", func(c *breaker.Config) { c.FailureRate = 1.5 }},
		{"FailureRate", func(c *breaker.Config) { c.FailureRate = math.NaN() }},
		{"RateBuckets", func(c *breaker.Config) { c.RateBuckets = 0 }},
		{"RateBuckets", func(c *breaker.Config) { c.RateBuckets = 1001 }},
		{"RateWindow", func(c *breaker.Config) { c.RateWindow = 5 * time.Millisecond }},
		{"RateWindow", func(c *breaker.Config) { c.RateWindow = 25 * time.Hour }},
		{"MinCalls", func(c *breaker.Config) { c.MinCalls = 0 }},
		{"MaxOpenDuration", func(c *breaker.Config) { c.MaxOpenDuration = 0 }},
		{"MaxOpenDuration", func(c *breaker.Config) { c.MaxOpenDuration = 25 * time.Hour }},
		{"OpenDuration", func(c *breaker.Config) { c.OpenDuration = 0 }},
		{"OpenDuration", func(c *breaker.Config) { c.OpenDuration = 2 * time.Minute }},
		{"OpenBackoff", func(c *breaker.Config) { c.OpenBackoff = 0.5 }},
		{"OpenBackoff", func(c *breaker.Config) { c.OpenBackoff = math.Inf(1) }},
		{"MaxProbes", func(c *breaker.Config) { c.MaxProbes = 0 }},
		{"MaxProbes", func(c *breaker.Config) { c.MaxProbes = 1025 }},
		{"ProbeSuccesses", func(c *breaker.Config) { c.ProbeSuccesses = 0 }},
		{"ProbeTimeout", func(c *breaker.Config) { c.ProbeTimeout = 0 }},
		{"Classify", func(c *breaker.Config) { c.Classify = nil }},
		{"Now", func(c *breaker.Config) { c.Now = nil }},
	} {
		cfg := breaker.DefaultConfig()
		tc.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", tc.field, err)
		}
		if _, err := breaker.New(cfg); err == nil {
			t.Errorf("%s: New accepted an invalid config", tc.field)
		}
	}
}

func TestDefaultClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want breaker.Outcome
	}{
		{nil, breaker.Success},
		{errBoom, breaker.Failure},
		{context.DeadlineExceeded, breaker.Failure},
		{context.Canceled, breaker.Ignored},
		{fmt.Errorf("rpc: %w", context.Canceled), breaker.Ignored},
		{errors.Join(errBoom, context.Canceled), breaker.Ignored},
	} {
		if got := breaker.DefaultClassify(tc.err); got != tc.want {
			t.Errorf("DefaultClassify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestOpenDurationCap: with a huge backoff the open duration goes
// straight to MaxOpenDuration and stays there, however many tests fail.
func TestOpenDurationCap(t *testing.T) {
	clk := newFakeClock()
	cfg := testConfig(clk)
	cfg.OpenBackoff = 100
	cfg.MaxOpenDuration = 24 * time.Hour
	b := newBreaker(t, cfg)
	trip(t, b)
	clk.Advance(time.Second)
	for range 50 {
		p, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		p.Done(errBoom)
		_, err = b.Allow()
		var open *breaker.OpenError
		if !errors.As(err, &open) || open.RetryAfter <= 0 || open.RetryAfter > 24*time.Hour {
			t.Fatalf("Allow after a failed test = %v, want open for at most 24h", err)
		}
		clk.Advance(open.RetryAfter)
	}
}
