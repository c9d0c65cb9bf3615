// Package gossipsim runs cairn's SWIM core (package gossip) in simulation
// and measures it.
//
// Two harnesses drive the same Peer adapter, which does what the real
// driver must: after every input it takes the Ready, persists a new
// incarnation before sending anything, hands the batch to the Checker,
// then sends the messages.
//
//   - World runs on the simulator (package sim), up to sim.MaxNodes (64)
//     nodes: the nemesis injects partitions of every shape, crashes with
//     restarts from the simulated disk (only the incarnation survives),
//     pauses, loss bursts and delay spikes; every message goes through
//     gossip.Encode and gossip.Decode; after every step the Checker's
//     verdict and every node's gossip.Node.Valid are checked. RunChaos
//     plays a seed: chaos, heal, convergence within a bound (liveness),
//     then a calm phase in which no running node may be dead to a majority.
//   - Net is a lean deterministic network for 100 to 10,000 nodes, which
//     sim's n² link matrix and text trace do not fit: seeded delays (which
//     reorder) and loss, partitions as groups, slow nodes (extra delay on
//     all their messages), pauses, crashes and restarts keeping one
//     persisted value, and a trace hash. NetCluster adds the Checker on
//     every Ready, gossip.Node.Valid sampled, and per-member counters of
//     every node's view, kept from the events in O(1), which the
//     measurements read.
//
// # Invariants
//
// The Checker sees every event of every node: a view only moves forward
// in the incarnation-then-state order (so incarnations never go down), the
// event kind matches the transition, no node ever believes itself suspect
// or dead, a node's own incarnation only rises across restarts and is
// persisted before anyone hears it, and every datagram fits
// MaxMessageBytes and MaxUpdatesPerMessage. Node.Valid checks each node's
// table indexes, counts, suspicion timers and queue.
//
// # Measurements
//
// Round means probe period (10 ticks; a second with the default 100 ms
// ticks). Clusters in Net start warm (every node knows every other, as
// after a join) unless the measurement is the join itself.
//
//   - MeasureJoin: a node joins cold through three seeds; rounds until
//     every node holds it alive, and until it holds every node alive.
//   - MeasureCrash: a node crashes; rounds until the first suspicion,
//     until nobody holds it alive, until the first and the last node hold
//     it dead.
//   - MeasurePartition: two halves until each holds the other dead, then
//     rounds from the heal to full convergence.
//   - MeasureFalsePositives, MeasureHeartbeat: no crash, but loss, slow
//     nodes or pauses; false verdicts (a node's own timer declaring a
//     running member dead), split by whether the member was healthy, and
//     false deaths (distinct member and incarnation), per node-hour, for
//     SWIM with and without Lifeguard and for an all-to-all heartbeat with
//     a fixed timeout (detector.FixedTimeout).
//
// TestFigures and TestLifeguardReducesFalsePositives print the tables;
// -gossipsim.long runs them in full and -gossipsim.nodes=10000 adds a
// size (10⁸ table rows: 16 GB of memory and 8 minutes on a 2-core
// machine; run it alone, with GOMEMLIMIT set).
//
// # What the simulation shows
//
// Medians at 1% loss, in probe periods (go test ./gossip/gossipsim -run
// TestFigures -gossipsim.long -v; 10,000 with -gossipsim.nodes=10000):
// a join is known to every node in 1.5, 3.4, 5.5 and 6.7 periods at 10,
// 100, 1,000 and 10,000 nodes, against a goal of log2(N)+4 (7.3 to 17.3);
// a crash is suspected by every node in 3.0, 4.9, 6.7 and 8.0, and held
// dead by every node in 7.9, 11.7, 17.4 and 22.4, of which the minimum
// suspicion timeout is 4, 8, 12 and 16. Each node sends about 2.3
// messages per period. A partition into two halves heals in 6, 19 and 46
// periods at 10, 100 and 1,000 nodes.
//
// False positives (100 nodes, 100 node-hours per run): at 1%, 5% and 10%
// loss and under 3-period pauses, SWIM with or without Lifeguard declares
// almost no one dead (0.03 per node-hour at 10% loss); an all-to-all
// heartbeat with a 3-period timeout makes 2.6, 91 and 496 false verdicts
// per node-hour, and with a 12-period timeout (the gossip's own detection
// time) none, at 99 messages per node per period against 2.3 to 3.9.
// With five nodes slowed by 300 ms each way, SWIM without Lifeguard makes
// 85.9 false verdicts per node-hour about healthy nodes, with Lifeguard
// 0.16 (the slow nodes themselves, which answer in six periods, are
// declared dead by both).
//
// HAZARD: Net is not sim. It has no duplicates, no disk loss model and no
// nemesis of its own; the measurements script their faults. Invariants
// that need every view at every step (convergence, majorities) are
// evaluated at most once per tick there.
//
// HAZARD: warm clusters skip the bootstrap: the figures describe a cluster
// in steady state, not one thousand nodes starting at once.
package gossipsim
