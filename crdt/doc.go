// Package crdt implements the conflict-free replicated data types of
// cairn's eventual tier, in delta-state form: G-Counter, PN-Counter,
// LWW-Register, MV-Register, an add-wins OR-Set, a resettable causal
// counter, and an OR-Map whose fields hold embedded causal CRDTs (the
// representation of Redis hashes).
//
// # State, merge and deltas
//
// Every type is a state-based CRDT (Shapiro, Preguiça, Baquero, Zawirski,
// "Conflict-free Replicated Data Types", SSS 2011, and the companion report
// "A comprehensive study of Convergent and Commutative Replicated Data
// Types", INRIA RR-7506): its states form a join-semilattice, and Merge is
// the join, so it is commutative, associative and idempotent. Replicas that
// have merged the same updates, in any order and any number of times, are
// equal. *T implements CRDT[T] for every type T here.
//
// States hold maps and slices: like a Go map, a state must not be used by
// several goroutines at once without a lock, and an assignment shares
// storage, so copy a state with Clone. What methods return (values,
// elements, deltas, contexts) never shares storage with the state, and Merge
// never keeps its argument's.
//
// Mutators follow "Delta State Replicated Data Types" (Almeida, Shoker,
// Baquero, JPDC 2018; arXiv:1603.01529): an update on a replica returns a
// delta, a small state of the same type, and applies it locally, so that
// the new state is the old one merged with the delta. Replication ships
// deltas, not whole states; several deltas can be merged into one delta
// group before shipping; and since a delta is a state, a delta that is lost,
// duplicated or reordered is repaired by shipping it (or the whole state)
// again. Nothing here requires causal delivery.
//
// # Causal CRDTs: dots and a causal context
//
// MVRegister, ORSet, CausalCounter and ORMap are causal CRDTs (as the delta
// paper defines them): a dot store plus a CausalContext. A dot (clock.Dot) names
// one update: the n-th update made by a replica. The store maps what is
// present to the dots of the updates that put it there; the context is the
// set of every dot the replica has seen, kept as a version vector plus a
// "dot cloud" of dots seen beyond a gap (deltas that arrived out of order),
// folded into the vector as soon as the gap closes.
//
// A dot that the context holds but the store does not was removed. Merge
// keeps a dot only if both sides hold it, or one side holds it and the other
// has never seen it, so a removal cannot be undone by merging a replica that
// still holds the removed dots: this is how the OR-Set of Bieniusa et al.
// ("An optimized conflict-free replicated set", arXiv:1210.3368, 2012) avoids
// both tombstones and the resurrection bug of sets that forget removed tags.
// An add concurrent with a remove carries a dot the remove never saw, so it
// survives: add wins. Field removal in an ORMap works the same way.
//
// # Encoding
//
// Every type has AppendBinary and a DecodeXxx function. The encoding starts
// with a version byte and a Kind byte (KindOf reads them), uses uvarints and
// length prefixes, and is canonical: collections are sorted, so equal
// states encode to equal bytes, and decoders accept nothing else (a decoded
// state re-encodes to its input). Decoders bound every length by
// MaxValueSize or MaxEntries and by the input that remains before
// allocating, reject states that break an invariant (unsorted entries, a
// non-compact context, a store dot missing from the context), and return an
// error, never a panic, on bad input.
//
// # Hazards
//
// HAZARD: replica IDs must never be reused. A dot is unique only while its
// replica never issues the same counter twice. A node that loses its data
// and rejoins under the same clock.ReplicaID restarts its counters and mints
// dots that others have already seen (its new adds are dropped as "already
// seen and removed") or seen with other values. A node whose state is lost
// must get a new replica ID, or first recover its own highest counter from
// the others (the maximum of their contexts' entries for it) before it
// writes.
//
// HAZARD: causal contexts grow with the number of replica IDs ever used: the
// vector keeps one entry per replica that ever wrote, and nothing here
// forgets a retired replica. Replacing nodes with fresh IDs (as the previous
// hazard requires) adds entries forever. Pruning retired IDs needs
// agreement that every replica has seen all their dots, which this package
// does not provide.
//
// HAZARD: the dot cloud is compact only when deltas eventually arrive.
// Deltas delivered out of order leave gaps; the cloud holds one dot per
// out-of-order update until the missing deltas (or a whole state) fill the
// gap. A replica that ships deltas to a peer that misses some of them must
// fall back to shipping its whole state (anti-entropy), or the peer's cloud,
// and its encoding, grow.
//
// HAZARD: there are no tombstones per element, but the design assumes that
// a context never loses dots: a state persisted without its context, or a
// context truncated to save space, resurrects removed elements on the next
// merge. Persist and ship the state as encoded here, whole.
//
// HAZARD: LWWRegister's order, and the winner MVRegister.Last picks among
// concurrent values, are only as meaningful as the hybrid logical clocks
// that stamped the writes. A replica whose clock runs ahead within the
// allowed offset wins races it should lose, and a write stamped with a
// clock ahead beyond the offset bound (if the clock package let it through)
// beats every write until real time catches up. Use the node's HLC, which
// bounds the offset, never the wall clock directly. MVRegister keeps causal
// overwrites correct regardless: a write replaces what it saw even if its
// timestamp is lower.
//
// HAZARD: counters return ErrOverflow instead of wrapping. A mutator fails
// (changing nothing) if the replica's result would leave the value range, as
// Redis INCR does; but each replica checks only its own view, so concurrent
// increments can take the merged value out of range, and Value then returns
// ErrOverflow until decrements bring it back. A PN-Counter replica's total
// of increments (or of decrements) is a uint64 that also never wraps: after
// 2^64 units in either direction that replica's updates fail for good.
//
// HAZARD: CausalCounter's reset does not undo a concurrent increment's
// replica: the increment carries its replica's whole contribution, including
// the part the reset saw. Resets that are not concurrent with increments
// behave exactly.
//
// HAZARD: Merge costs time linear in the size of both states, even for a
// one-element delta into a large set or map (a remove delta can hit any
// element, and there is no index from dots to elements). Bound the size of
// one value in the tier above; MaxEntries is a decoding limit that merges do
// not enforce, and a merged state beyond it cannot be decoded.
package crdt
