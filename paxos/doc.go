// Package paxos is the compare-and-set core of cairn's eventual tier: a
// per-key linearizable register (GET, SET, SET NX, SET XX, CAS, DEL,
// conditional DEL) replicated on the key's N replicas (its preference
// list, which the caller gives with each operation) with single-decree
// Paxos rounds, in the manner of Cassandra's lightweight transactions but
// with fewer round trips. Sources: Lamport, "Paxos Made Simple" (2001);
// Cassandra's LWT (CASSANDRA-5062) and its known read anomaly
// (CASSANDRA-12126); Rystsov, "CASPaxos: Replicated State Machines without
// logs" (2018), whose argument (every accepted value above a chosen one is
// derived from it) is the safety argument used here.
//
// # Shape
//
// Two pure pieces, no goroutines, clock reads, randomness of their own,
// network or disk:
//
//   - StepAcceptor(state, msg) is the acceptor, a pure function over one
//     key's AcceptorState (promised ballot, proposal in progress, most
//     recent commit, the Recent links). Its AcceptorOutput says what to
//     persist, whether to sync, and what to reply: the driver persists
//     first and replies after (the durability contract, at
//     AcceptorOutput). The driver owns the states (in Pebble, one per key).
//   - Proposer is the coordinator: Propose starts an operation, Step takes
//     replies, Tick counts time, Ready hands out messages and Outcomes. It
//     has no durable state; its ballots stay unique across restarts through
//     Config.Epoch, which the driver persists.
//
// Messages and acceptor states have a canonical binary codec
// (EncodeMessage, DecodeMessage, EncodeAcceptorState, DecodeAcceptorState),
// fuzzed.
//
// # The protocol
//
// A ballot is (time, epoch, node): time from an HLC or a Lamport clock
// (BallotClock), raised above every ballot the proposer has seen, so a
// proposer refused by a higher ballot comes back above it. One operation:
//
//  1. Prepare(b) to every replica. An acceptor promises b unless it
//     promised or committed something higher, and its Promise carries its
//     proposal in progress and its most recent commit: the prepare round
//     also reads the value (Cassandra reads in a separate round).
//  2. On a majority of promises, let mrc be the newest commit among them
//     and p the newest proposal in progress above mrc.
//     - Replicas whose commit is older than mrc are sent mrc (repair,
//     without waiting: the promises carry the value).
//     - If p exists, its instance may be decided without a commit we saw:
//     finish it (Accept(b, p's value), then Commit), then retry with a new
//     ballot. A read, and a condition that fails, is answered on p's value
//     at once.
//     - Otherwise apply the operation to mrc's value. If it does not write
//     (GET, failed condition) answer now (one round trip; with
//     Config.FenceReads, re-propose mrc first). Otherwise Accept(b, new
//     value).
//  3. On a majority of Accepted the value is chosen: answer the client, and
//     send Commit to every replica without waiting. A write costs two round
//     trips before the answer (Cassandra: four) and 5N messages.
//
// Rejections back off (randomized, exponential up to MaxBackoffTicks) and
// retry; a phase without a majority within RoundTicks times out and
// retries; after MaxAttempts the operation fails with an *Error of kind
// ErrContention, ErrTimeout or ErrNoQuorum, naming how many replicas
// answered and whether the write may have taken effect (MaybeApplied).
//
// # Instances, provenance, and exactly once
//
// Each committed value opens an instance: the operations computed on it
// compete for it, and Paxos lets at most one of them be chosen. A Proposal
// carries its provenance: Origin, the ballot at which its operation
// computed the value (it names the operation, and survives re-proposal by
// another proposer), and Base, the Origin of the committed value it was
// computed on (it names the instance). The invariants, checked by
// paxossim after every simulated step:
//
//   - one ballot carries one proposal, one operation one value;
//   - an operation is computed only on a chosen value (its Base is chosen);
//   - at most one operation is chosen per instance, and once one is chosen
//     under ballot b, every proposal accepted in that instance above b is
//     that operation's;
//   - only chosen proposals are committed.
//
// So the chosen operations form one chain from the empty register, each
// applied to its predecessor's value: the sequential history that makes the
// register linearizable. A read answered after the prepare round returns
// mrc: every value chosen before the read began has a ballot at most the
// newest one a majority shows, and nothing newer was in progress there.
//
// A proposer must never apply one operation twice. When its Accept may
// have been accepted (a refusal by a majority, a timeout) the operation is
// risky: it then only offers values computed on the same instance (so at
// most one of its offers can ever be chosen), and learns the fate of its
// offers from later promises: a commit of one of them, a proposal computed
// on one of them, or a commit of another operation in its instance
// (AcceptorState.Recent keeps the last MaxRecent commit links for this).
// When the key moved on further than that, it fails with MaybeApplied
// rather than guess. A proposer also remembers the last ballot it got
// chosen per key, so that its next round does not finish it again while
// the commit is still on the way.
//
// # Expiry
//
// A register value may carry a deadline (Value.DeadlineMs, Unix
// milliseconds), so that the eventual tier can serve Redis's SET key value
// NX PX 30000 (the lock idiom) and SET key value XX EX 10 through this core.
// Every operation carries the proposer's wall time at submission (Op.NowMs;
// the driver reads it from its HLC, since this package reads no clock), and
// judges expiry with it: a value whose deadline is at or before NowMs is
// absent for the operation's condition and for Result.Prev, as an expired
// key does not exist in Redis. A write installs its own deadline
// (Op.DeadlineMs; 0 never expires; Op.KeepTTL keeps the live one).
//
// Expiry is a judgement of each operation, not an event: nothing happens
// to a register when its deadline passes (acceptors have no clock and
// never drop a value), and an operation that does not write on an expired
// value leaves it stored. So the deadline changes no part of the protocol
// and no invariant above: a value with a deadline is a value like another,
// and an operation's computation is still a function of the
// operation (its NowMs fixed at Propose) and the committed state it is
// computed on, the same at every attempt and re-computation; a proposal
// that another proposer finishes keeps its value, deadline included. The
// history is linearizable against a register whose operations each carry
// their NowMs (paxossim's model checks exactly that).
//
// # Bounds
//
// Config.MaxPending proposals (running or queued behind another on the
// same key: one proposer never duels with itself), Limits.MaxKeyBytes and
// MaxValueBytes (Propose refuses larger ones; decoders enforce the hard
// KeyBytesLimit and ValueBytesLimit), Config.MaxReplicas, MaxAttempts, and
// MaxRecent links per state. A deadline adds at most 9 bytes to each value
// in a message or a state. An operation is answered within
// Config.MaxOpTicks ticks of starting to run.
//
// # Hazards
//
// HAZARD: every round on a key must use the same replica list. If the
// preference list changes (a node joins or leaves the ring) while
// operations run, two proposers may count majorities of different lists
// that do not intersect, and two values can be chosen. The driver must
// change a key's replicas only through a procedure that keeps quorums
// intersecting (e.g. finish in-flight rounds, then copy the acceptor
// states to the new replicas before using them).
//
// HAZARD: the acceptor's Promise and Accepted replies are facts about its
// durable state. A driver that replies before the state is synced (when
// MustSync says so) can lose a promise in a power failure and let two
// values be chosen. Commits need no sync.
//
// HAZARD: Config.Epoch must grow at every start of a proposer's node and be
// persisted before the proposer sends anything; a reused (time, epoch,
// node) with a different value breaks Paxos.
//
// HAZARD: writes to a key outside Paxos (an eventual-tier SET) are not
// ordered with the Paxos register; mixing them on one key loses
// linearizability, as in Cassandra.
//
// HAZARD: without FenceReads, a read that does not see a proposal a
// minority accepted (its client timed out) returns the older value, and
// that proposal may still be chosen later. The history stays linearizable
// (the timed-out write is concurrent with everything after it), but a
// client cannot settle a timeout with one read; with FenceReads it can.
//
// HAZARD: expiry is judged by the proposer's clock when the operation was
// submitted (Op.NowMs), not by a common clock nor at the moment the
// operation takes effect. Clock skew between coordinators therefore shifts
// expiry by up to the HLC's max offset: within that window around a
// deadline, a value may be seen as expired by one coordinator and live by
// another, and even live again by an operation after one that saw it
// expired (an expired value stays stored until a write replaces it). An
// operation that waits (queued behind others on its key, or retrying, up to
// Config.MaxOpTicks) judges with its submission time, so it may see a value
// live that expired before it took effect. An HLC runs ahead of its
// physical clock when it witnesses a faster node, which makes values expire
// early by up to the same offset. A lock built on NX PX must thus leave its
// holder a margin of the max offset plus the operation time before its
// deadline (as Redlock's clock drift factor does), and must not use the
// deadline as a fencing token. A driver that leaves NowMs at 0 sees no
// value as expired.
//
// HAZARD: acceptor states are never deleted by this package; a key's state
// must be kept as long as any proposer may run a round on it.
//
// HAZARD: Paxos is safe under any loss, duplication, reordering, crash or
// partition, but it terminates only while a majority of a key's replicas
// can talk; duelling proposers may need several attempts (the backoff
// makes that rare, MaxAttempts bounds it).
package paxos
