package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Faults injects network faults into a Transport: frames to or from a peer
// dropped with a probability, delayed, or all dropped (a partition). Rules
// change at run time (an admin endpoint or a test drives them); a
// Transport whose Config.Faults is nil never consults any.
//
// The faults act on frames, not connections: a partition black-holes
// frames silently, as a network that drops packets would, and Send still
// returns true for them (Raft sees silence, not an error). Connections
// stay up, so breakers stay closed; a real partition would also cut the
// connections after KeepaliveInterval+KeepaliveTimeout. Snapshots to or
// from a partitioned peer fail at once with ErrPartitioned rather than
// hang.
//
// Determinism: each link (peer and direction) draws its drop decisions
// from its own generator, seeded from the seed and the link, so the n-th
// frame on a link meets the same fate in every run with the same seed,
// whatever the traffic on other links.
//
// A Faults is safe for concurrent use and may be shared by several
// transports (each consults it with its own peers' ids).
type Faults struct {
	seed uint64
	// rules is read without a lock on every frame; writers replace it
	// under mu.
	rules atomic.Pointer[map[link]Rule]
	mu    sync.Mutex
	// rngs holds one generator per link that has met a drop rule;
	// created under mu, each then used under its own lock.
	rngs map[link]*linkRNG
}

// Direction is which way a rule acts, seen from the node applying it.
type Direction uint8

// The directions of a rule. The zero Direction is not a direction.
const (
	// Outbound acts on frames this node sends to the peer.
	Outbound Direction = iota + 1
	// Inbound acts on frames this node receives from the peer.
	Inbound
	// Both sets the same rule for Outbound and Inbound.
	Both
)

