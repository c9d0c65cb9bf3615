package nemesis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cairndb/cairn/verify/cluster"
)

// Fault is one planned fault, with its targets still relative: Shape says
// how to choose them (some shapes name the leader, known only when the
// fault is injected) and Perm is a seeded order of the members to choose
// from.
type Fault struct {
	Kind Kind
	// Shape: for kill one, leader, majority or all; for pause one or
	// leader; for partition isolate, leader, majority, bridge,
	// one-way-in, one-way-out or ring; for loss and delay one or all;
	// for member one or leader; for clock one, leader or majority.
	Shape string
	// Perm is a permutation of the member indexes.
	Perm []int
	// Loss is a drop probability; Delay a delay; Skew a clock offset.
	Loss  float64
	Delay time.Duration
	Skew  time.Duration
}

// Step is one round of the schedule: Wait with a healthy cluster, then
// inject the faults together and hold them.
type Step struct {
	Wait, Hold time.Duration
	Faults     []Fault
}

// String describes the step's plan.
func (s Step) String() string {
	var parts []string
	for _, f := range s.Faults {
		parts = append(parts, f.Kind.String()+"/"+f.Shape)
	}
	return fmt.Sprintf("after %v: %s for %v", s.Wait, strings.Join(parts, " + "), s.Hold)
}

// Planner generates the schedule of a seed. It is deterministic: the same
// kinds, size, seed and timings give the same steps.
type Planner struct {
	kinds          []Kind
	n              int
	interval, hold time.Duration
	rng            *rand.Rand
}

// NewPlanner returns the schedule of seed for n members.
func NewPlanner(kinds []Kind, n int, seed uint64, interval, hold time.Duration) *Planner {
	return &Planner{kinds: slices.Clone(kinds), n: n, interval: interval, hold: hold,
		rng: rand.New(rand.NewPCG(seed, seed^0x6e656d65736973))}
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func (p *Planner) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + p.rng.Float64()))
}

// Next returns the next step.
func (p *Planner) Next() Step {
	s := Step{Wait: p.jitter(p.interval), Hold: p.jitter(p.hold)}
	first := p.kinds[p.rng.IntN(len(p.kinds))]
	s.Faults = append(s.Faults, p.fault(first))
	if first != Member && len(p.kinds) > 1 && p.rng.IntN(4) == 0 {
		var others []Kind
		for _, k := range p.kinds {
			// Two network faults would overwrite each other; membership
			// runs alone.
			if k != first && k != Member && !(k.network() && first.network()) {
				others = append(others, k)
			}
		}
		if len(others) > 0 {
			s.Faults = append(s.Faults, p.fault(others[p.rng.IntN(len(others))]))
		}
	}
	return s
}

func (p *Planner) pick(shapes ...string) string { return shapes[p.rng.IntN(len(shapes))] }

func (p *Planner) fault(k Kind) Fault {
	f := Fault{Kind: k, Perm: p.rng.Perm(p.n)}
	switch k {
	case Kill:
		// A majority or every member at once now and then: recovery
		// from a full stop must work too.
		switch r := p.rng.IntN(10); {
		case r < 5:
			f.Shape = "one"
		case r < 8:
			f.Shape = "leader"
		case r < 9:
			f.Shape = "majority"
		default:
			f.Shape = "all"
		}
	case Pause:
		f.Shape = p.pick("one", "leader")
	case Partition:
		shapes := []string{"isolate", "leader", "majority", "one-way-in", "one-way-out"}
		if p.n >= 3 {
			shapes = append(shapes, "bridge")
		}
		if p.n >= 5 {
			shapes = append(shapes, "ring")
		}
		f.Shape = p.pick(shapes...)
	case Loss:
		f.Shape = p.pick("one", "all")
		f.Loss = []float64{0.05, 0.1, 0.2, 0.4}[p.rng.IntN(4)]
	case Delay:
		f.Shape = p.pick("one", "all")
		f.Delay = time.Duration(10+p.rng.IntN(190)) * time.Millisecond
	case Member:
		f.Shape = p.pick("one", "leader")
	case Clock:
		// Within the HLC's 500 ms max offset (peers accept the member's
		// messages, its timestamps run ahead or behind) and beyond it
		// (peers refuse them), either way; a majority now and then.
		f.Shape = p.pick("one", "leader", "majority")
		f.Skew = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 800 * time.Millisecond, 3 * time.Second}[p.rng.IntN(4)]
		if p.rng.IntN(2) == 0 {
			f.Skew = -f.Skew
		}
	}
	return f
}

