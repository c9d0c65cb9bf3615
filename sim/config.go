package sim

import (
	"errors"
	"fmt"
	"time"
)

// MaxNodes bounds Config.Nodes. The link matrix and the per-node state are
// sized by it; real clusters of interest are 3, 5 or 7 nodes.
const MaxNodes = 64

// Config sets up a World. Build one with DefaultConfig and change fields;
// New calls Validate.
type Config struct {
	// Seed is the only source of randomness of the run: the same seed and the
	// same code give the same trace.
	Seed uint64
	// Nodes is the cluster size, 1..MaxNodes. Node IDs are 1..Nodes (0 is
	// never a node, as in Raft). Default 3.
	Nodes int
	// TickInterval is the simulated time between two Tick calls of a running
	// node. Protocols count time in ticks, so this only sets the ratio of
	// network delay to protocol timeouts. Default 10ms: with the default
	// delays of 1-10ms a message takes at most about one tick.
	TickInterval time.Duration
	// Net is the behaviour of the simulated network.
	Net NetConfig
	// DiskLoss is what a crash does to writes that were not synced.
	// Default LossPrefix, the harshest realistic mode.
	DiskLoss LossMode
	// TraceTail is how many of the last events the trace keeps as text for
	// a failure report. Default 64.
	TraceTail int
	// MaxEventsPerInstant bounds how many events may run at one simulated
	// instant before Step reports a livelock (a protocol that reschedules
	// work at the current time forever). Default 100000.
	MaxEventsPerInstant int
}

// NetConfig is the behaviour of the simulated network. Probabilities are in
// [0, 1]; durations are simulated time.
type NetConfig struct {
	// MinDelay and MaxDelay bound the one-way delay of a message, drawn
	// uniformly per message (and per copy of a duplicated message). Because
	// each message draws its own delay, messages on one link are reordered
	// whenever MaxDelay > MinDelay. MinDelay must be > 0 so that simulated
	// time advances. Defaults 1ms and 10ms.
	MinDelay, MaxDelay time.Duration
	// DropProb is the chance that a message is lost. Default 0.01.
	DropProb float64
	// DupProb is the chance that a message is delivered twice. Default 0.01.
	DupProb float64
	// ReorderProb is the chance that a message gets an extra delay drawn
	// uniformly from [0, ReorderDelay], so that it arrives well after later
	// messages. Default 0.05.
	ReorderProb float64
	// ReorderDelay bounds the extra delay of a reordered message.
	// Default 50ms.
	ReorderDelay time.Duration
	// MaxInFlight bounds the messages in the network at once; a send beyond
	// it is dropped (and counted), as a full socket buffer would. Default
	// 100000.
	MaxInFlight int
	// PausedBacklog bounds the messages held for a paused node; more are
	// dropped. Default 1024.
	PausedBacklog int
}

// DefaultConfig returns the documented defaults for the given seed.
func DefaultConfig(seed uint64) Config {
	return Config{
		Seed:                seed,
		Nodes:               3,
		TickInterval:        10 * time.Millisecond,
		Net:                 DefaultNetConfig(),
		DiskLoss:            LossPrefix,
		TraceTail:           64,
		MaxEventsPerInstant: 100000,
	}
}

// DefaultNetConfig returns the documented network defaults: a lossy, jittery
// LAN.
func DefaultNetConfig() NetConfig {
	return NetConfig{
		MinDelay:      time.Millisecond,
		MaxDelay:      10 * time.Millisecond,
		DropProb:      0.01,
		DupProb:       0.01,
		ReorderProb:   0.05,
		ReorderDelay:  50 * time.Millisecond,
		MaxInFlight:   100000,
		PausedBacklog: 1024,
	}
}

// Validate reports the first field that is out of range.
func (c Config) Validate() error {
	if c.Nodes < 1 || c.Nodes > MaxNodes {
		return fmt.Errorf("sim: Nodes = %d, want 1..%d", c.Nodes, MaxNodes)
	}
	if c.TickInterval <= 0 {
		return fmt.Errorf("sim: TickInterval = %v, want > 0", c.TickInterval)
	}
	if !c.DiskLoss.valid() {
		return fmt.Errorf("sim: DiskLoss = %d is not a LossMode", int(c.DiskLoss))
	}
	if c.TraceTail < 1 {
		return fmt.Errorf("sim: TraceTail = %d, want >= 1", c.TraceTail)
	}
	if c.MaxEventsPerInstant < 1 {
		return fmt.Errorf("sim: MaxEventsPerInstant = %d, want >= 1", c.MaxEventsPerInstant)
	}
	return c.Net.Validate()
}

// Validate reports the first field that is out of range.
func (c NetConfig) Validate() error {
	if c.MinDelay <= 0 {
		return fmt.Errorf("sim: Net.MinDelay = %v, want > 0 (time must advance)", c.MinDelay)
	}
	if c.MaxDelay < c.MinDelay {
		return fmt.Errorf("sim: Net.MaxDelay = %v < MinDelay = %v", c.MaxDelay, c.MinDelay)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"DropProb", c.DropProb}, {"DupProb", c.DupProb}, {"ReorderProb", c.ReorderProb}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("sim: Net.%s = %v, want in [0, 1]", p.name, p.v)
		}
	}
	if c.ReorderDelay < 0 {
		return fmt.Errorf("sim: Net.ReorderDelay = %v, want >= 0", c.ReorderDelay)
	}
	if c.ReorderProb > 0 && c.ReorderDelay == 0 {
		return errors.New("sim: Net.ReorderProb > 0 needs Net.ReorderDelay > 0")
	}
	if c.MaxInFlight < 1 {
		return fmt.Errorf("sim: Net.MaxInFlight = %d, want >= 1", c.MaxInFlight)
	}
	if c.PausedBacklog < 1 {
		return fmt.Errorf("sim: Net.PausedBacklog = %d, want >= 1", c.PausedBacklog)
	}
	return nil
}
