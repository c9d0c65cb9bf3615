// Package merkle holds the Merkle trees of the eventual tier's
// anti-entropy: incremental trees over the ring arcs a replica holds, a
// local Diff, and a pure, message-driven exchange that finds where two
// replicas of an arc differ, so that the caller streams and merges only
// those ranges.
//
// Sources: R. Merkle, "A Digital Signature Based on a Conventional
// Encryption Function", CRYPTO 1987 (hash trees); DeCandia et al.,
// "Dynamo", SOSP 2007, section 4.7 (one tree per key range, compared
// between replicas); Cassandra's repair (trees of fixed depth over token
// ranges, at most 2^15 leaves a range) and Riak's active anti-entropy
// (trees kept up to date on every write instead of built for each repair);
// M. Bellare and D. Micciancio, "A New Paradigm for Collision-free Hashing:
// Incrementality at Reduced Cost", EUROCRYPT 1997 (XHASH, AdHASH);
// D. Clarke et al., "Incremental Multiset Hash Functions and Their
// Application to Memory Integrity Checking", ASIACRYPT 2003; D. Wagner,
// "A Generalized Birthday Problem", CRYPTO 2002. Nothing is copied.
//
// # Shape of a tree
//
// A Tree covers one Range of the ring's 64-bit hash space, (Start, End]
// with wrapping, the convention of ring.TokenRange: the caller keeps one
// tree per arc of ring.RangesFor, and passes each key's ring.HashKey. A
// tree per arc rather than one tree of the whole space per arc: an arc is
// about 1/(vnodes × nodes) of the space, so a whole-space tree would put
// all of an arc's keys in one or two of its leaves.
//
// The range is cut into 2^Depth leaves of equal width (to one hash; exact
// 128-bit arithmetic, range.go), so that both replicas put every hash in
// the same leaf. An arc narrower than 2^Depth hashes gets 2^floor(log2
// width) leaves instead, so that no leaf is empty; both sides compute the
// same. Nodes are numbered as a heap: root 1, children 2n and 2n+1, leaf i
// is node 2^Depth+i.
//
// A leaf holds the count of its entries and the sum, modulo 2^128, of their
// 128-bit digests (EntryDigest(key, version): SHA-256 of the key, length-
// prefixed, and the version, truncated). A sum is order-independent and
// invertible, so a write changes one leaf in O(1) without rescanning it:
// Add adds the new entry's digest, Remove subtracts it, Update does both.
// The leaf's node hash is SHA-256 over (count, sum); an inner node's is
// SHA-256 over its two children's hashes, truncated to 128 bits, with a
// domain byte ahead of every hashed input (entry, leaf, inner).
//
// Inner nodes are recomputed lazily. A write marks its leaf and the path up
// to the first node already marked dirty (a dirty node's parent is always
// dirty), so a burst of writes to one region costs a few bit tests each.
// Root, Diff and the exchange rehash only the dirty nodes, bottom-up: after
// k writes to distinct leaves at most k(Depth+1) hashes, far fewer when the
// writes share ancestors.
//
// Why a sum and not XOR: XOR cancels pairs, so an entry applied twice (a
// retried Add) vanishes from the leaf and the leaf looks as if the entry
// were absent; the sum counts it twice and the leaf differs from both (the
// count is hashed too). XOR is also linear over GF(2): given about 128
// digests, Gaussian elimination finds a subset with any chosen XOR in
// polynomial time (Bellare-Micciancio break XHASH this way); the modular
// sum (AdHASH) has no such shortcut. Why 128 bits and not 64: against
// accident, two different leaves collide with probability 2^-128 per
// comparison instead of 2^-64, for 8 more bytes a leaf. Neither width
// resists an adversary who chooses many entries of one leaf: Wagner's
// k-tree algorithm finds a k-term additive collision in about
// k·2^(n/(1+log2 k)) work, some 2^22 hashes for n = 128 and k = 1024
// (Bellare-Micciancio and Wagner put a secure AdHASH modulus near 1600
// bits). See the hazard on collisions below.
//
// Why SHA-256 and not xxhash: the digests must be uniform 128-bit values,
// and XXH64 (ring's hash; cespare/xxhash is an indirect dependency only)
// gives 64 bits and is easy to invert, so chosen keys could make crafted
// digests; SHA-256 is in the standard library and runs on the SHA
// extensions of current x86 and ARM CPUs. Digests are computed once per
// write by the caller (BenchmarkEntryDigest); the tree itself hashes only
// nodes, one SHA-256 block each.
//
// Memory: 24 bytes a leaf (count, sum) and 2^(Depth+1) node hashes of 16
// bytes plus a dirty bit each: about 56 bytes a leaf, 56 KiB a tree at the
// default depth 10, 1.8 MiB at depth 15, 56 MiB at MaxDepth 20
// (Tree.MemoryBytes). Trees live in memory only: the caller rebuilds them
// at startup from a scan of the store (Builder, 2^(Depth+1) hashes plus a
// 128-bit addition an entry).
//
// # Comparing two trees
//
// Diff compares two trees in-process. Both it and the exchange walk from
// the root into nodes whose hashes differ and report a node's whole range
// when it is a leaf, or when one side holds nothing under it (its hash is
// the hash of an empty subtree, a constant per height): then every entry
// in it is missing on one side and splitting it further would only cost
// messages. A replica that lost everything is thus found in one round
// trip. The ranges come in ring order; Coalesce merges adjacent ones.
//
// The exchange (Session on the initiator, Respond on the responder) does
// the same walk over the network, one tree level per round trip:
//
//	initiator                                   responder
//	Request{range, depth, [(1, root hash)]} ──▶ compare each node:
//	                                        ◀── same | differs | children(left, right)
//	compare the children with its own;
//	Request{[(n, hash) for each differing
//	        child to descend into]}         ──▶ ...
//	until only leaves and empty subtrees remain: Ranges()
//
// The responder keeps no state: a request carries everything needed to
// answer it, so a lost or repeated request costs only itself, and one
// responder serves any number of sessions. Trees of another range or depth
// are never compared: the responder answers StatusMismatch and the
// session ends with a *MismatchError (errors.Is ErrRangeMismatch or
// ErrDepthMismatch); a responder without a tree for the range answers
// RespondNoTree (ErrNoTree).
//
// Equal trees cost one request of 55 bytes and a reply of 20. Each
// differing leaf costs about Depth requested nodes (20 bytes up, 33 down
// each), fewer where differences share ancestors; the walk takes Depth
// round trips when each level fits in MaxInFlight requests.
//
// # Bounds
//
// Config.Depth is at most MaxDepth (20). ExchangeConfig bounds a request to
// MaxNodesPerRequest nodes (RequestBytes, ReplyBytes give the sizes; a
// level with more differing nodes takes more requests), the requests in
// flight to MaxInFlight, and the ranges reported to MaxRanges: when
// descending into both children of a node would exceed it, the session
// reports the node whole (Stats.Truncated), so the result still covers
// every difference, in coarser ranges. A request unanswered for RetryTicks
// ticks is resent, up to MaxRetries times, then the session ends with
// ErrTimeout. The decoders refuse more than MaxMessageNodes nodes, a depth
// over MaxDepth, invalid node numbers, unknown kinds and trailing bytes
// before allocating; what they accept re-encodes to the same bytes
// (FuzzDecodeRequest, FuzzDecodeReply).
//
// # Purity and observability
//
// Tree, Builder, Diff, Session and Respond never read a clock, sleep,
// start goroutines, draw random numbers or touch the network or disk: time
// is Session.Tick, ids come from the caller. They keep counters (Stats);
// the anti-entropy driver logs and feeds Metrics (cairn_merkle_*) with each
// finished Session. Nothing here is safe for concurrent use: the caller
// holds one lock per tree across its writes and the exchange's calls.
//
// # Hazards
//
// HAZARD: both replicas must hash a key to the same position (ring.HashKey)
// and digest the same (key, version) to the same Digest. The version must
// be a canonical encoding of the stored value (causal context, tombstone,
// payload): two replicas whose values are equal but encoded differently
// (a map written in iteration order, a varint written two ways) differ in
// their trees forever, and every exchange streams that range for nothing.
//
// HAZARD: the tree must follow the store exactly: Add after a new key is
// durably written, Update with the exact digest the key had before, Remove
// when the key leaves the store. A tree update without the store write (or
// the reverse) makes the tree lie: if it claims an entry the store lacks
// and the peer has that entry, the trees agree and the difference is never
// repaired. Update the tree only after the store write succeeded, under
// the same lock, and rebuild trees periodically (Riak rebuilds its trees
// weekly) and whenever a leaf keeps differing although streaming it finds
// nothing to merge. A rebuild from a scan must see the writes that race
// with it: scan a store snapshot and replay the writes after it, or hold
// the tree's lock.
//
// HAZARD: tombstones are entries. A delete is an Update to the tombstone's
// digest; the tombstone is Removed only when it is collected (after every
// replica has seen it). A tree that drops a key at delete time lets the
// peer's older value look like the only copy, and anti-entropy resurrects
// it.
//
// HAZARD: Remove cannot check the digest it is given, only that the leaf is
// not empty (ErrNotPresent) and, when the leaf becomes empty, that its
// digests cancelled out (ErrInconsistent). A wrong digest in a leaf that
// stays non-empty goes unnoticed until the leaf keeps differing.
//
// HAZARD: collisions. Two different leaf contents hash alike by accident
// with probability about 2^-128, and node hashes are truncated to 128 bits,
// so accidental false negatives do not happen in practice. This is not a
// security boundary: a client that can put a thousand or so chosen entries
// into one leaf on one replica, and a chosen other set on another, can
// make the two leaf sums equal with modest work (Wagner, above); the
// exchange would then miss that difference, which reads and read repair
// still see. Making it adversary-proof needs a multiset hash with a far
// larger modulus or an elliptic-curve multiset hash, at many times the
// memory and cost.
//
// HAZARD: Session reads its tree live. Writes between its steps can make it
// report a range whose difference has vanished (the caller streams it for
// nothing) or miss one made after its subtree was compared (found at the
// next exchange). Pass a Clone for a fixed snapshot.
//
// HAZARD: the shape is cluster-wide. Config.Depth must be equal on all
// replicas, and a tree's range must be the arc as both replicas see it:
// after a ring change the arcs move and the trees of changed arcs must be
// rebuilt (until then the exchange answers with a *MismatchError, never a
// wrong diff). Keep ExchangeConfig equal everywhere too: a responder
// refuses requests larger than its MaxNodesPerRequest (ErrRefused).
//
// HAZARD: a driver that never calls Session.Tick never resends: a lost
// frame (the transport may drop frames) stalls the session for good.
//
// HAZARD: the wire format is versioned (one byte); a change must bump it,
// and mixed versions refuse each other's messages (ErrMalformed) instead of
// misreading them.
package merkle
