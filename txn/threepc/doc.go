// Package threepc is three-phase commit with its termination protocol, as
// pure state machines (Skeen, "Nonblocking Commit Protocols", SIGMOD 1981;
// Skeen and Stonebraker, "A Formal Model of Crash Recovery in a
// Distributed System", 1983; Bernstein, Hadzilacos and Goodman,
// "Concurrency Control and Recovery in Database Systems", 1987, §7.5).
// The Ready contract is txn.Ready's.
//
// # The protocol
//
// Three-phase commit puts a pre-commit phase between the vote and the
// decision, so that no participant can be uncertain while another has
// committed: a participant is uncertain (voted yes), then pre-committed
// (everyone voted yes), then committed. The coordinator sends Prepare,
// collects the votes (aborting on a no or after VoteTimeoutTicks), sends
// PreCommit, collects acknowledgements, and commits when every participant
// acknowledged, or after AckTimeoutTicks if at least one did: Skeen's rule
// takes a silent participant for crashed, and a crashed participant learns
// the outcome when it recovers. Votes, pre-commits and outcomes are forced
// to the log before the messages that report them.
//
// The coordinator resends its current request to every participant each
// RetryTicks, acknowledged or not: it is also the heartbeat that the
// participants' failure detector listens to.
//
// # Termination
//
// A participant that voted yes and hears nothing from its leader (the
// coordinator, then the leader of the current termination round) for
// SuspectTicks, plus StaggerTicks per rank so that the lowest ID goes
// first, elects itself: it starts a termination round with a ballot above
// every round it has seen, (round, its ID), promises it to itself and asks
// every participant for its state. A participant answers only rounds at or
// above its promise, forcing the promise (RecordPromise) before it
// answers; afterwards it rejects lower leaders, the original coordinator
// included (ballot round 0), and a rejected leader stands down. A
// participant that has not voted yes aborts unilaterally before it
// answers. After every participant answered, or RoundTicks passed, the
// round leader decides by the 3PC rules: someone aborted, abort; someone
// committed, commit; someone usable pre-committed, pre-commit everyone at
// the round's ballot and then commit; everyone usable uncertain, abort.
// With no usable answer it gives up and a later round tries again.
//
// "Usable" is the rule for crash recovery. A participant that restarted
// since it voted (Recovering in its answer) may have been down while a
// round it missed decided abort from the uncertain states it saw; its
// stale pre-commit must not then lead a partial round to commit. So a
// partial round uses only the answers of participants that never
// restarted, and a round that hears from every participant uses all of
// them (any decision is then visible in some answer). After a total
// failure the participants therefore wait until all of them are back,
// which is Skeen's "last process to fail" condition in its simplest form.
//
// The coordinator's acknowledgement timeout needs at least one
// acknowledgement for the same reason: a commit must leave a durable
// pre-commit somewhere a full round will find it.
//
// A coordinator that restarts announces the decisions in its log and
// forgets undecided transactions: a termination round may be deciding
// them, and it is no longer their leader.
//
// # The hazard
//
// Three-phase commit is non-blocking only under its model: crash failures
// and a failure detector that never suspects a live node, that is, bounded
// message delay and no network partitions. Every timeout above is a
// failure detector. A partition (or a pause, or a delay longer than the
// timeouts) makes both sides of it take the other for crashed: the
// coordinator, with the acknowledgements of one side, commits; the other
// side runs a termination round among the participants it can reach,
// finds them all uncertain, and aborts. Atomicity is lost, which no
// choice of timeouts prevents. Quorum-based variants (Keidar and Dolev's
// E3PC) and Paxos Commit (Gray and Lamport, 2006) fix it with majorities;
// production systems instead replicate the coordinator's decision, as
// twopc's decision register variant does. The txn package doc shows both
// sides with simulator seeds.
//
// HAZARD: SuspectTicks, AckTimeoutTicks and RoundTicks must exceed the
// worst message delay and the worst pause by a wide margin, and
// RetryTicks must be small enough that a live leader's heartbeats rarely
// all get lost within SuspectTicks. Validate checks only the ratios.
//
// HAZARD: as in twopc, transaction IDs must be unique, participants never
// forget a transaction (MaxKnownTxns bounds them), and the application
// votes yes only once its side of the transaction is durably prepared.
//
// Metrics: Coordinator.Stats and Participant.Stats; the driver exports
// them.
package threepc
