// Package sim is cairn's deterministic simulator: it runs a cluster of
// protocol state machines (Raft first, then SWIM gossip, Paxos and
// two-phase commit) on a fake clock, a fake network and fake disks, all
// driven by one seed, so that any failure it finds replays exactly from
// that seed.
//
// # Design
//
// The approach is FoundationDB's simulation testing and TigerBeetle's VOPR
// (see /work/shared/research/anchors-testing.md): the real protocol code
// runs single-threaded against simulated I/O, a seeded nemesis injects
// faults, invariants are checked after every step, and a run is
// identified by (seed, code version). Cairn's protocol cores make this
// cheap: they are pure state machines that take messages, ticks and
// randomness and return messages and effects (DESIGN.md, principle 1).
//
// A World owns, for one seed:
//
//   - the clock: simulated time since the start of the run. It only moves
//     when the next event is taken from the queue.
//   - the event queue: a min-heap of message deliveries, node ticks,
//     restarts, resumptions and scheduled callbacks (client requests,
//     nemesis actions), ordered by (time, sequence number), so that events
//     at the same instant run in the order they were scheduled.
//   - the network (NetConfig): a random delay per message in [MinDelay,
//     MaxDelay] (which reorders messages by itself), random loss and
//     duplication, an extra reordering delay, a link matrix (Links) for
//     partitions of every shape (majority/minority, an isolated node or
//     leader, a bridge, a one-way cut), and a NetFault overlay for loss
//     bursts and delay spikes. Counters in NetStats.
//   - a Disk per node, modelled on Pebble's crashable MemFS: writes are
//     visible at once, Sync makes them durable, and a crash keeps what
//     LossMode says (everything, only synced writes, or a random prefix of
//     each file's unsynced writes).
//   - the nodes: crash (the Node value is discarded; only its Disk
//     survives), restart after a delay (Protocol.Start rebuilds the node
//     from the disk), pause (no ticks, messages wait, as under SIGSTOP).
//   - the trace: every processed event is folded into an FNV-1a hash of a
//     canonical description (time, kind, nodes, Protocol.Describe of the
//     message); the last Config.TraceTail events are kept as text for the
//     failure report.
//
// Randomness comes only from NewRand(seed, stream): PCG from math/rand/v2,
// one stream per concern ("net", "nemesis", "node/<id>/<incarnation>",
// and whatever the workload names), so that drawing one more number in the
// workload does not move every network delay.
//
// # Plugging a protocol in
//
// An adapter provides a Protocol[M] for its message type M:
//
//	sim.Protocol[raftpb.Message]{
//		Start: func(h *sim.Host[raftpb.Message]) sim.Node[raftpb.Message] {
//			// Rebuild the state machine from h.Disk() (empty on the first
//			// start); keep h to send messages and persist state.
//		},
//		Describe: func(m raftpb.Message) string { return m.String() },
//	}
//
// The Node it returns has two methods, Deliver(from, msg) and Tick(). In
// them the adapter steps its pure core and carries out the outputs: it
// persists to h.Disk() (Append/Truncate/WriteFile, then Sync before
// acting on anything that must survive a crash), sends with h.Send, and
// reports client results through callbacks of its own. It draws
// randomness only from h.Rand(). A crash simply drops the Node; there is
// no Crash method to forget to implement.
//
// The test then builds a World with New, registers invariants with
// AddInvariant (checked after every step; e.g. "at most one leader per
// term", "committed entries never change"), starts a Nemesis for the
// chaos phase, drives clients with Schedule/After, records their
// operations in a History, and after Nemesis.HealAll checks liveness with
// Await (a leader is elected and pending proposals commit within a bound)
// and linearizability with porcupinekv.CheckLinearizable. A client reaches
// a node through World.Node and a type assertion to the adapter's type.
// demo_test.go does all of this for a toy primary-backup register, and
// shows a buggy variant being caught.
//
// # Running and replaying seeds
//
// RunSeeds runs a test function over many seeds, in parallel, and on
// failure prints the error (World.Report adds the trace tail) and one
// line that replays the smallest failing seed it saw:
//
//	sim: replay: go test ./sim -run '^TestPrimaryBackupSim$' -sim.seed=17 -sim.steps=2000 -v
//
// Flags: -sim.seeds N (default: the test's own, 1000 for CI-sized
// tests), -sim.seed S (replay one seed), -sim.start S, -sim.steps N,
// -sim.long (LongSeeds = 100k seeds), -sim.workers N. CheckDeterminism
// runs a seed twice and compares trace hashes; every protocol's
// simulation tests should call it on a few seeds.
//
// # Hazards
//
// HAZARD: map iteration order is random in Go. A node, an adapter, an
// invariant or a workload that iterates a map and lets the order reach a
// message, a disk write, a random draw or the trace breaks replay. Iterate
// sorted keys (the Disk does).
//
// HAZARD: time.Now, time.Since, timers and tickers read the real clock.
// Inside a World only World.Now / Host.Now exist; protocol cores count
// ticks. (RunSeeds uses the real clock for its log line only.)
//
// HAZARD: goroutines and channels make the schedule nondeterministic. A
// World is single-threaded; protocol code run under it must not spawn
// goroutines. Seeds may run in parallel only because they share nothing.
//
// HAZARD: the global math/rand and math/rand/v2 functions are seeded
// randomly. Use Host.Rand, World.Stream or NewRand.
//
// HAZARD: Protocol.Describe must be canonical: formatting a pointer
// (%v of a struct holding one) prints an address that differs between
// runs, and the trace hashes then differ although the behaviour is the
// same.
//
// HAZARD: state shared between seeds (package variables, caches) makes a
// seed's outcome depend on the seeds run before it, so that a replay of
// one seed does not fail. Build everything per seed.
//
// HAZARD: the trace hash depends on the code: a change to the protocol,
// the workload or the simulator legitimately changes every seed's trace.
// A seed replays only with the commit it failed on.
//
// HAZARD: a Host belongs to one incarnation. After a crash its Send is a
// no-op, so callbacks of a dead incarnation cannot act, but a node that
// keeps references to another incarnation's state would smuggle volatile
// state across a crash.
//
// HAZARD: a Disk does not model write errors, bit rot or misdirected
// writes; LossPrefix keeps a prefix per file, which is what a write-ahead
// log with per-record checksums recovers to, not arbitrary corruption.
package sim
