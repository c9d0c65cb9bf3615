package gossipnet

import (
	"errors"
	"testing"
	"time"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.Core.ID = 1
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Persist = func(uint64) error { return nil }
	return cfg
}

// TestConfigValidate: the defaults validate once the caller's fields are
// set, and each bound is enforced.
func TestConfigValidate(t *testing.T) {
	cfg := validConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, tweak := range map[string]func(*Config){
		"no listen address":       func(c *Config) { c.ListenAddr = "" },
		"listen address w/o port": func(c *Config) { c.ListenAddr = "127.0.0.1" },
		"no persist":              func(c *Config) { c.Persist = nil },
		"zero inbox":              func(c *Config) { c.InboxLen = 0 },
		"zero push-pulls":         func(c *Config) { c.MaxPushPullsInFlight = 0 },
		"push-pull under a datagram": func(c *Config) {
			c.MaxPushPullBytes = c.Core.MaxMessageBytes - 1
		},
		"no push-pull timeout": func(c *Config) { c.PushPullTimeout = 0 },
		"sub-millisecond tick": func(c *Config) { c.Core.TickDuration = time.Microsecond },
		"core: no id":          func(c *Config) { c.Core.ID = 0 },
		"negative linger":      func(c *Config) { c.LeaveLinger = -time.Second },
	} {
		c := validConfig()
		tweak(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfigInvalid) {
			t.Errorf("%s: %v, want ErrConfigInvalid", name, err)
		}
	}
}

// TestWithProbeInterval keeps every tick count and scales real time.
func TestWithProbeInterval(t *testing.T) {
	d := DefaultConfig()
	f := d.WithProbeInterval(200 * time.Millisecond)
	if got := time.Duration(f.Core.ProbeIntervalTicks) * f.Core.TickDuration; got != 200*time.Millisecond {
		t.Fatalf("probe period %v", got)
	}
	if f.Core.ProbeIntervalTicks != d.Core.ProbeIntervalTicks || f.Core.SuspicionMult != d.Core.SuspicionMult ||
		f.Core.PushPullIntervalTicks != d.Core.PushPullIntervalTicks {
		t.Fatal("tick counts changed")
	}
	if f.Core.Phi.FirstHeartbeatEstimate != 200*time.Millisecond || f.LeaveLinger != 100*time.Millisecond {
		t.Fatalf("phi estimate %v, linger %v", f.Core.Phi.FirstHeartbeatEstimate, f.LeaveLinger)
	}
	if err := f.Core.Phi.Validate(); err != nil {
		t.Fatal(err)
	}
}
