// Package decision is a write-once register for transaction outcomes,
// replicated with single-decree Paxos (Lamport, "Paxos Made Simple", 2001)
// on a small set of replicas: the "replicated store" that holds a
// two-phase commit coordinator's decision so that the loss of the
// coordinator cannot block the participants (Gray and Lamport, "Consensus
// on Transaction Commit", 2006, make the same move with Paxos Commit;
// CockroachDB's transaction record in a Raft range is the production
// form).
//
// # Semantics
//
// For each transaction ID the register chooses at most one outcome, ever.
// A client proposes a value with Propose(txn, v) and gets back the chosen
// value, which is v only if no other value was chosen first. The
// coordinator proposes commit (or abort); a participant that lost the
// coordinator proposes abort. Whoever is first wins, and everybody learns
// the same answer. The register never loses a chosen value as long as a
// majority of replicas keeps its disk, and it answers whenever a majority
// is up and connected.
//
// # The protocol
//
// Every replica is an acceptor for every transaction, and a proposer for
// the transactions its clients ask it about. A proposer runs phase 1
// (Prepare/Promise) with a ballot above every ballot it has seen,
// (round, replica ID) so that no two proposers share one, then phase 2
// (Accept/Accepted) with the value of the highest accepted proposal found
// in phase 1, or its client's value if there is none. A majority of
// Accepted means chosen: the proposer records it, answers its waiting
// clients and tells the other replicas (Learn), which then answer at once.
// A proposer that is rejected or hears nothing within RetryTicks (plus a
// random jitter, so duelling proposers drift apart) starts a higher
// ballot. Clients (Client) retry, rotating through the replicas, until a
// replica answers.
//
// Acceptor state (RecordPromise, RecordAccept) is forced to the log before
// the Promise or Accepted it justifies leaves the replica (the txn.Ready
// contract). The chosen value is recorded too, but not forced: a replica
// that loses it runs Paxos again and finds the same value.
//
// HAZARD: a replica never forgets a transaction (MaxKeys bounds how many it
// keeps, and beyond it the replica stops taking new transactions).
// Forgetting needs a signal that every participant has applied the
// outcome; the multi-range transaction work that builds on this package
// must add it (the coordinator's End record is that signal).
//
// HAZARD: Paxos is safe with any number of crashes, losses and partitions,
// but it only terminates while a majority of replicas can talk; with
// duelling proposers it may take several ballots (the jitter makes that
// rare, not impossible).
package decision
