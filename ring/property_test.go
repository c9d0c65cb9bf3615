package ring

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// drawRing draws a small random ring: 1..12 nodes, 0..4 named zones (0
// means every zone is empty), weights 1..3, 1..24 vnodes.
func drawRing(t *rapid.T) (*Ring, []Node) {
	count := rapid.IntRange(1, 12).Draw(t, "nodes")
	zones := rapid.IntRange(0, 4).Draw(t, "zones")
	nodes := make([]Node, count)
	for i := range nodes {
		nodes[i] = Node{ID: NodeID(fmt.Sprintf("n%d", i)), Weight: rapid.IntRange(1, 3).Draw(t, "weight")}
		if zones > 0 {
			nodes[i].Zone = fmt.Sprintf("z%d", rapid.IntRange(0, zones-1).Draw(t, "zone"))
		}
	}
	cfg := Config{VNodes: rapid.IntRange(1, 24).Draw(t, "vnodes"), MaxTokens: 1 << 12}
	r, err := New(nodes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, nodes
}

// refRing is the obviously correct model: every token in a plain list,
// searched linearly.
type refRing struct {
	tokens []placed
	nodes  map[uint32]Node
}

func newRefRing(nodes []Node, cfg Config) refRing {
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	ref := refRing{nodes: map[uint32]Node{}}
	buf := make([]byte, 0, vnodeTokenLen)
	for i, n := range sorted {
		ref.nodes[uint32(i)] = n
		for v := 0; v < n.Weight*cfg.VNodes; v++ {
			t := vnodeToken(buf, n.ID, uint32(v))
			j := slices.IndexFunc(ref.tokens, func(p placed) bool { return p.token == t })
			if j < 0 {
				ref.tokens = append(ref.tokens, placed{t, uint32(i)})
			} // else an earlier (smaller) ID keeps it
		}
	}
	return ref
}

// walk returns the owners in clockwise order from t, each node once.
func (ref refRing) walk(t Token) []Node {
	// The first token >= t, by linear scan; wrap to the smallest.
	var start *placed
	for i := range ref.tokens {
		p := &ref.tokens[i]
		if p.token >= t && (start == nil || p.token < start.token) {
			start = p
		}
	}
	ordered := slices.Clone(ref.tokens)
	slices.SortFunc(ordered, func(a, b placed) int {
		ka, kb := a.token-t, b.token-t // distance clockwise from t, modulo 2^64
		if start == nil {
			ka, kb = a.token, b.token
		}
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	var out []Node
	seen := map[uint32]bool{}
	for _, p := range ordered {
		if !seen[p.owner] {
			seen[p.owner] = true
			out = append(out, ref.nodes[p.owner])
		}
	}
	return out
}

// replicas applies the placement rule to the walk: one node a zone first,
// then the rest in order.
func (ref refRing) replicas(t Token, n int) []NodeID {
	order := ref.walk(t)
	zones := map[string]bool{}
	for _, nd := range order {
		zones[nd.Zone] = true
	}
	want := min(n, len(order))
	var out []NodeID
	chosen := map[NodeID]bool{}
	used := map[string]bool{}
	for _, nd := range order {
		if len(out) < min(want, len(zones)) && !used[nd.Zone] {
			used[nd.Zone] = true
			chosen[nd.ID] = true
			out = append(out, nd.ID)
		}
	}
	for _, nd := range order {
		if len(out) < want && !chosen[nd.ID] {
			chosen[nd.ID] = true
			out = append(out, nd.ID)
		}
	}
	return out
}

// TestPropReplicasMatchReference checks Lookup and Replicas against the
// linear-scan model, and the properties the issue names: min(n, nodes)
// distinct nodes, the first is Lookup, and with z zones the first min(n, z)
// are in distinct zones.
func TestPropReplicasMatchReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, nodes := drawRing(t)
		ref := newRefRing(nodes, r.Config())
		zoneOf := map[NodeID]string{}
		zones := map[string]bool{}
		for _, n := range nodes {
			zoneOf[n.ID] = n.Zone
			zones[n.Zone] = true
		}
		for range 20 {
			key := rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "key")
			n := rapid.IntRange(0, 14).Draw(t, "n")
			got := r.Replicas(key, n)
			if want := ref.replicas(HashKey(key), n); !slices.Equal(got, want) {
				t.Fatalf("Replicas(%q, %d) = %v, reference %v", key, n, got, want)
			}
			if len(got) != min(n, len(nodes)) {
				t.Fatalf("Replicas(%q, %d) has %d nodes, want %d", key, n, len(got), min(n, len(nodes)))
			}
			if n > 0 && got[0] != r.Lookup(key) {
				t.Fatalf("Replicas(%q)[0] = %s, Lookup = %s", key, got[0], r.Lookup(key))
			}
			distinct := map[NodeID]bool{}
			usedZones := map[string]bool{}
			for i, id := range got {
				if distinct[id] {
					t.Fatalf("Replicas(%q, %d) = %v repeats %s", key, n, got, id)
				}
				distinct[id] = true
				if i < min(n, len(zones)) {
					if usedZones[zoneOf[id]] {
						t.Fatalf("Replicas(%q, %d) = %v: replica %d reuses zone %q with %d zones", key, n, got, i, zoneOf[id], len(zones))
					}
					usedZones[zoneOf[id]] = true
				}
			}
			prefix := []NodeID{"keep"}
			if app := r.AppendReplicas(prefix, key, n); !slices.Equal(app, append(prefix, got...)) {
				t.Fatalf("AppendReplicas = %v, want %v after the prefix", app, got)
			}
		}
	})
}