// String returns "outbound", "inbound" or "both".
func (d Direction) String() string {
	switch d {
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	case Both:
		return "both"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// MarshalText encodes the direction as its String, for JSON.
func (d Direction) MarshalText() ([]byte, error) {
	if d < Outbound || d > Both {
		return nil, fmt.Errorf("transport: invalid %v", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes a direction from its String.
func (d *Direction) UnmarshalText(b []byte) error {
	for c := Outbound; c <= Both; c++ {
		if string(b) == c.String() {
			*d = c
			return nil
		}
	}
	return fmt.Errorf("transport: unknown direction %q (want outbound, inbound or both)", b)
}

// AllPeers as Rule.Peer makes a rule apply to every peer that has no rule
// of its own in that direction.
const AllPeers uint64 = 0

// MaxFaultDelay bounds Rule.Delay.
const MaxFaultDelay = 10 * time.Second

// Rule is the fault on one peer's frames in one direction.
type Rule struct {
	// Peer is the peer's node id, or AllPeers.
	Peer uint64 `json:"peer"`
	// Direction is Outbound, Inbound or Both (Set only).
	Direction Direction `json:"direction"`
	// Drop is the probability, in [0, 1], that a frame is dropped.
	Drop float64 `json:"drop,omitempty"`
	// Delay holds each batch back this long before it is written
	// (Outbound) or delivered (Inbound), at most MaxFaultDelay. The
	// delay is in line, so order is kept and throughput falls to one
	// batch per Delay: this models a slow link, not reordering. In JSON
	// it is a Go duration string ("150ms").
	Delay time.Duration `json:"-"`
	// Partition drops every frame and fails snapshots.
	Partition bool `json:"partition,omitempty"`
}

// ruleJSON is Rule's JSON form.
type ruleJSON struct {
	Peer      uint64    `json:"peer"`
	Direction Direction `json:"direction"`
	Drop      float64   `json:"drop,omitempty"`
	Delay     string    `json:"delay,omitempty"`
	Partition bool      `json:"partition,omitempty"`
}

// MarshalJSON encodes the rule with its Delay as a duration string.
func (r Rule) MarshalJSON() ([]byte, error) {
	j := ruleJSON{Peer: r.Peer, Direction: r.Direction, Drop: r.Drop, Partition: r.Partition}
	if r.Delay != 0 {
		j.Delay = r.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a rule written by MarshalJSON.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var j ruleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var delay time.Duration
	if j.Delay != "" {
		var err error
		if delay, err = time.ParseDuration(j.Delay); err != nil {
			return fmt.Errorf("transport: fault rule delay: %w", err)
		}
	}
	*r = Rule{Peer: j.Peer, Direction: j.Direction, Drop: j.Drop, Delay: delay, Partition: j.Partition}
	return nil
}

type link struct {
	peer uint64
	dir  Direction
}

type linkRNG struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewFaults returns a Faults with no rules, whose drop decisions derive
// from seed.
func NewFaults(seed uint64) *Faults {
	f := &Faults{seed: seed, rngs: map[link]*linkRNG{}}
	f.rules.Store(&map[link]Rule{})
	return f
}

// Set installs r, replacing the rule for the same peer and direction (Both
// replaces both).
func (f *Faults) Set(r Rule) error {
	switch {
	case r.Direction < Outbound || r.Direction > Both:
		return fmt.Errorf("transport: fault rule: invalid %v", r.Direction)
	case math.IsNaN(r.Drop) || r.Drop < 0 || r.Drop > 1:
		return fmt.Errorf("transport: fault rule: Drop %v out of range [0, 1]", r.Drop)
	case r.Delay < 0 || r.Delay > MaxFaultDelay:
		return fmt.Errorf("transport: fault rule: Delay %v out of range [0, %v]", r.Delay, MaxFaultDelay)
	case r.Drop == 0 && r.Delay == 0 && !r.Partition:
		return errors.New("transport: fault rule does nothing (use Clear to remove a rule)")
	}
	f.update(func(rules map[link]Rule) {
		for _, d := range r.Direction.split() {
			rd := r
			rd.Direction = d
			rules[link{r.Peer, d}] = rd
		}
	})
	return nil
}

// Partition cuts the peers off in both directions.
func (f *Faults) Partition(peers ...uint64) {
	for _, p := range peers {
		_ = f.Set(Rule{Peer: p, Direction: Both, Partition: true}) // valid by construction
	}
}

// Clear removes the peer's rules in both directions.
func (f *Faults) Clear(peer uint64) {
	f.update(func(rules map[link]Rule) {
		delete(rules, link{peer, Outbound})
		delete(rules, link{peer, Inbound})
	})
}

// Heal removes every rule.
func (f *Faults) Heal() {
	f.update(func(rules map[link]Rule) { clear(rules) })
}

// Rules returns the rules in force, one per peer and direction (never
// Both), ordered by peer then direction.
func (f *Faults) Rules() []Rule {
	rules := *f.rules.Load()
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int {
		if a.Peer != b.Peer {
			return cmpUint64(a.Peer, b.Peer)
		}
		return int(a.Direction) - int(b.Direction)
	})
	return out
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// update copies the rules, lets fn edit the copy and publishes it.
func (f *Faults) update(fn func(map[link]Rule)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := make(map[link]Rule, len(*f.rules.Load())+2)
	for k, v := range *f.rules.Load() {
		next[k] = v
	}
	fn(next)
	f.rules.Store(&next)
}

func (d Direction) split() []Direction {
	if d == Both {
		return []Direction{Outbound, Inbound}
	}
	return []Direction{d}
}

// rule returns the rule for the peer in direction d (Outbound or Inbound),
// falling back to an AllPeers rule. A nil Faults has no rules.
func (f *Faults) rule(peer uint64, d Direction) (Rule, bool) {
	if f == nil {
		return Rule{}, false
	}
	rules := *f.rules.Load()
	if len(rules) == 0 {
		return Rule{}, false
	}
	if r, ok := rules[link{peer, d}]; ok {
		return r, true
	}
	r, ok := rules[link{AllPeers, d}]
	return r, ok
}

// drops reports whether r drops the next frame on the link.
func (f *Faults) drops(peer uint64, d Direction, r Rule) bool {
	switch {
	case r.Partition || r.Drop >= 1:
		return true
	case r.Drop <= 0:
		return false
	}
	g := f.rng(link{peer, d})
	g.mu.Lock()
	x := g.r.Float64()
	g.mu.Unlock()
	return x < r.Drop
}

// partitioned reports whether the peer is partitioned in direction d.
func (f *Faults) partitioned(peer uint64, d Direction) bool {
	r, ok := f.rule(peer, d)
	return ok && r.Partition
}

// delay returns the in-line delay for the peer's batches in direction d.
func (f *Faults) delay(peer uint64, d Direction) time.Duration {
	r, ok := f.rule(peer, d)
	if !ok {
		return 0
	}
	return r.Delay
}

func (f *Faults) rng(l link) *linkRNG {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.rngs[l]
	if !ok {
		s := splitmix64(f.seed ^ splitmix64(l.peer<<2|uint64(l.dir)))
		g = &linkRNG{r: rand.New(rand.NewPCG(s, splitmix64(s)))}
		f.rngs[l] = g
	}
	return g
}

// splitmix64 scrambles x (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014), so that nearby seeds and
// link ids give unrelated generators.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
