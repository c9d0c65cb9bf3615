package txnsim

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/sim"
)

// Protocol selects the atomic commit protocol a run simulates.
type Protocol uint8

const (
	// TwoPC is classic two-phase commit: the coordinator decides alone and
	// forces the decision to its own log. Participants that lose it run
	// cooperative termination and may block.
	TwoPC Protocol = iota + 1
	// TwoPCRegister is two-phase commit whose decisions live in the
	// decision register, a Paxos register on three extra nodes: it never
	// blocks once a majority of them is reachable.
	TwoPCRegister
	// ThreePC is three-phase commit with its termination protocol.
	ThreePC
)

// String returns the protocol's name.
func (p Protocol) String() string {
	switch p {
	case TwoPC:
		return "2pc"
	case TwoPCRegister:
		return "2pc+register"
	case ThreePC:
		return "3pc"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// Node IDs: the coordinator is node 1, participants follow, and the
// register replicas (TwoPCRegister) come last.
const (
	coordinatorID sim.NodeID = 1
	registerNodes            = 3
)

// Options describe one simulated run.
type Options struct {
	// Protocol is the commit protocol.
	Protocol Protocol
	// Participants is the number of participant nodes, 2..8. A
	// transaction involves two or more of them.
	Participants int
	// Steps is the number of simulator events of the chaos phase, during
	// which the workload begins transactions and the nemesis injects
	// faults.
	Steps int
	// Nemesis is the fault schedule (its Chaos is ignored: the chaos phase
	// ends after Steps events).
	Nemesis sim.NemesisConfig
	// NoNemesis runs without faults (other than the network's own loss,
	// duplication and reordering), for scripted scenarios.
	NoNemesis bool
	// LoseCoordinatorAt, if positive, crashes the coordinator at that
	// simulated time and never lets it come back: the machine is gone.
	LoseCoordinatorAt time.Duration
	// LoseCoordinatorOnCommit, if positive, loses the coordinator at its
	// n-th commit decision, after the decision is durable and before any
	// message announcing it leaves: the worst moment for two-phase commit.
	LoseCoordinatorOnCommit int
	// MinGap and MaxGap bound the time between two transactions the
	// workload begins; MaxConcurrent bounds the transactions the
	// coordinator drives at once.
	MinGap, MaxGap time.Duration
	MaxConcurrent  int
	// NoVoteProb is the chance that a participant votes no.
	NoVoteProb float64
	// Settle bounds the simulated time, after every fault is healed, in
	// which every participant must know every outcome.
	Settle time.Duration
	// Bugs are deliberate defects, for tests that prove the checks fail.
	Bugs Bugs
	// TraceTail overrides how many trace events a failure report shows.
	TraceTail int
}

// Bugs are defects a test can switch on to show that the checks catch them.
type Bugs struct {
	// SkipVoteSync makes participants send their yes vote without syncing
	// the vote record: a crash can make a participant forget a vote the
	// coordinator counted.
	SkipVoteSync bool
	// SkipDecisionSync makes the coordinator announce its decision without
	// syncing the decision record: a crash can make it forget a commit it
	// announced, and presume abort.
	SkipDecisionSync bool
}

// DefaultOptions returns the options of the CI runs for protocol p: the
// participant count varies with the seed (2 to 5), and the nemesis
// injects every fault the protocol is meant to survive. Three-phase commit
// gets no partitions and no pauses (both defeat its failure detector,
// which is the point of TestThreePCPartition) and loss bursts of 30%
// rather than 50%.
func DefaultOptions(p Protocol, seed uint64, steps int) Options {
	rng := sim.NewRand(seed, "txnsim/options")
	parts := 2 + rng.IntN(4)
	o := Options{
		Protocol:      p,
		Participants:  parts,
		Steps:         steps,
		Nemesis:       sim.DefaultNemesisConfig(nodeCount(p, parts)),
		MinGap:        5 * time.Millisecond,
		MaxGap:        30 * time.Millisecond,
		MaxConcurrent: 1 + rng.IntN(4),
		NoVoteProb:    0.1,
		Settle:        5 * time.Second,
	}
	n := &o.Nemesis
	n.MinGap, n.MaxGap = 50*time.Millisecond, 500*time.Millisecond
	n.MinFault, n.MaxFault = 50*time.Millisecond, time.Second
	n.MaxDown = nodeCount(p, parts)
	if p == ThreePC {
		n.PartitionWeight, n.PauseWeight = 0, 0
		n.LossBurst = 0.3
	}
	return o
}

func nodeCount(p Protocol, participants int) int {
	n := 1 + participants
	if p == TwoPCRegister {
		n += registerNodes
	}
	return n
}

// Validate reports the first field out of range.
func (o Options) Validate() error {
	switch {
	case o.Protocol < TwoPC || o.Protocol > ThreePC:
		return fmt.Errorf("txnsim: unknown protocol %d", uint8(o.Protocol))
	case o.Participants < 2 || o.Participants > 8:
		return fmt.Errorf("txnsim: Participants = %d, want 2..8", o.Participants)
	case o.Steps < 1:
		return fmt.Errorf("txnsim: Steps = %d, want >= 1", o.Steps)
	case o.MinGap <= 0 || o.MaxGap < o.MinGap:
		return fmt.Errorf("txnsim: gaps [%v, %v], want 0 < MinGap <= MaxGap", o.MinGap, o.MaxGap)
	case o.MaxConcurrent < 1:
		return fmt.Errorf("txnsim: MaxConcurrent = %d, want >= 1", o.MaxConcurrent)
	case !(o.NoVoteProb >= 0 && o.NoVoteProb <= 1):
		return fmt.Errorf("txnsim: NoVoteProb = %v, want in [0, 1]", o.NoVoteProb)
	case o.Settle <= 0:
		return fmt.Errorf("txnsim: Settle = %v, want > 0", o.Settle)
	}
	return nil
}