// TestPropDeterminism checks that the ring does not depend on the order of
// its input nodes.
func TestPropDeterminism(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, nodes := drawRing(t)
		perm := rapid.Permutation(nodes).Draw(t, "perm")
		other, err := New(perm, r.Config())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.tokens, other.tokens) || !slices.Equal(r.owners, other.owners) || !slices.Equal(r.Ranges(), other.Ranges()) {
			t.Fatalf("order %v builds a different ring", perm)
		}
	})
}

// TestPropMinimalMovement checks that adding a node moves keys only to it,
// and removing a node moves only its keys; without zones, a key's new
// replica set is its old one with at most the added node swapped in.
func TestPropMinimalMovement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, nodes := drawRing(t)
		added := Node{ID: "new", Zone: nodes[0].Zone, Weight: rapid.IntRange(1, 3).Draw(t, "weight")}
		grown, err := r.WithNode(added)
		if err != nil {
			t.Fatal(err)
		}
		victim := rapid.SampledFrom(nodes).Draw(t, "removed").ID
		var shrunk *Ring
		if len(nodes) > 1 {
			if shrunk, err = r.WithoutNode(victim); err != nil {
				t.Fatal(err)
			}
		}
		noZones := nodes[0].Zone == ""
		n := rapid.IntRange(1, 5).Draw(t, "n")
		for range 50 {
			key := rapid.SliceOfN(rapid.Byte(), 0, 16).Draw(t, "key")
			before, after := r.Lookup(key), grown.Lookup(key)
			if before != after && after != added.ID {
				t.Fatalf("adding %s moved %q from %s to %s", added.ID, key, before, after)
			}
			if noZones {
				old := r.Replicas(key, n)
				for _, id := range grown.Replicas(key, n) {
					if id != added.ID && !slices.Contains(old, id) {
						t.Fatalf("adding %s put %q on %s, which was not a replica before (%v)", added.ID, key, id, old)
					}
				}
			}
			if shrunk != nil {
				if after := shrunk.Lookup(key); before != victim && after != before {
					t.Fatalf("removing %s moved %q from %s to %s", victim, key, before, after)
				}
			}
		}
	})
}

// TestPropRanges checks that Ranges tile the ring, that every token in a
// range has the range's primary and replicas, and that RangesFor holds
// exactly the tokens whose replicas include the node.
func TestPropRanges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, nodes := drawRing(t)
		rs := r.Ranges()
		for i, rg := range rs {
			prev := rs[(i+len(rs)-1)%len(rs)]
			if rg.Start != prev.End {
				t.Fatalf("range %d %v does not start where %v ends", i, rg, prev)
			}
			if i > 0 && rg.End <= prev.End {
				t.Fatalf("ranges not in token order: %v after %v", rg, prev)
			}
			if len(rs) > 1 && rg.Primary == prev.Primary {
				t.Fatalf("adjacent ranges %v and %v share a primary and were not merged", prev, rg)
			}
		}
		n := rapid.IntRange(1, 4).Draw(t, "n")
		node := rapid.SampledFrom(nodes).Draw(t, "node").ID
		held := r.RangesFor(node, n)
		for range 50 {
			tok := Token(rapid.Uint64().Draw(t, "token"))
			var in []TokenRange
			for _, rg := range rs {
				if rg.Contains(tok) {
					in = append(in, rg)
				}
			}
			if len(in) != 1 {
				t.Fatalf("token %v lies in %d ranges: %v", tok, len(in), in)
			}
			if in[0].Primary != r.LookupToken(tok) {
				t.Fatalf("token %v: range primary %s, LookupToken %s", tok, in[0].Primary, r.LookupToken(tok))
			}
			reps := r.AppendReplicasToken(nil, tok, n)
			if end := r.AppendReplicasToken(nil, in[0].End, n); !slices.Equal(reps, end) {
				t.Fatalf("token %v has replicas %v, its range's end %v", tok, reps, end)
			}
			inHeld := slices.ContainsFunc(held, func(rg TokenRange) bool { return rg.Contains(tok) })
			if inHeld != slices.Contains(reps, node) {
				t.Fatalf("token %v: in RangesFor(%s, %d) = %v, replicas %v", tok, node, n, inHeld, reps)
			}
		}
		if r.RangesFor("absent", n) != nil {
			t.Fatalf("an unknown node holds ranges")
		}
	})
}
