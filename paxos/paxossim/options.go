package paxossim

import (
	"time"

	"github.com/cairndb/cairn/paxos"

	"github.com/cairndb/cairn/sim"
)

// Options describe one simulated run.
type Options struct {
	// Nodes is the number of simulated nodes (3, 5 or 7); each is the
	// acceptor of the keys whose replica list names it, and a coordinator.
	Nodes int
	// Replication is the length of each key's replica list (3 or 5, at
	// most Nodes); the lists differ from key to key.
	Replication int
	// Keys is the number of keys the clients use; fewer keys, more
	// contention.
	Keys int
	// Clients is the number of concurrent clients; each has one operation
	// outstanding at a time, sent to a random node.
	Clients int
	// Steps is the number of simulator events of the chaos phase.
	Steps int
	// Calm runs without a nemesis (the network's own loss and delays
	// remain, as Net says).
	Calm bool
	// Nemesis is the fault schedule of the chaos phase.
	Nemesis sim.NemesisConfig
	// Net overrides the network's behaviour; nil keeps sim's defaults.
	Net *sim.NetConfig
	// DiskLoss is what a crash does to unsynced writes.
	DiskLoss sim.LossMode
	// Lamport selects Lamport ballot clocks (volatile, restarting at 0)
	// instead of HLCs over skewed simulated clocks.
	Lamport bool
	// FenceReads is paxos.Config.FenceReads.
	FenceReads bool
	// RoundTicks, BackoffTicks, MaxBackoffTicks and MaxAttempts are the
	// paxos.Config fields of the same names.
	RoundTicks, BackoffTicks, MaxBackoffTicks, MaxAttempts int
	// OnlyOps, if not empty, restricts the clients to these operations
	// (drawn uniformly); otherwise they use the mix of randomOp.
	OnlyOps []paxos.OpKind
	// Coordinator, if not 0, is the node every client sends to; otherwise
	// each operation goes to a random node.
	Coordinator sim.NodeID
	// ExpiryPercent is the share (0..100) of the clients' writes (SET,
	// SETNX, SETXX, CAS) that carry a deadline, drawn uniformly from 1 ms
	// to MaxTTL after the operation's NowMs (the coordinator's wall
	// clock); a tenth of the others use KEEPTTL.
	ExpiryPercent int
	// MaxTTL bounds the deadlines' distance from NowMs; with a few
	// milliseconds per operation and up to 400 ms of skew between nodes,
	// values expire during the run and coordinators disagree on whether
	// they have.
	MaxTTL time.Duration
	// MinThink and ThinkTime bound a client's pause between two
	// operations, drawn uniformly.
	MinThink, ThinkTime time.Duration
	// NoDurabilityCheck turns off the check that a restarted replica kept
	// what it promised and accepted, so that a test can show the other
	// checks catch a persistence bug by its consequences.
	NoDurabilityCheck bool
	// PorcupineOnly registers no invariant with the simulator (the safety
	// checker, the durability check and the liveness watchdog all report
	// through it), so that a test can show that the linearizability check
	// alone catches a defect.
	PorcupineOnly bool
	// ReplacePercent is the share (0..100) of restarts that replace the
	// node instead: its disk is wiped, as a member removed, wiped and
	// added back, and it answers no Prepare or Accept for a key until it
	// has merged the acceptor states of paxos.RecoveryPeers of the key's
	// other replicas (read directly from live nodes: the model of the
	// pull, whose network the simulation does not cut).
	ReplacePercent int
	// Bugs are deliberate defects, for tests that prove the checks fail.
	Bugs Bugs
	// TraceTail overrides how many trace events a failure report shows.
	TraceTail int
}

// Bugs are defects a test switches on to show that the checks catch them.
type Bugs struct {
	// SkipSync: the acceptor writes its state but never syncs it before
	// replying, so a crash can lose a promise or an acceptance it sent.
	SkipSync bool
	// AcceptBelowPromise: the acceptor ignores its promise when it decides
	// on an Accept (it keeps the promise in its state, so no local check
	// notices).
	AcceptBelowPromise bool
	// NoRecovery: a replaced node answers at once with its empty state,
	// as if it bootstrapped a new cluster.
	NoRecovery bool
}

// OptionsForSeed varies the configuration with the seed: 3, 5 or 7 nodes,
// 3 or 5 replicas per key, 1 to 3 keys, 2 to 5 clients, HLC or Lamport
// ballots, fenced or fast reads, the protocol's timers, and how many
// writes expire how soon.
func OptionsForSeed(seed uint64, steps int) Options {
	rng := sim.NewRand(seed, "paxossim/options")
	nodes := []int{3, 5, 7}[seed%3]
	repl := 3
	if nodes > 3 && rng.IntN(2) == 0 {
		repl = 5
	}
	o := Options{
		Nodes:           nodes,
		Replication:     repl,
		Keys:            1 + rng.IntN(3),
		Clients:         2 + rng.IntN(4),
		Steps:           steps,
		Nemesis:         sim.DefaultNemesisConfig(nodes),
		DiskLoss:        []sim.LossMode{sim.LossPrefix, sim.LossAll}[rng.IntN(2)],
		Lamport:         rng.IntN(2) == 0,
		FenceReads:      rng.IntN(3) == 0,
		RoundTicks:      3 + rng.IntN(4),
		BackoffTicks:    1 + rng.IntN(3),
		MaxBackoffTicks: 8 + rng.IntN(16),
		MaxAttempts:     3 + rng.IntN(6),
		ThinkTime:       time.Duration(5+rng.IntN(30)) * time.Millisecond,
		ExpiryPercent:   []int{0, 20, 50}[rng.IntN(3)],
		MaxTTL:          []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second}[rng.IntN(3)],
	}
	o.Nemesis.Chaos = time.Hour // the chaos phase ends after Steps events
	return o
}
