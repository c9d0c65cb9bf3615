// Package twopc is two-phase commit as pure state machines: a Coordinator
// and a Participant that take messages and ticks and return, in a Ready,
// the records to log, the messages to send and the outcomes to apply
// (the contract is txn.Ready's). Gray, "Notes on Data Base Operating
// Systems" (1978) for the protocol; Mohan, Lindsay and Obermarck,
// "Transaction Management in the R* Distributed Database Management
// System" (TODS 1986) for presumed abort; Bernstein, Hadzilacos and
// Goodman, "Concurrency Control and Recovery in Database Systems" (1987),
// §7.3-7.4, for timeouts, recovery and cooperative termination.
//
// # The protocol
//
// Begin logs the transaction (RecordBegin, not forced) and sends Prepare
// to every participant. A participant hands the request to its
// application (Ready.VoteRequests), which prepares the transaction locally
// and calls Vote. A yes is forced to the log (RecordVote) before it is
// sent; from then on the participant is uncertain and must abide by the
// decision. A no is an abort, forced (RecordDecision) and applied at once.
// The coordinator commits when every vote is yes, and aborts on the first
// no or when VoteTimeoutTicks pass without every vote. It forces the
// decision (RecordDecision) before announcing it, resends it every
// RetryTicks to the participants that have not acknowledged, and forgets
// the transaction (RecordEnd, not forced) once all have. Participants
// force the outcome before they apply or acknowledge it.
//
// Every message is idempotent: a repeated Prepare is answered with the yes
// vote already given (and ignored once the participant knows the
// outcome), a repeated outcome is acknowledged again, a repeated vote or
// acknowledgement changes nothing. Lost messages are
// resent by whoever waits for the answer.
//
// # Recovery
//
// A coordinator restarts from its log: an undecided transaction is aborted
// (no participant can have been told to commit, because commit is forced
// before it is sent; with the register, abort is proposed there and the
// register's answer stands), a decided one is announced again until every
// participant acknowledges. A coordinator asked about a transaction it does
// not know answers abort (presumed abort): it either never decided it, or
// ended it after every participant acknowledged the outcome, in which case
// the question is a late duplicate (Message.Presumed marks such answers so
// that a decided participant ignores them).
//
// A participant restarts from its log: decided transactions stay decided,
// and the uncertain ones ask for their outcome at the first tick.
//
// # Cooperative termination and blocking
//
// A participant that stays uncertain for DecisionTimeoutTicks asks its
// coordinator and every other participant (MsgDecisionRequest), every
// RetryTicks until it knows. A peer that knows the outcome tells it. A
// peer that has not voted yes (it never heard of the transaction, or its
// application has not voted) aborts unilaterally, forcing the abort before
// it answers, so it can never vote yes afterwards. A peer that is itself
// uncertain cannot help. When the coordinator is gone and every
// participant voted yes and none knows the outcome, nobody can decide:
// this is the blocking window of two-phase commit, and the participants
// hold their locks until the coordinator comes back.
//
// # The decision register variant
//
// With Config.Registers the decision is not the coordinator's alone: the
// coordinator proposes its decision to the decision register (package
// decision, a Paxos register replicated on a few nodes) and announces what
// the register answers. An uncertain participant proposes abort to the
// register. The register chooses once, so the first proposal wins for
// everybody: either the coordinator's commit was chosen and every
// participant learns commit, or a participant's abort was and the
// coordinator learns abort. The loss of the coordinator no longer blocks
// anyone while a majority of register replicas is reachable. The
// coordinator's own decision record becomes a cache (not forced), and it
// must not presume abort: a transaction it forgot may have been committed
// in the register.
//
// HAZARD: transaction IDs must be unique for the life of every log that
// may mention them. Presumed abort answers "abort" for any ID the
// coordinator does not know; a reused ID confuses a new transaction with
// an old one.
//
// HAZARD: participants never forget a transaction (a peer may still ask
// about it), and MaxKnownTxns bounds how many they keep: at the bound they
// vote no on new transactions. Forgetting needs a watermark from the
// coordinator saying every participant has applied the outcome; it is
// left to the multi-range transaction work that builds on this package.
//
// HAZARD: the application must call Vote only after the transaction is
// durably prepared on its side (its writes and locks survive a crash): a
// yes vote is a promise to commit on demand.
//
// Metrics: Coordinator.Stats and Participant.Stats count what each core
// did; the driver that runs a core exports them through Prometheus (the
// cores themselves register nothing, so that they stay pure).
package twopc
