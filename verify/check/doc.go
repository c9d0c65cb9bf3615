// Package check holds the verification harness's checkers: pure functions
// from a recorded history (and the final state read after the faults were
// healed) to a Result. They read no clock, start no goroutine and touch no
// network, so each can be unit-tested on hand-made histories that contain
// exactly the bug it must catch.
//
// # What each checker proves
//
//   - CheckRegisters: the get/put/compare-and-swap history of every key is
//     linearizable (Herlihy and Wing, TOPLAS 1990), checked by Porcupine
//     with the model of package sim/porcupinekv, partitioned per key.
//     Catches lost writes, stale reads, split brain.
//   - CheckBank: every snapshot read of the accounts (one Range at one
//     revision) holds every account, no negative balance and the initial
//     total (transfers are multi-key transactions, so a partial one shows);
//     two reads at the same revision saw the same balances; a linearizable
//     read never shows a revision older than one already acknowledged or
//     read before it was called (a stale read).
//   - CheckWatch: the guarantees etcd documents and its robustness suite
//     validates: events ordered by revision, unique, none missing for an
//     acknowledged write in the covered range (across cancels and
//     reconnects: resumable), none without a write behind it, prev_kv and
//     create/version fields right, and every watcher saw the same events.
//   - CheckLock: lock holders' fenced writes (a transaction guarded by the
//     holder's key still having its create revision, the fencing token)
//     commit in token order, and no two holders ever read the same value of
//     the protected counter (a lost update means two holders overlapped).
//   - CheckCounter, CheckSet, CheckSessions, CheckSetNX (eventual tier):
//     after heal every replica converges to the same value; a counter lies
//     between the sum of acknowledged increments and that plus the unknown
//     ones; no acknowledged SADD is lost and nothing appears that nobody
//     added; each connection reads its own writes and never reads back in
//     time; SET NX has at most one winner per key and it stays.
//   - CheckHashes: every member's HashKV at one revision is equal.
//
// # Unknown outcomes
//
// A write whose client gave up may have happened: the checkers accept
// both, and bound what they accept by it (a counter's upper bound, a
// Porcupine operation that returns at the end of the history).
//
// HAZARD: a checker can only report what its history shows. A workload
// that records an error as a success, or a read as linearizable when it
// was served serializably, makes a checker pass a broken system: the
// workloads record what the client really asked for and really got.
package check
