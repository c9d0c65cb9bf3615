package sim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

// reach renders who can send to whom as rows "from:tos", e.g. "1:123 2:12".
func reach(l *sim.Links) string {
	var rows []string
	for from := sim.NodeID(1); int(from) <= l.N(); from++ {
		row := []byte{byte('0' + from), ':'}
		for to := sim.NodeID(1); int(to) <= l.N(); to++ {
			if l.Allowed(from, to) {
				row = append(row, byte('0'+to))
			}
		}
		rows = append(rows, string(row))
	}
	return strings.Join(rows, " ")
}

func TestLinkShapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links *sim.Links
		want  string
	}{
		{"full", sim.FullLinks(3), "1:123 2:123 3:123"},
		{"isolate leader 2 of 5", sim.Isolate(5, 2), "1:1345 2:2 3:1345 4:1345 5:1345"},
		{"one-way 1 to 3", sim.OneWay(3, 1, 3), "1:123 2:123 3:23"},
		{"groups 12|345", sim.Groups(5, []sim.NodeID{1, 2}, []sim.NodeID{3, 4, 5}), "1:12 2:12 3:345 4:345 5:345"},
		{"groups with a bridge", sim.Groups(5, []sim.NodeID{1, 2, 3}, []sim.NodeID{3, 4, 5}), "1:123 2:123 3:12345 4:345 5:345"},
		{"node in no group", sim.Groups(3, []sim.NodeID{1, 2}), "1:12 2:12 3:3"},
		{"one-way to self is a no-op", sim.OneWay(3, 2, 2), "1:123 2:123 3:123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reach(tc.links); got != tc.want {
				t.Fatalf("reach = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLinksStringAndHealed(t *testing.T) {
	l := sim.OneWay(3, 1, 3)
	if got := l.String(); got != "cut[3->1]" {
		t.Fatalf("String() = %q", got)
	}
	if l.Healed() || !sim.FullLinks(3).Healed() || sim.FullLinks(3).String() != "healed" {
		t.Fatal("Healed() is wrong")
	}
	c := l.Clone()
	c.Cut(1, 2)
	if !l.Allowed(1, 2) {
		t.Fatal("Clone shares state with the original")
	}
}

// sameSide reports whether a and b are both in side.
func sameSide(side []sim.NodeID, a, b sim.NodeID) bool {
	return slices.Contains(side, a) && slices.Contains(side, b)
}

func TestMajorityMinorityShape(t *testing.T) {
	for _, n := range []int{3, 5, 7} {
		for seed := uint64(1); seed <= 20; seed++ {
			l, maj, min := sim.MajorityMinority(n, sim.NewRand(seed, "test"))
			if len(maj) != n/2+1 || len(min) != n-len(maj) {
				t.Fatalf("n=%d: sides %v %v are not majority/minority", n, maj, min)
			}
			for a := sim.NodeID(1); int(a) <= n; a++ {
				if slices.Contains(maj, a) == slices.Contains(min, a) {
					t.Fatalf("n=%d: node %d in both or neither side: %v %v", n, a, maj, min)
				}
				for b := sim.NodeID(1); int(b) <= n; b++ {
					want := a == b || sameSide(maj, a, b) || sameSide(min, a, b)
					if l.Allowed(a, b) != want {
						t.Fatalf("n=%d sides %v|%v: Allowed(%d,%d) = %v", n, maj, min, a, b, !want)
					}
				}
			}
		}
	}
}

func TestBridgeShape(t *testing.T) {
	for _, n := range []int{3, 5, 7} {
		for seed := uint64(1); seed <= 20; seed++ {
			bridge := sim.NodeID(1 + seed%uint64(n))
			l, left, right := sim.Bridge(n, bridge, sim.NewRand(seed, "test"))
			if len(left)+len(right) != n-1 || len(left) == 0 || slices.Contains(left, bridge) || slices.Contains(right, bridge) {
				t.Fatalf("n=%d bridge %d: halves %v %v", n, bridge, left, right)
			}
			for a := sim.NodeID(1); int(a) <= n; a++ {
				for b := sim.NodeID(1); int(b) <= n; b++ {
					want := a == b || a == bridge || b == bridge || sameSide(left, a, b) || sameSide(right, a, b)
					if l.Allowed(a, b) != want {
						t.Fatalf("n=%d bridge %d halves %v|%v: Allowed(%d,%d) = %v", n, bridge, left, right, a, b, !want)
					}
				}
			}
		}
	}
}

// TestNetworkEnforcesLinks checks the network end to end: with a one-way
// cut 2->1 and no loss, no message from 2 ever reaches 1, messages from 1
// reach 2, and messages in flight when a cut appears are dropped.
func TestNetworkEnforcesLinks(t *testing.T) {
	started := map[string]*pingNode{}
	cfg := sim.DefaultConfig(5)
	cfg.Net.DropProb, cfg.Net.DupProb = 0, 0
	w, err := sim.New(cfg, pingProtocol(0, false, started))
	if err != nil {
		t.Fatal(err)
	}
	w.SetLinks(sim.OneWay(3, 1, 2))
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	count := func(n *pingNode, from sim.NodeID) int {
		c := 0
		for _, m := range n.received {
			if m.Origin == from {
				c++
			}
		}
		return c
	}
	if c := count(started["1/1"], 2); c != 0 {
		t.Fatalf("node 1 received %d pings from 2 across a one-way cut", c)
	}
	if count(started["2/1"], 1) == 0 || count(started["1/1"], 3) == 0 {
		t.Fatal("open links carried nothing")
	}
	if w.Stats().DroppedCut == 0 {
		t.Fatal("no drop was counted on the cut link")
	}
	// Let messages get in flight, then isolate node 3: the ones in flight
	// to it must be dropped on arrival.
	w.HealLinks()
	if err := w.RunFor(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	before := len(started["3/1"].received)
	w.SetLinks(sim.Isolate(3, 3))
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	for _, m := range started["3/1"].received[before:] {
		if m.Origin != 3 {
			t.Fatalf("isolated node 3 received %+v", m)
		}
	}
}
