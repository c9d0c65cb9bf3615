// Package raft is cairn's Raft consensus core: a deterministic state machine
// with no goroutines, clock, network or disk inside (Ongaro and Ousterhout,
// "In Search of an Understandable Consensus Algorithm", USENIX ATC 2014; and
// Ongaro's thesis "Consensus: Bridging Theory and Practice", 2014).
//
// # Inputs and outputs
//
// The application drives a RawNode with inputs: Tick (the logical clock),
// Step (a message from another node), Propose, ProposeConfChange,
// ReadIndex, TransferLeader, Campaign, ReportUnreachable, ReportSnapshot.
// Outputs are collected in a Ready, fetched with RawNode.Ready.
//
// # The Ready contract
//
// For each Ready, the application:
//
//  1. persists, in this order, Ready.Snapshot (and restores its state
//     machine from it), Ready.Entries (which may replace a suffix of the
//     stored log) and Ready.HardState, syncing to disk if Ready.MustSync;
//  2. sends Ready.Messages — at any time, even before or during step 1:
//     every message in a Ready is safe to send now;
//  3. applies Ready.CommittedEntries in order, calling ApplyConfChange for
//     EntryConfChange entries, and answers Ready.ReadStates once its
//     applied index reaches ReadState.Index;
//  4. calls Advance(rd) — or, with Config.AsyncStorageWrites, calls
//     AckPersisted(rd) when step 1 is durable and AckApplied(rd) when step 3
//     is done, in Ready order, possibly with several Readys outstanding.
//
// The messages whose truth depends on durable state — an append
// acknowledgement (MsgAppResp: "I hold these entries") and a granted vote
// (MsgVoteResp: "I voted for you in this term") — are never put in the Ready
// whose persistence they depend on. The node holds them back and releases
// them in a Ready after the application has acknowledged the persist. It is
// therefore impossible to answer before persisting (the classic bug of
// sending a vote, crashing, and voting again in the same term). A
// leader's own acknowledgement of its entries and a candidate's own vote are
// likewise counted only after the acknowledgement, so a leader's log is
// replicated to followers in parallel with its own disk write (thesis
// §10.2.1) without ever counting its unsynced copy. CommittedEntries only
// ever contain entries already acknowledged as persisted on this node.
//
// Without AsyncStorageWrites, Ready must not be called again before Advance.
//
// # Restart
//
// A RawNode is rebuilt from Config.Storage alone: InitialState gives term,
// vote, commit and configuration; the log and snapshot give the rest;
// Config.Applied says how far the application's state machine got.
// A new cluster's storage is initialised with MemoryStorage.Bootstrap (or
// the equivalent for a durable storage).
//
// # Features
//
//   - Elections with randomized timeouts in [ElectionTick, 2*ElectionTick)
//     (§5.2), the up-to-date rule (§5.4.1), pre-vote (thesis §9.6) and
//     check-quorum (thesis §6.2): a leader that has not heard from a quorum
//     within an election timeout steps down, and followers that hear from a
//     leader ignore disruptive vote requests.
//   - Replication with per-follower next/match indexes, probe/replicate/
//     snapshot states, fast backtracking with term hints, a pipelined
//     window bounded by MaxInflightMsgs and MaxInflightBytes, batching of
//     proposals between two Readys into one append per follower, and
//     MaxUncommittedEntriesSize back-pressure (ErrProposalDropped).
//   - Commitment only by counting replicas of a current-term entry (§5.4.2).
//   - Snapshots: the application creates them (MemoryStorage.CreateSnapshot,
//     Compact); the leader sends them to followers that need compacted
//     entries; followers install them through Ready.Snapshot.
//   - Membership changes through joint consensus (package confchange):
//     ConfChange with one voter change is applied directly, anything else
//     enters a joint configuration that the leader leaves automatically
//     (unless TransitionJointExplicit). Learners replicate without voting;
//     AddNode on a learner promotes it. One change in flight at a time.
//   - Leadership transfer: the leader brings the target up to date, sends
//     MsgTimeoutNow, and refuses proposals meanwhile (thesis §3.10).
//   - Linearizable reads: ReadIndex (thesis §6.4) and opt-in leases.
//
// # Lease reads and clock drift
//
// With ReadOnlyLeaseBased the leader answers a read at its commit index
// without a round trip while it holds a lease. Every heartbeat carries the
// leader's tick count at send time and followers echo it. Let t be the
// newest send tick acknowledged by a quorum (the leader counting itself as
// "now"). A follower that received that heartbeat reset its election timer
// on receipt, which happened after the send; with CheckQuorum it ignores
// vote requests (other than a transfer's) until ElectionTick of its own
// ticks pass, and its first own tick may come at once, so it cannot help
// elect another leader before (ElectionTick-1) of its ticks after the send.
// The leader's current tick count understates real time by up to one tick.
// If the two clocks run at rates that differ by at most LeaseDriftTicks
// ticks per election timeout, no other leader can exist while
//
//	now - t <= ElectionTick - 2 - LeaseDriftTicks
//
// which is what leaseValid checks; when it fails the read falls back to the
// ReadIndex heartbeat round. Every quorum intersects the one that acked, so
// a new leader needs a vote from a node still honouring the old lease.
//
// HAZARD: lease reads are only as safe as the drift bound. Ticks driven by
// a paused process (GC, VM migration, SIGSTOP) drift without bound; set
// LeaseDriftTicks for the worst pause you accept, or use ReadOnlySafe.
//
// HAZARD: a follower that restarts forgets when it last heard from the
// leader. With lease reads enabled a restarted node ignores vote requests
// for one election timeout (leaseGuard) so that it cannot help elect a new
// leader while the old leader's lease may still run.
//
// HAZARD: a leader transfer breaks the lease promise on purpose (the target
// campaigns at once and followers grant transfer votes); the leader stops
// serving lease reads as soon as the transfer starts.
//
// HAZARD: the application must persist Ready.Entries before acknowledging
// them; acknowledging an unsynced write is the one way left to break the
// persistence rule. MustSync says when an fsync is required.
//
// HAZARD: only deterministic inputs reach the core: Config.Rand is the
// only randomness, progress is visited in ascending ID order, and no map
// iteration order can reach an output. Keep it so.
//
// HAZARD: the leader keys pending ReadIndex requests by their context
// alone, and a request whose context is already pending is ignored: contexts
// must be unique across the whole cluster (prefix them with the node ID),
// not only within one node.
//
// HAZARD: Storage errors other than ErrCompacted, ErrUnavailable and
// ErrSnapshotTemporarilyUnavailable make the core panic: it cannot know what
// a storage failure did to its log.
package raft
