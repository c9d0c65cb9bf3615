// Package coord coordinates the eventual tier's requests on one node, the
// Dynamo way: any node takes a request; the key's N replicas are the first N
// distinct nodes clockwise on the ring (package ring); a write succeeds once
// W of them hold it and a read merges R of them, W and R set per request by a
// consistency Level (ONE, TWO, QUORUM, ALL, or a count).
//
// # Writes
//
// A write runs on a replica: the coordinating node itself if it is one of
// the key's replicas, otherwise the first live replica, which it forwards
// the operation to. The replica applies the operation (an Op) to its own
// state in its store (package replica), durably, and ships the resulting
// delta (package object) to the other replicas, counting itself as the
// first acknowledgement.
//
//   - Sloppy quorum: a replica that membership reports down is replaced by
//     the next live node after the preference list, which keeps the delta as
//     a hint for it; hinted stand-ins count toward W, as in Dynamo.
//   - Hinted handoff: a replica that fails or times out gets a hint kept on
//     the coordinator. Every node offers its hints to their targets once
//     they are alive again, oldest first; hints older than MaxHintAge are
//     dropped and left to anti-entropy.
//   - A write that cannot gather W acknowledgements fails with an
//     *UnavailableError naming the level, the replicas needed, and how many
//     answered. It is not undone where it landed (deltas merge, so a retry
//     is harmless), as with Cassandra's write timeouts.
//
// # Reads
//
// A read asks R live replicas (this node first, another one for each that
// fails; every replica for a ReadRepairChance of reads), merges their
// answers (the merge of CRDT states, never "latest timestamp wins", which
// would lose concurrent writes), and before answering sends the merged state
// to each of the R that differed (synchronous read repair). Answers that
// arrive after the read returned are compared in the background and
// repaired too. Fewer
// than R live replicas fails at once with an *UnavailableError: never a
// silent downgrade.
//
// # Anti-entropy
//
// Trees (package merkle) keep one Merkle tree per ring arc this node
// replicates, updated by the store on every write (it is the store's
// Observer) and rebuilt from the store when the ring changes. Every
// AntiEntropyInterval, spread over the arcs, the node compares one arc with
// one of its other live replicas through the Merkle exchange, then pulls the
// peer's entries of each differing range and pushes its own, merging both
// ways (merges are idempotent, so a repeated page costs only time). This
// repairs what hints and read repair missed: a replica that was down for
// longer than MaxHintAge, lost hints, a restored disk. SyncArcs runs a full
// pass at once, and the node runs one whenever the ring changes (it starts,
// a member joins or leaves), so that a replaced member receives its ranges
// within seconds, not at the next pass.
//
// HAZARD: a write acknowledged at W lives on W replicas until repair copies
// it; replacing (wiping) W of a key's replicas before the pass after the
// first replacement finishes loses it. Replace members one at a time, as
// with Cassandra.
//
// # Tombstones
//
// A deleted key's state is collected (gc.go) by its first replica once it
// has been invisible for TombstoneGrace (4h, longer than MaxHintAge) and
// every replica answers a read with the very same state; each replica then
// purges it only if its state is still that one.
//
// # Wire
//
// Nodes talk over the transport's "eventual" channel (its own streams,
// queues and breakers on the peer port): requests (mutate, apply, read) and
// their responses, matched by request id, each carrying the sender's HLC
// reading. A receiver merges that reading into its clock and refuses a
// request from a clock further ahead than the max offset (ErrClockSkew).
// Decoding is bounded by the frame and fuzzed (FuzzDecodeMessage).
//
// # Bounds
//
// RequestTimeout bounds every peer request; MaxInFlight bounds the peer
// requests served at once (more are dropped and their senders time out);
// the store bounds hints per target.
//
// # Observability
//
// Metrics (cairn_eventual_*): requests by kind, level and result with
// latency, read repairs (sync, background), handoff events (sloppy, local,
// replayed, expired, replay_failed), peer requests served by type and
// result, clock-skew refusals, anti-entropy exchanges by result and keys
// pulled and pushed (repair progress), and the Merkle exchange series
// (cairn_merkle_*).
//
// HAZARD: a write acknowledged at W < N lives on W replicas until handoff or
// anti-entropy copies it; losing those W disks before then loses it. W = N
// (ALL) or QUORUM reads and writes (R + W > N) are the safe settings.
//
// HAZARD: membership decides "down" for sloppy quorum. A replica that is
// alive but partitioned from this node is written to, times out, and gets a
// hint: the write pays a RequestTimeout before it can count a stand-in.
package coord
