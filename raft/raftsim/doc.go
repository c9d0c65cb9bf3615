// Package raftsim runs cairn's Raft core (package raft) in the
// deterministic simulator (package sim) and checks it.
//
// Each simulated node is a raft.RawNode over a raft.MemoryStorage that
// mirrors what the node wrote to its simulated disk: entries in an
// append-only log file, the hard state and the latest snapshot in
// atomically replaced files, each synced before anything that depends on it
// is acknowledged. A crash throws the node away together with its unsynced
// writes (sim.LossPrefix keeps a random prefix of them); the restart
// rebuilds the RawNode from the disk alone. On top runs a small replicated
// key-value state machine (put, compare-and-set, linearizable get through
// ReadIndex or leases) that simulated clients use; its history is checked
// with Porcupine.
//
// # What is checked
//
// After every simulator step (Checker, fed by the nodes as they persist,
// apply and change role):
//
//   - Election Safety: at most one leader per term.
//   - Log Matching: two entries with the same index and term carry the same
//     payload and follow the same previous term, so by induction the logs
//     are identical up to them. Every entry that enters any log passes
//     through Ready.Entries, which is where it is recorded.
//   - Leader Completeness: a node that becomes leader holds the highest
//     committed entry known anywhere.
//   - State Machine Safety: every node applies the same entry at each
//     index, snapshots taken at the same index have the same state, and an
//     entry at or below a known commit is never replaced.
//   - Commit never goes back within a node's incarnation, and a restarted
//     node's durable commit never lies beyond its durable log.
//
// After the run: Porcupine on the client history (linearizability of
// writes, CAS and reads), and liveness: once every fault is healed a
// leader is elected and every node applies the whole log, and a fresh
// write commits, within a bounded simulated time.
//
// Run gives one seed; raftsim_test.go runs many (1,000 in CI, fewer under
// the race detector; -sim.long for 100k). Bugs injects known defects so that
// each check is shown to fail when it should.
package raftsim
