// Package paxossim runs cairn's Paxos CAS core (package paxos) in the
// deterministic simulator (package sim) and checks it.
//
// # The simulated cluster
//
// Nodes (3, 5 or 7) are each the acceptor of the keys whose replica list
// names it and a coordinator (a paxos.Proposer) for the clients that reach
// it; each key has its own list of Replication (3 or 5) nodes, so a
// coordinator is sometimes a replica and sometimes not, as in the eventual
// tier. An acceptor keeps one file per key on its simulated disk, written
// and synced as paxos.AcceptorOutput says before it replies; a crash loses
// what was not synced (sim.LossPrefix or LossAll), and the restarted node
// rebuilds its acceptor states from the disk alone, with a new proposer
// whose Epoch is the incarnation number and whose ballot clock is fresh (a
// Lamport clock restarting at 0, or an HLC over the node's skewed
// simulated clock). Every message crosses the codec.
//
// Clients (2 to 5) send random GET, SET, SET NX, SET XX, CAS, DEL and
// conditional DEL on 1 to 3 keys to random nodes, one operation at a time,
// while the nemesis drops, duplicates, delays and reorders messages,
// partitions the network in every shape, pauses nodes and crashes and
// restarts them. Each operation carries its coordinator's wall clock
// (Op.NowMs: simulated time on the node's skewed physical clock, as a
// driver reads its HLC), and some writes carry a deadline
// (Options.ExpiryPercent and MaxTTL) or KEEPTTL, so values expire during
// the run and coordinators with skewed clocks disagree about when. Options vary with
// the seed (OptionsForSeed).
//
// # What is checked
//
// After every simulator step (Checker, fed by the nodes as they act; the
// invariants are those of the paxos package doc, made precise here):
//
//   - Identity: every Accept or Commit with ballot b carries the same
//     proposal; every proposal with origin o (one operation) the same base
//     and value.
//   - Computed on chosen: a proposal's Base is an operation that a
//     majority of the key's replicas accepted (zero for the empty
//     register).
//   - One value per instance: for each instance (a Base), at most one
//     operation is chosen; and once operation o is chosen in instance s
//     under ballot b (a majority sent Accepted for b), every Accepted sent
//     for a proposal of instance s with a ballot above b is o's.
//   - Commit safety: an acceptor applies only commits of chosen proposals.
//   - Monotonic acceptor: a valid state after each step; the promise and
//     the commit never go back.
//   - Durability: a restarted acceptor's state holds every promise and
//     every acceptance it had sent (what it said was persisted first).
//   - Liveness bound: a coordinator answers every operation within the
//     proposer's MaxOpTicks per operation queued ahead of it, counted in
//     its own ticks (so a paused node is not blamed).
//
// After the chaos phase the nemesis heals everything: every client
// operation must be resolved (answered, or its coordinator crashed), then
// a write and a read on every key must succeed; finally Porcupine checks
// the whole client history, per key, against Model (a CAS register with
// expiring values, every operation returning the previous value as it saw
// it and judging expiry with its own NowMs). An operation that failed
// with Error.MaybeApplied, or whose coordinator crashed, is recorded with
// an unknown outcome; one that failed otherwise is discarded (it had no
// effect), which tests the MaybeApplied claim too.
//
// Bugs injects broken acceptors (one that never syncs, one that accepts
// below its promise) and PorcupineOnly and NoDurabilityCheck turn checks
// off, so that the tests show each check failing when it must.
//
// # Running
//
// TestPaxosSim runs 300 seeds (40 under -race); -sim.seeds=N runs N (the
// 10k run: go test ./paxos/paxossim -run '^TestPaxosSim$' -sim.seeds=10000
// -timeout 0), -sim.long 100k, and a failure prints the line that replays
// its seed. TestFastPathCost and TestContentionFigures measure messages
// and rounds per operation (go test -run 'FastPath|ContentionFigures' -v).
package paxossim
