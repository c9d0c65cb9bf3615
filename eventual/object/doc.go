// Package object is the value model of cairn's eventual tier: what one Redis
// key holds on a replica, as a merge of conflict-free replicated data types
// (package crdt), and the Redis operations on it as delta mutators.
//
// # One key, several CRDTs
//
// An Object holds a slot per Redis type — a string (an LWW register ordered by
// hybrid logical clock, then replica), a counter (a resettable causal counter:
// INCR and friends), a set (an add-wins OR-Set) and a hash (an OR-Map of
// multi-value registers, read as the latest write) — plus two registers of
// metadata: the key's type (an LWW register naming the type of the latest
// type-defining write) and its expiry (a multi-value register of deadlines).
// Merge merges slot by slot, so Objects form a join-semilattice: replicas that
// have seen the same writes hold equal Objects, whatever the order.
//
// A mutation (Set, Incr, SAdd, HSet, Del, Expire, ...) runs on one replica
// against its own state, with that replica's ID and an HLC reading; it
// changes the Object and returns a delta, a small Object that the replica
// ships to the key's other replicas, which merge it. A delta lost,
// duplicated or reordered is repaired by shipping it, or the whole Object,
// again.
//
// # Semantics where replicas race (as Redis Active-Active documents)
//
//   - Strings: the write with the larger HLC timestamp wins; DEL is a write of
//     "absent" at its timestamp, so a SET causally after a DEL wins and a DEL
//     causally after a SET wins; between concurrent ones the later clock wins.
//   - Counters: concurrent increments add up. A DEL resets only the
//     contributions it saw: an INCR concurrent with a DEL survives it.
//   - Sets and hashes: an add (or HSET) concurrent with a remove (or DEL)
//     survives it: add wins. Concurrent HSETs of one field keep the later one.
//   - Type: concurrent writes of different types (SET on one replica, SADD on
//     another) leave both slots filled; the key shows the type of the latest
//     type-defining write by HLC, and the other slot is hidden and cleared by
//     the next write to the key. A write that finds a visible key of another
//     type fails with ErrWrongType, as Redis does.
//   - Expiry: EXPIRE and SET ... EX replace the deadlines they observed;
//     concurrent ones are all kept and the key lives until the latest of them;
//     a concurrent PERSIST (or a SET without KEEPTTL, which clears the TTL)
//     wins over any deadline. A key past its deadline reads as absent, and a
//     write to it starts from an empty key, as if it had been deleted.
//
// # Tombstones
//
// A deleted key keeps state: the string's "absent" write, and the causal
// contexts of the emptied counter, set and hash, which are what stop a
// merge with an older replica from resurrecting removed data. Visible reports
// whether a key shows anything; Tombstone whether it holds only such state.
// Dropping a tombstone is safe only once every replica has merged it (causal
// stability); the replica store decides that, never a wall-clock timer alone.
//
// # Encoding
//
// AppendBinary and Decode use a version byte, a bitmap of the slots present,
// and each slot's own canonical crdt encoding, length-prefixed: equal Objects
// encode to equal bytes, so a digest of the encoding is a digest of the
// state (the Merkle trees of anti-entropy rely on it). Decode bounds every
// length by the input and by MaxEncodedSize and never panics (FuzzDecode).
//
// HAZARD: dots are unique only while a replica ID never issues the same
// counter twice. A replica that may have lost state it already shipped (an
// unclean stop with batched fsync) must mutate under a fresh replica ID; the
// replica store does that.
//
// HAZARD: LWW strings order by HLC. Two clients writing the same key through
// different replicas within the clocks' offset may see the earlier write win.
// The HLC bounds the offset (writes from a clock too far ahead are refused);
// use the Paxos compare-and-set for a write that must not be lost this way.
package object