// Targets resolves a fault's shape to member indexes: the leader (if
// known, >= 0) first where the shape names it, then Perm's order.
func (f Fault) Targets(leader int) []int {
	order := slices.Clone(f.Perm)
	if leader >= 0 && (f.Shape == "leader" || strings.HasPrefix(f.Shape, "one-way")) {
		i := slices.Index(order, leader)
		order[0], order[i] = order[i], order[0]
	}
	n := len(order)
	switch f.Shape {
	case "all":
		return order
	case "majority":
		return order[:n/2+1]
	}
	return order[:1]
}

// PartitionLinks returns the links a partition shape cuts, and a
// description naming the sides. leader is the leader's index or -1.
func PartitionLinks(f Fault, leader int, name func(int) string) ([]cluster.Link, string) {
	order := slices.Clone(f.Perm)
	if f.Shape == "leader" || strings.HasPrefix(f.Shape, "one-way") {
		if i := slices.Index(order, leader); leader >= 0 && i >= 0 {
			order[0], order[i] = order[i], order[0]
		}
	}
	n := len(order)
	names := func(idx []int) string {
		var s []string
		for _, i := range idx {
			s = append(s, name(i))
		}
		return "{" + strings.Join(s, " ") + "}"
	}
	between := func(a, b []int) []cluster.Link {
		var out []cluster.Link
		for _, x := range a {
			for _, y := range b {
				out = append(out, cluster.Link{From: x, To: y}, cluster.Link{From: y, To: x})
			}
		}
		return out
	}
	switch f.Shape {
	case "majority":
		minority := order[:(n-1)/2]
		if len(minority) == 0 {
			return nil, "no minority in a 1-member cluster"
		}
		return between(minority, order[len(minority):]), fmt.Sprintf("majority/minority %s | %s", names(order[len(minority):]), names(minority))
	case "bridge":
		// order[0] is the bridge; the rest split in two halves that
		// only it hears both of.
		rest := order[1:]
		a, b := rest[:len(rest)/2], rest[len(rest)/2:]
		return between(a, b), fmt.Sprintf("bridge %s between %s and %s", name(order[0]), names(a), names(b))
	case "one-way-in":
		var out []cluster.Link
		for _, j := range order[1:] {
			out = append(out, cluster.Link{From: j, To: order[0]})
		}
		return out, fmt.Sprintf("one-way: %s hears nobody (it still sends)", name(order[0]))
	case "one-way-out":
		var out []cluster.Link
		for _, j := range order[1:] {
			out = append(out, cluster.Link{From: order[0], To: j})
		}
		return out, fmt.Sprintf("one-way: nobody hears %s (it still receives)", name(order[0]))
	case "ring":
		// Each member keeps its two ring neighbours: every member sees a
		// majority of three, and no two see the same one.
		var out []cluster.Link
		for i := range n {
			for j := range n {
				d := (j - i + n) % n
				if i != j && d != 1 && d != n-1 {
					out = append(out, cluster.Link{From: order[i], To: order[j]})
				}
			}
		}
		return out, fmt.Sprintf("ring of majorities %s", names(order))
	}
	// isolate and leader
	what := "isolate"
	if f.Shape == "leader" {
		what = "isolate leader"
	}
	return between(order[:1], order[1:]), fmt.Sprintf("%s %s from %s", what, name(order[0]), names(order[1:]))
}
