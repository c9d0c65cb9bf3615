package ring

import (
	"fmt"
	"strconv"
	"testing"
)

// namedNodes returns nodes "node-1" .. "node-n" of weight 1 and no zone.
func namedNodes(n int) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{ID: NodeID(fmt.Sprintf("node-%d", i+1)), Weight: 1}
	}
	return nodes
}

func mustNew(t testing.TB, nodes []Node, cfg Config) *Ring {
	t.Helper()
	r, err := New(nodes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testKey writes the i-th test key, "key-<i>", into buf.
func testKey(buf []byte, i int) []byte {
	return strconv.AppendInt(append(buf[:0], "key-"...), int64(i), 10)
}

// owners returns Lookup of the first k test keys.
func owners(r *Ring, k int) []NodeID {
	out := make([]NodeID, k)
	buf := make([]byte, 0, 32)
	for i := range out {
		out[i] = r.Lookup(testKey(buf, i))
	}
	return out
}

// loadStats returns the number of keys per node and max/mean over the
// members of r.
func loadStats(r *Ring, assigned []NodeID) (map[NodeID]int, float64) {
	counts := make(map[NodeID]int, r.Len())
	for _, id := range assigned {
		counts[id]++
	}
	highest := 0
	for _, n := range r.Nodes() {
		highest = max(highest, counts[n.ID])
	}
	mean := float64(len(assigned)) / float64(r.Len())
	return counts, float64(highest) / mean
}
