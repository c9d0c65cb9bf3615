package ring

import (
	"math"
	"testing"
)

// balanceKeys is the number of keys the balance and movement tests place,
// as the issue asks. The whole test takes about 1.5 s under -race.
const balanceKeys = 1_000_000

// TestBalanceAndMovement checks the figures on a 10-node cluster
// named node-1 .. node-10 with 256 vnodes: the most loaded node carries at
// most 10% more keys than the mean; adding node-11 moves at most 1.05*K/11
// keys, all to node-11; removing a node moves exactly its own keys.
//
// The names were not searched for: they are the first ones tried. With
// random names the 10% bound fails for about 40% of clusters and the 1.05
// bound for about 20% (TestBalanceMatchesTheory and doc.go say why).
func TestBalanceAndMovement(t *testing.T) {
	const k = balanceKeys
	cfg := DefaultConfig()
	base := mustNew(t, namedNodes(10), cfg)
	before := owners(base, k)

	counts, ratio := loadStats(base, before)
	t.Logf("10 nodes x 256 vnodes, %d keys: max/mean = %.4f", k, ratio)
	if ratio > 1.10 {
		t.Errorf("max/mean = %.4f, want <= 1.10 (counts %v)", ratio, counts)
	}
	// The keys follow the arcs: each node's key count matches its share of
	// the token space within 5 binomial standard deviations.
	for id, share := range base.Ownership() {
		got := float64(counts[id]) / float64(k)
		if sd := math.Sqrt(share * (1 - share) / float64(k)); math.Abs(got-share) > 5*sd {
			t.Errorf("%s holds %.5f of the keys, owns %.5f of the ring", id, got, share)
		}
	}

	t.Run("add", func(t *testing.T) {
		grown, err := base.WithNode(Node{ID: "node-11", Weight: 1})
		if err != nil {
			t.Fatal(err)
		}
		after := owners(grown, k)
		moved := 0
		for i := range after {
			if after[i] != before[i] {
				moved++
				if after[i] != "node-11" {
					t.Fatalf("key %d moved from %s to %s, not to the new node", i, before[i], after[i])
				}
			}
		}
		fair := float64(k) / 11
		t.Logf("adding node-11 moved %d keys = %.4f x K/11", moved, float64(moved)/fair)
		if float64(moved) > 1.05*fair {
			t.Errorf("moved %d keys, want <= 1.05 x %.0f", moved, fair)
		}
	})

	t.Run("remove", func(t *testing.T) {
		shrunk, err := base.WithoutNode("node-3")
		if err != nil {
			t.Fatal(err)
		}
		after := owners(shrunk, k)
		moved := 0
		for i := range after {
			if after[i] != before[i] {
				moved++
			}
			if (after[i] != before[i]) != (before[i] == "node-3") {
				t.Fatalf("key %d: owner %s before, %s after removing node-3", i, before[i], after[i])
			}
		}
		t.Logf("removing node-3 moved %d keys = %.4f x K/10 (its own)", moved, float64(moved)/(float64(k)/10))
	})
}

// TestWeights checks that a node of weight 2 gets about twice the keys of
// a node of weight 1.
func TestWeights(t *testing.T) {
	nodes := namedNodes(10)
	nodes[0].Weight = 2
	r := mustNew(t, nodes, DefaultConfig())
	const k = 200_000
	counts, _ := loadStats(r, owners(r, k))
	others := 0
	for _, n := range nodes[1:] {
		others += counts[n.ID]
	}
	ratio := float64(counts["node-1"]) / (float64(others) / 9)
	t.Logf("weight 2 / weight 1 keys = %.3f (ownership %.4f)", ratio, r.Ownership()["node-1"])
	if ratio < 1.8 || ratio > 2.2 {
		t.Errorf("a weight-2 node holds %.3f times the keys of a weight-1 node, want 2 +- 10%%", ratio)
	}
	if got := r.Tokens(); got != 11*DefaultVNodes {
		t.Errorf("Tokens() = %d, want %d", got, 11*DefaultVNodes)
	}
}
