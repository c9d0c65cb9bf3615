package ring

import (
	"slices"
	"sync"
)

// Lookup returns the node that owns key: the owner of the first token at
// or after HashKey(key), wrapping past the largest token to the smallest.
func (r *Ring) Lookup(key []byte) NodeID { return r.LookupToken(HashKey(key)) }

// LookupToken returns the node that owns token t.
func (r *Ring) LookupToken(t Token) NodeID { return r.nodes[r.owners[r.search(t)]].ID }

// search returns the index of the first token >= t, wrapping to 0. The
// tokens before index[p] are below t (their top bits are smaller) and those
// from index[p+1] on are above it, so a binary search between the two
// finds it.
func (r *Ring) search(t Token) int {
	p := uint64(t) >> r.shift
	lo, hi := int(r.index[p]), int(r.index[p+1])
	i, _ := slices.BinarySearch(r.tokens[lo:hi], t)
	if i += lo; i == len(r.tokens) {
		return 0
	}
	return i
}

// Replicas returns the n nodes that hold key, primary first. See
// AppendReplicas.
func (r *Ring) Replicas(key []byte, n int) []NodeID {
	return r.AppendReplicas(make([]NodeID, 0, min(max(n, 0), r.owning)), key, n)
}

// AppendReplicas appends to dst the n distinct nodes that hold key and
// returns the extended slice. It does not allocate when dst has room and
// the ring has at most 1024 members.
//
// The placement walks the ring clockwise from the key's token, like
// Cassandra's NetworkTopologyStrategy within one data centre:
//
//  1. the first node of each zone not yet chosen, until min(n, zones)
//     zones have a replica (so the first replica is always Lookup(key));
//  2. then the first nodes not yet chosen, whatever their zone, until n
//     nodes are chosen.
//
// So the first min(n, zones) replicas are in distinct zones, and when
// there are fewer zones than n, the zones are reused in ring order. If n is
// at least the number of members, every member is returned. n <= 0
// returns dst unchanged.
func (r *Ring) AppendReplicas(dst []NodeID, key []byte, n int) []NodeID {
	return r.appendReplicasFrom(dst, r.search(HashKey(key)), n)
}

// AppendReplicasToken is AppendReplicas for a token instead of a key; the
// replicas of a TokenRange are AppendReplicasToken(dst, rng.End, n).
func (r *Ring) AppendReplicasToken(dst []NodeID, t Token, n int) []NodeID {
	return r.appendReplicasFrom(dst, r.search(t), n)
}

// stackWords is the size of the bitsets kept on the stack: 1024 nodes.
const stackWords = 16

// bigScratch holds the bitsets of rings with more than 1024 members.
var bigScratch = sync.Pool{New: func() any { return new([]uint64) }}

// appendReplicasFrom runs the placement from token index start.
func (r *Ring) appendReplicasFrom(dst []NodeID, start, n int) []NodeID {
	want := min(n, r.owning)
	if want <= 0 {
		return dst
	}
	// seen marks chosen nodes, zoneSeen chosen zones; both index the same
	// scratch space, nodes first.
	words := (len(r.nodes) + 63) / 64
	var stack [2 * stackWords]uint64
	var scratch []uint64
	if words <= stackWords {
		scratch = stack[:2*words]
	} else {
		p := bigScratch.Get().(*[]uint64)
		defer bigScratch.Put(p)
		if cap(*p) < 2*words {
			*p = make([]uint64, 2*words)
		}
		scratch = (*p)[:2*words]
		clear(scratch)
	}
	seen, zoneSeen := bitset(scratch[:words]), bitset(scratch[words:])

	got := 0
	// Pass 1: one node from each zone, in ring order.
	zoneWant := min(want, r.zones)
	for i, steps := start, 0; got < zoneWant && steps < len(r.tokens); steps++ {
		o := r.owners[i]
		if z := r.zoneOf[o]; !zoneSeen.has(z) {
			zoneSeen.set(z)
			seen.set(o)
			dst = append(dst, r.nodes[o].ID)
			got++
		}
		if i++; i == len(r.tokens) {
			i = 0
		}
	}
	// Pass 2: any node not chosen yet, in ring order.
	for i, steps := start, 0; got < want && steps < len(r.tokens); steps++ {
		if o := r.owners[i]; !seen.has(o) {
			seen.set(o)
			dst = append(dst, r.nodes[o].ID)
			got++
		}
		if i++; i == len(r.tokens) {
			i = 0
		}
	}
	return dst
}

// bitset is a set of small integers.
type bitset []uint64

func (b bitset) has(i uint32) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i uint32)      { b[i/64] |= 1 << (i % 64) }
