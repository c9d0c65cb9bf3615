// Package replica is the durable store of the eventual tier on one node: the
// Objects (package object) of the keys this node replicates, and the hints it
// holds for replicas that were down, in the node's Pebble database.
//
// # Layout
//
// Keys live under their ring token, so that the keys of one ring range are
// one contiguous span (anti-entropy streams and compares ranges):
//
//	"\x04eo" | token (8 bytes, big-endian) | key   → encoded Object
//	"\x04eh" | target node (8) | sequence (8)      → hint: key and delta
//	"\x04em" | name                                → the store's own metadata
//
// # Writes
//
// Apply merges a delta from a peer into the stored Object; Mutate runs a
// local mutation (the coordinator's) on it. Both read, merge and write under
// a lock striped by token, so that concurrent writes to one key never lose
// each other, and return once the write is as durable as the sync mode says:
//
//   - SyncAlways (the default): each write returns only after an fsync of
//     the write-ahead log that follows it; Pebble groups the syncs of
//     concurrent writers into one (group commit), so many clients share the
//     cost. The fsync happens after the key's lock is released, so writes
//     to one hot key do not queue behind each other's fsyncs. An
//     acknowledged write survives power loss.
//   - SyncPeriodic: writes go to the write-ahead log without fsync, and a
//     background loop syncs it every SyncInterval (Cassandra's "periodic"
//     commit log). A power cut loses up to SyncInterval of acknowledged
//     writes on this replica; the other replicas, hints and anti-entropy
//     repair what they hold. A process crash loses nothing (the OS holds
//     the data).
//
// # Replica ID
//
// Dots (package crdt) must be unique per replica ID. The store mints a random
// replica ID when it is created, and a new one after every start that
// follows an unclean stop (no Close): a crash may have lost local state that
// was already shipped to peers, and re-issuing its dots under the same ID
// would make two different updates look like one. The cost is a larger
// causal context per key (one entry per replica ID that wrote it).
//
// # Observability
//
// Metrics (cairn_eventual_store_*): writes by origin (local, peer, noop),
// reads, hints stored, replayed and dropped, sync duration, errors.
//
// HAZARD: the stripes serialize writes to keys that share a stripe (4096
// stripes): a very hot key slows its neighbours, never corrupts them.
//
// HAZARD: a read can see a write whose fsync has not finished yet (its
// writer has not been acknowledged): a power cut in that window loses a
// value a reader saw. Replication makes it rare to matter: the write is
// also on its way to the other replicas.
//
// HAZARD: hints are bounded per target (Config.MaxHintsPerTarget); past the
// bound new hints are dropped and counted, and anti-entropy must repair what
// they would have carried.
package replica
