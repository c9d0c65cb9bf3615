// Package strong is cairn's strong tier: a Raft-replicated, linearizable
// key-value store with etcd v3 semantics that serves etcd's gRPC API (KV,
// Watch, Lease, Cluster, Maintenance), so that etcdctl, clientv3 and the
// programs built on them work against it unchanged.
//
// # How a request flows
//
// A write (Put, DeleteRange, Txn with writes, Compact, LeaseGrant, ...)
// becomes an etcdserverpb.InternalRaftRequest with a unique ID, is
// proposed to the Raft core (forwarded to the leader by the core if this
// member follows), and the caller waits until this member applies the
// entry; the state machine's response is handed back by ID (waiters).
// A linearizable read joins the next batched ReadIndex round
// (readBatcher): one quorum heartbeat round confirms leadership for every
// read that arrived meanwhile, then the read waits until this member has
// applied up to the read index and reads its local MVCC store. A
// serializable read reads the local store at once.
//
// # The Raft loop
//
// One goroutine owns the raft.RawNode (raftNode.run): it ticks, steps
// peer messages, proposes, and for each Ready sends the messages (the
// leader replicates in parallel with its own fsync), restores a received
// snapshot, persists entries and hard state in one synced Pebble batch
// (group commit: every proposal of a Ready shares the fsync), hands the
// committed entries to the apply goroutine (apply.go) and goes on: the
// next Ready is replicated and fsynced while this one is applied. Every
// few thousand entries (SnapshotCount) it waits for the apply goroutine,
// records a Raft snapshot and compacts the log.
//
// # Durability
//
// The Raft log (package storage/raftlog) and the state machine (package
// storage/mvcc, plus the meta records of this package: members, leases)
// share one Pebble store. The log is synced before anything that depends
// on it is acknowledged; the state machine is written without fsync and
// stores the index of the entry that produced each change (consistent
// index) in the same batch, so that after a crash entries at or below it
// are skipped and the rest replayed from the log. Before the log is
// compacted the state machine is synced.
//
// HAZARD: a snapshot sent to a follower holds the leader's state at its
// consistent index, which may be past the Raft snapshot's index; the
// follower skips the entries in between by the consistent index. Any
// apply path that is not idempotent must check it.
package strong
