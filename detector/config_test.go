package detector_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/detector"
)

func TestDefaultConfigsAreValid(t *testing.T) {
	if err := detector.DefaultPhiAccrualConfig().Validate(); err != nil {
		t.Errorf("phi defaults: %v", err)
	}
	if err := detector.DefaultFixedTimeoutConfig().Validate(); err != nil {
		t.Errorf("fixed-timeout defaults: %v", err)
	}
}

func TestPhiConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*detector.PhiAccrualConfig)
	}{
		{"Threshold", func(c *detector.PhiAccrualConfig) { c.Threshold = 0 }},
		{"Threshold", func(c *detector.PhiAccrualConfig) { c.Threshold = math.NaN() }},
		{"Threshold", func(c *detector.PhiAccrualConfig) { c.Threshold = math.Inf(1) }},
		{"WindowSize", func(c *detector.PhiAccrualConfig) { c.WindowSize = 1 }},
		{"WindowSize", func(c *detector.PhiAccrualConfig) { c.WindowSize = 100_001 }},
		{"MaxInterval", func(c *detector.PhiAccrualConfig) { c.MaxInterval = 0 }},
		{"MaxInterval", func(c *detector.PhiAccrualConfig) { c.MaxInterval = 2 * time.Hour }},
		{"MinStdDev", func(c *detector.PhiAccrualConfig) { c.MinStdDev = 0 }},
		{"MinStdDev", func(c *detector.PhiAccrualConfig) { c.MinStdDev = 2 * time.Minute }},
		{"AcceptablePause", func(c *detector.PhiAccrualConfig) { c.AcceptablePause = -1 }},
		{"AcceptablePause", func(c *detector.PhiAccrualConfig) { c.AcceptablePause = 2 * time.Hour }},
		{"FirstHeartbeatEstimate", func(c *detector.PhiAccrualConfig) { c.FirstHeartbeatEstimate = 0 }},
		{"FirstHeartbeatEstimate", func(c *detector.PhiAccrualConfig) { c.FirstHeartbeatEstimate = time.Minute }},
		{"MaxNodes", func(c *detector.PhiAccrualConfig) { c.MaxNodes = 0 }},
		{"MaxNodes", func(c *detector.PhiAccrualConfig) { c.MaxNodes = 1<<20 + 1 }},
	} {
		cfg := detector.DefaultPhiAccrualConfig()
		tc.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", tc.field, err)
		}
		if _, err := detector.NewPhiAccrual[string](cfg); err == nil {
			t.Errorf("%s: NewPhiAccrual accepted an invalid config", tc.field)
		}
	}
}

func TestFixedTimeoutConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*detector.FixedTimeoutConfig)
	}{
		{"Timeout", func(c *detector.FixedTimeoutConfig) { c.Timeout = 0 }},
		{"Timeout", func(c *detector.FixedTimeoutConfig) { c.Timeout = 2 * time.Hour }},
		{"MaxNodes", func(c *detector.FixedTimeoutConfig) { c.MaxNodes = -1 }},
	} {
		cfg := detector.DefaultFixedTimeoutConfig()
		tc.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", tc.field, err)
		}
		if _, err := detector.NewFixedTimeout[string](cfg); err == nil {
			t.Errorf("%s: NewFixedTimeout accepted an invalid config", tc.field)
		}
	}
}
