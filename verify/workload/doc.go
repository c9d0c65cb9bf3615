// Package workload holds the verification harness's workloads: clients
// that drive a cluster through its real client protocols while the
// nemesis injects faults, recording every operation with its invocation
// and completion times and its outcome (package history), and that, once
// the faults are healed, read the final state and run their checker
// (package check).
//
// # Strong tier (etcd's clientv3)
//
//   - register: get, put and compare-and-swap (a Txn comparing the value)
//     on a few keys at a time, each key retired after OpsPerKey
//     operations or MaxUnknownPerKey unknown outcomes so that Porcupine's
//     search stays small; checked for linearizability per key.
//   - bank: transfers between accounts as one Txn guarded by both
//     accounts' mod revisions; snapshot reads of all accounts, some
//     served serializably by any member; checked for conservation and
//     stale reads.
//   - watch: writers put and delete under a prefix; one watcher per member
//     (and one over every member) watches it with prev_kv from the first
//     revision, cancels and resumes from the revision after the last
//     event now and then, and resumes after every error (a member lost,
//     "no leader"); at the end a fence write tells each watcher it has
//     seen everything. Checked like etcd's robustness watch validation.
//   - lock: clients take a lease-backed lock (clientv3/concurrency), read
//     a counter and write it plus one in a Txn guarded by the lock key's
//     create revision (the fencing token); checked for overlap.
//
// # Eventual tier (go-redis against each member's RESP port)
//
//   - counter: INCRBY through every member; converges to the sum.
//   - set: SADD of unique elements (and some SREMs) through every member;
//     converges with no acknowledged add lost.
//   - session: each connection adds to a shared set and reads it back;
//     read-your-writes and monotonic reads per connection.
//   - setnx: SET NX races; one winner per key.
//
// A workload whose port does not answer (the eventual tier not served by
// this build) reports SKIP with the reason, never PASS.
//
// # Outcomes
//
// A read that errors is Failed (no effect) and left out of the checked
// history. A write that errors is Unknown, whatever the error: a timeout,
// a lost leader, a closed connection may all come after the write was
// proposed, and calling any of them a failure would make the checkers
// accept a lost acknowledged write or reject a legal history. The one
// exception is a Txn that answered Succeeded=false: it certainly did not
// write.
//
// HAZARD: clientv3 retries some requests by itself; a retried mutation is
// the server's to deduplicate (etcd does not, and clientv3 only retries
// mutations that never reached the server). Workload values are unique
// per write, so a duplicate would show as a linearizability failure, not
// pass silently.
//
// Bounds: each workload issues at most Rate operations per second and at
// most MaxOps operations in all (it stops issuing and says so at the
// bound); every operation has OpTimeout.
package workload
