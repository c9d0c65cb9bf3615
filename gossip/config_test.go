package gossip

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ID = 1
	cfg.Rand = rand.New(rand.NewPCG(1, 1))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"id 0":                  func(c *Config) { c.ID = 0 },
		"no rand":               func(c *Config) { c.Rand = nil },
		"timeout >= interval":   func(c *Config) { c.ProbeTimeoutTicks = c.ProbeIntervalTicks },
		"zero interval":         func(c *Config) { c.ProbeIntervalTicks = 0 },
		"negative k":            func(c *Config) { c.IndirectChecks = -1 },
		"suspicion mult 0":      func(c *Config) { c.SuspicionMult = 0 },
		"max mult 0":            func(c *Config) { c.SuspicionMaxMult = 0 },
		"retransmit 0":          func(c *Config) { c.RetransmitMult = 0 },
		"max members 1":         func(c *Config) { c.MaxMembers = 1 },
		"message too small":     func(c *Config) { c.MaxMessageBytes = 100 },
		"meta cannot fit":       func(c *Config) { c.MaxMetaBytes = 2000 },
		"updates 0":             func(c *Config) { c.MaxUpdatesPerMessage = 0 },
		"queue 0":               func(c *Config) { c.MaxQueuedUpdates = 0 },
		"events 0":              func(c *Config) { c.MaxPendingEvents = 0 },
		"own meta too large":    func(c *Config) { c.Meta = make([]byte, c.MaxMetaBytes+1) },
		"own addr too large":    func(c *Config) { c.Addr = string(make([]byte, c.MaxAddrBytes+1)) },
		"incarnation exhausted": func(c *Config) { c.LastIncarnation = maxIncarnation },
		"tick duration":         func(c *Config) { c.TickDuration = 0 },
		"leave fanout":          func(c *Config) { c.LeaveFanout = 0 },
	} {
		cfg := DefaultConfig()
		cfg.ID = 1
		cfg.Rand = rand.New(rand.NewPCG(1, 1))
		mutate(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrConfigInvalid) {
			t.Errorf("%s: %v, want ErrConfigInvalid", name, err)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
