package ring

import "slices"

// Ranges returns the arcs of the ring in token order (by End), each with
// its primary owner. Consecutive virtual nodes of the same node are merged
// into one arc. Every key in an arc has the same replicas, whatever n
// (replica placement from two consecutive tokens of one node makes the
// same choices), which is what per-range anti-entropy needs: one Merkle
// tree per arc, compared among the arc's replicas.
func (r *Ring) Ranges() []TokenRange {
	last := len(r.tokens) - 1
	// Find a token whose predecessor has another owner: a run starts there.
	first := -1
	for i := range r.tokens {
		prev := i - 1
		if i == 0 {
			prev = last
		}
		if r.owners[prev] != r.owners[i] {
			first = i
			break
		}
	}
	if first < 0 { // one owner holds the whole ring
		return []TokenRange{{Start: r.tokens[last], End: r.tokens[last], Primary: r.nodes[r.owners[0]].ID}}
	}
	var out []TokenRange
	runStart := first // index of the first token of the current run
	for step := 1; step <= len(r.tokens); step++ {
		i := (first + step) % len(r.tokens)
		if step < len(r.tokens) && r.owners[i] == r.owners[runStart] {
			continue
		}
		end := (i + last) % len(r.tokens) // the token before i
		before := (runStart + last) % len(r.tokens)
		out = append(out, TokenRange{Start: r.tokens[before], End: r.tokens[end], Primary: r.nodes[r.owners[end]].ID})
		runStart = i
	}
	slices.SortFunc(out, func(a, b TokenRange) int {
		switch {
		case a.End < b.End:
			return -1
		case a.End > b.End:
			return 1
		}
		return 0
	})
	return out
}

// RangesFor returns the arcs of Ranges for which id is one of the n
// replicas (see AppendReplicas), in token order: the data a node must hold
// when every key has n copies. An unknown id holds nothing.
func (r *Ring) RangesFor(id NodeID, n int) []TokenRange {
	if r.nodeIndex(id) < 0 {
		return nil
	}
	var out []TokenRange
	buf := make([]NodeID, 0, min(max(n, 0), r.owning))
	for _, rng := range r.Ranges() {
		buf = r.AppendReplicasToken(buf[:0], rng.End, n)
		if slices.Contains(buf, id) {
			out = append(out, rng)
		}
	}
	return out
}

// Ownership returns the fraction of the token space each member owns as
// primary (the "Owns" column of Cassandra's nodetool status). The
// fractions sum to 1; a uniform key set divides itself in these
// proportions.
func (r *Ring) Ownership() map[NodeID]float64 {
	out := make(map[NodeID]float64, len(r.nodes))
	for _, n := range r.nodes {
		out[n.ID] = 0
	}
	if r.owning == 1 { // the sum below would wrap to 0
		out[r.nodes[r.owners[0]].ID] = 1
		return out
	}
	// Sum each node's arcs exactly in integers: a node that does not own
	// the whole ring owns less than 2^64 tokens.
	arcs := make([]uint64, len(r.nodes))
	prev := r.tokens[len(r.tokens)-1]
	for i, t := range r.tokens {
		arcs[r.owners[i]] += uint64(t - prev) // wraps modulo 2^64 for the first token, as the arc does
		prev = t
	}
	for i, a := range arcs {
		out[r.nodes[i].ID] = float64(a) / (1 << 64)
	}
	return out
}
