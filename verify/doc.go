// Package verify is cairn's Jepsen-style verification harness, the engine
// of `cairn verify`: it runs workloads against a real cluster while a
// nemesis injects faults, records every operation with its invocation and
// completion times and its outcome (unknown outcomes recorded as such),
// heals the cluster, reads the final state, checks every guarantee cairn
// claims, and writes a report.
//
// # Shape
//
//	Run ─┬─ cluster  (verify/cluster: local processes, network namespaces, attach)
//	     ├─ workloads (verify/workload: register, bank, watch, lock; counter, set, session, setnx)
//	     │     └─ history (verify/history: every op, for the report)
//	     ├─ nemesis  (verify/nemesis: kill, pause, partition, loss, delay, member)
//	     ├─ heal, recovery, final reads
//	     ├─ checkers (verify/check: pure functions of the histories)
//	     └─ report   (verify/report: text, HTML, JSON, JSONL)
//
// A run has phases: start or attach to the cluster and set up every
// workload on a healthy cluster; run the workloads and the nemesis for
// Config.Duration; stop both, heal every fault (restart, continue,
// reconnect, finish a membership change) and wait until every member is
// ready; check that the cluster serves again (recovery); let each
// workload read its final state and run its checker; compare every
// member's HashKV at one revision; write the report.
//
// # Verdict
//
// The run passes when no checker fails. A checker that could not run
// (the eventual tier not served) is SKIP, never PASS. A failure prints
// the command that repeats the run: the seed fixes every choice the
// harness makes (fault kinds, shapes, targets, durations, each worker's
// operations), not the interleavings of real processes, so a repeat
// exercises the same plan and may need a few tries to hit a rare race.
//
// # Self-test
//
// Config.UnsafeSerializableReads makes the register, bank and lock
// workloads read serializably while recording the reads as linearizable:
// a deliberately broken client, which the checkers must catch when a
// partition leaves a member behind. The e2e test runs it to show that
// the harness can fail.
//
// HAZARD: the harness's clock is this process's monotonic clock; the
// real-time order it checks is the order this process saw. Operations of
// one run must all come from one harness process.
//
// HAZARD: the eventual tier's Merkle roots are not compared at the end
// (no admin call exposes them yet); convergence is checked through the
// values every member returns after heal.
package verify
