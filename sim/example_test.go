package sim_test

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/sim"
)

// counter is a tiny protocol: each tick, node 1 sends the next number to
// node 2, which keeps the highest number it saw.
type counter struct {
	h    *sim.Host[int]
	next int
	max  int
}

func (c *counter) Tick() {
	if c.h.ID() == 1 {
		c.next++
		c.h.Send(2, c.next)
	}
}

func (c *counter) Deliver(_ sim.NodeID, n int) { c.max = max(c.max, n) }

// Example shows how a protocol plugs in: a Start function that builds a
// node from its Host (and disk), a Describe function for the trace, an
// invariant checked after every step, and a partition.
func Example() {
	cfg := sim.DefaultConfig(1)
	cfg.Nodes = 2
	cfg.Net.DropProb, cfg.Net.DupProb = 0, 0
	w, err := sim.New(cfg, sim.Protocol[int]{
		Start:    func(h *sim.Host[int]) sim.Node[int] { return &counter{h: h} },
		Describe: func(n int) string { return fmt.Sprint(n) },
	})
	if err != nil {
		panic(err)
	}
	w.AddInvariant("node 2 never runs ahead of node 1", func() error {
		n1, _ := w.Node(1)
		n2, _ := w.Node(2)
		if n2.(*counter).max > n1.(*counter).next {
			return fmt.Errorf("node 2 saw %d", n2.(*counter).max)
		}
		return nil
	})
	if err := w.RunFor(time.Second); err != nil {
		panic(err)
	}
	w.SetLinks(sim.Isolate(2, 1))
	if err := w.RunFor(time.Second); err != nil {
		panic(err)
	}
	s := w.Stats()
	fmt.Printf("sent %d, delivered %d, cut %d\n", s.Sent, s.Delivered, s.DroppedCut)
	// Output: sent 200, delivered 100, cut 100
}
