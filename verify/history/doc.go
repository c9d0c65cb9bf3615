// Package history records what a verification run's clients did: one Op
// per operation, with its invocation and completion times measured from
// the run's start on the monotonic clock, and its outcome.
//
// # Outcomes
//
// An operation either succeeded (OK), certainly had no effect (Failed: a
// read that errored, a transaction whose comparison failed, a request the
// server refused before proposing it), or its outcome is Unknown: the
// client gave up (timeout, broken connection, leader lost) and the write
// may or may not have taken effect, now or later. The checkers treat an
// Unknown write as possibly applied at any time after its invocation,
// which is what etcd's robustness tests and Jepsen do.
//
// # Shape
//
// The Recorder keeps a generic Op per operation for the report (latency
// over time, the history table); each workload also keeps its own typed
// records for its checker (package check). The Recorder is bounded by
// MaxOps: past it, operations are counted but not kept, and the report
// says how many were left out. The checkers never depend on the
// Recorder, so the bound cannot hide a violation.
//
// HAZARD: times are durations since the Recorder's start on the monotonic
// clock of this process: they order the operations of this process and
// nothing else. Never compare them with server timestamps.
package history
