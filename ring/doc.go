// Package ring places keys on nodes by consistent hashing with virtual
// nodes, for cairn's eventual tier.
//
// Consistent hashing (Karger, Lehman, Leighton, Panigrahy, Levine and
// Lewin, "Consistent Hashing and Random Trees", STOC 1997) hashes both the
// keys and the nodes onto a circle of 2^64 positions (tokens); a key
// belongs to the first node at or after its token, clockwise. When a node
// joins, it takes keys only from its clockwise neighbours; when it leaves,
// only its own keys move. Each node places many virtual nodes (tokens), so
// that its share of the circle is the sum of many small arcs and close to
// its fair share, and so that a leaving node's keys spread over many
// nodes instead of one (DeCandia et al., "Dynamo: Amazon's Highly
// Available Key-value Store", SOSP 2007, section 4.2). A node's weight
// scales its number of tokens.
//
// The n replicas of a key are the first n distinct nodes clockwise from its
// token, taking one node from each zone first (Dynamo's preference list,
// made rack-aware as in Cassandra's NetworkTopologyStrategy); Ranges and
// RangesFor give the arcs a node holds, for anti-entropy per arc.
//
// A Ring is immutable and a pure function of its member set: tokens are
// hashes of (node ID, vnode index), sorted, with collisions won by the
// smaller ID. Lookups take no lock; a membership change builds a new ring
// (WithNode, WithoutNode) for the caller to publish through an atomic
// pointer. Lookup is a binary search over the sorted tokens.
//
// HAZARD: the hash (XXH64, seed 0, see hash.go), the layout of a virtual
// node's hash input (vnodeToken), the collision rule and the placement
// rule of AppendReplicas decide where every key lives. Changing any of
// them, in any version, moves most keys of every existing cluster, and two
// nodes that disagree lose writes. TestHashReferenceVectors and
// TestPlacementIsPinned fail if they change.
//
// HAZARD: all members must use the same Config. VNodes enters the token
// set: two nodes with different VNodes build different rings.
//
// HAZARD: VNodes trades balance for memory and build time. A node's share
// of the keys is the sum of its arcs, which deviates from its fair share
// by about sqrt((N-1)/(N*VNodes)) (one standard deviation; 5.9% for N = 10
// and 256 vnodes), so in a 10-node cluster the most loaded node carries
// about 9% more than the mean, and more than 10% in about 40% of clusters
// (random node names; TestBalanceMatchesTheory measures it). Four times the
// vnodes halve the deviation and cost four times the memory (12 bytes a
// token) and build time. The balance of a given cluster is fixed by its
// node names: Ownership shows it.
//
// HAZARD: with fewer zones than replicas (say 2 zones and n = 3), one zone
// holds two replicas of every key; losing that zone loses a majority of the
// copies. AppendReplicas cannot prevent this, only spread what it can: run
// at least n zones where zone failures matter.
//
// HAZARD: a zone with fewer nodes than the others still receives one
// replica of every key whose walk reaches it first, so its nodes carry more
// than their weight's share of replicas. Keep zones of similar capacity.
//
// HAZARD: a ring built from a membership that is still converging differs
// between nodes. Callers must tolerate that two nodes briefly disagree on
// the owners of a key (Dynamo's sloppy quorum and hinted handoff exist for
// this).
package ring
