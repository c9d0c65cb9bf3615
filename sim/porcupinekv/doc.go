// Package porcupinekv is a Porcupine model of a key-value store of
// independent registers with get, put and compare-and-swap, for checking
// client histories recorded by the simulator (sim.History) or by a Jepsen-
// style harness for linearizability.
//
// Linearizability (Herlihy and Wing, "Linearizability: A Correctness
// Condition for Concurrent Objects", TOPLAS 1990) asks for a total order of
// the operations that respects real time (an operation that returned before
// another was called comes first) and the sequential specification.
// Porcupine (github.com/anishathalye/porcupine) searches for that order
// with the algorithm of Wing and Gong as improved by Lowe; the model
// partitions the history by key, since registers are independent
// (linearizability is compositional), which keeps the search small.
//
// Operations whose outcome the client never learned (a timeout, a crash of
// the node it talked to) are recorded with the output Unknown() and a
// return time at the end of the history: the checker may then place them
// anywhere after their call, and the model accepts them in any state, so
// they may or may not have taken effect. This is what etcd's robustness
// tests do with failed requests.
//
// HAZARD: an operation that certainly had no effect (refused before it was
// proposed) must be discarded (sim.History.Discard), not completed with an
// error output: the model has no error outputs, and an error recorded as a
// success would be checked as one.
//
// HAZARD: a check that times out is reported as a failure, never as a
// pass; give CheckLinearizable a timeout that fits the history size.
// Histories with many concurrent unknown operations on one key are
// expensive to check: keep the client count per key small.
//
// HAZARD: the model's CAS succeeds only on an existing key holding
// Expected; a CAS on a missing key always fails. A store with "create if
// absent" semantics needs another operation kind.
package porcupinekv
