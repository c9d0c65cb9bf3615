// Package tracker holds the leader's view of every follower: how far its log
// matches (Match), what to send next (Next), in which replication state it is
// (probe, replicate, snapshot; see Progress), and the flow-control window of
// in-flight append messages (Inflights, bounded by count and bytes). It also
// holds the active configuration and the votes of an election.
//
// The leader keeps nextIndex and matchIndex per follower as in the Raft paper
// (figure 2, "Volatile state on leaders"); the probe/replicate split and the
// in-flight window are the pipelining optimisation of Ongaro's thesis §10.2.
//
// HAZARD: Inflights must be freed with the index a follower acknowledged;
// if acknowledgements are lost the window stays full and the follower is only
// served again after a heartbeat response (which frees one slot) or after the
// leader falls back to probing.
//
// HAZARD: Visit iterates in ascending ID order. Anything that emits messages
// while iterating progress must use Visit, never range over the map, or the
// output order (and so the simulator's determinism) would depend on Go's map
// iteration order.
package tracker
