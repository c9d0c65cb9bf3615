package txnsim

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/txn"
)

// Result summarises a run.
type Result struct {
	// TraceHash identifies the run's trace (same seed, same hash).
	TraceHash uint64
	// Begun is the number of transactions the workload began.
	Begun int
	// Committed and Aborted count the transactions decided each way.
	Committed, Aborted int
	// Blocked is the number of transactions that classic two-phase commit
	// could not terminate after the heal because the coordinator was lost
	// while every participant was uncertain. Always 0 for the other
	// protocols, whose runs fail instead.
	Blocked int
	// CoordinatorLost reports whether the coordinator was lost.
	CoordinatorLost bool
	// Terminations is the number of transactions for which a participant
	// started the termination protocol (a decision request, a register
	// proposal, or a termination round).
	Terminations int
}

// cluster is one seeded run.
type cluster struct {
	opts         Options
	w            *sim.World[msg]
	nem          *sim.Nemesis
	check        *checker
	logger       *slog.Logger
	participants []txn.NodeID
	registers    []txn.NodeID
	lost         bool // the coordinator is gone for good
	commits      int  // commit decisions of the coordinator, for LoseCoordinatorOnCommit
	stopped      bool
	nextTxn      txn.ID
	terminations map[txn.ID]bool
}

// coordinatorNode is what the workload needs from a coordinator adapter.
type coordinatorNode interface {
	sim.Node[msg]
	begin(t txn.ID, parts []txn.NodeID) error
	active() []txn.ID
}

// participantNode is what the liveness check needs from a participant
// adapter.
type participantNode interface {
	sim.Node[msg]
	undecided() []txn.ID
}

// Run plays one seed: the workload and the nemesis for o.Steps events,
// then a heal, then the termination check: within o.Settle every
// participant knows the outcome of every transaction it heard of. Safety
// is checked after every step. The error reports the first violation, or a
// liveness failure of a protocol that should not block.
func Run(seed uint64, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	c, err := newCluster(seed, o)
	if err != nil {
		return Result{}, err
	}
	res, err := c.run()
	res.TraceHash = c.w.TraceHash()
	res.Begun = int(c.nextTxn)
	res.Committed, res.Aborted = c.check.commits, c.check.aborts
	res.CoordinatorLost = c.lost
	res.Terminations = len(c.terminations)
	return res, err
}

func newCluster(seed uint64, o Options) (*cluster, error) {
	c := &cluster{opts: o, check: newChecker(), logger: slog.New(slog.DiscardHandler), terminations: map[txn.ID]bool{}}
	for i := range o.Participants {
		c.participants = append(c.participants, txn.NodeID(int(coordinatorID)+1+i))
	}
	if o.Protocol == TwoPCRegister {
		for i := range registerNodes {
			c.registers = append(c.registers, txn.NodeID(int(coordinatorID)+1+o.Participants+i))
		}
	}
	cfg := sim.DefaultConfig(seed)
	cfg.Nodes = nodeCount(o.Protocol, o.Participants)
	if o.TraceTail > 0 {
		cfg.TraceTail = o.TraceTail
	}
	w, err := sim.New(cfg, sim.Protocol[msg]{Start: c.start, Describe: describe})
	if err != nil {
		return nil, err
	}
	c.w = w
	if !o.NoNemesis {
		ncfg := o.Nemesis
		ncfg.Chaos = time.Hour // the chaos phase ends after Steps events
		ncfg.Leader = func() (sim.NodeID, bool) { return coordinatorID, true }
		if c.nem, err = sim.NewNemesis(w, ncfg); err != nil {
			return nil, err
		}
	}
	w.AddInvariant("atomic commit safety", c.check.Err)
	return c, nil
}

// start builds a node incarnation from its disk.
func (c *cluster) start(h *sim.Host[msg]) sim.Node[msg] {
	recs, err := loadLog(h)
	if err != nil {
		c.check.failf("restart: %v", err)
		return inert{}
	}
	id := txn.NodeID(h.ID())
	switch {
	case h.ID() == coordinatorID && c.lost:
		return inert{}
	case h.ID() == coordinatorID && c.opts.Protocol == ThreePC:
		return c.startThreePCCoordinator(h, recs)
	case h.ID() == coordinatorID:
		return c.startTwoPCCoordinator(h, recs)
	case slices.Contains(c.registers, id):
		return c.startRegister(h, recs)
	case c.opts.Protocol == ThreePC:
		return c.startThreePCParticipant(h, recs)
	}
	return c.startTwoPCParticipant(h, recs)
}

// inert is a node that does nothing: a lost coordinator's machine, or a
// node whose log could not be read (the checker has already failed).
type inert struct{}

func (inert) Deliver(sim.NodeID, msg) {}
func (inert) Tick()                   {}

func (c *cluster) run() (Result, error) {
	if c.nem != nil {
		c.nem.Start()
	}
	c.startWorkload()
	if c.opts.LoseCoordinatorAt > 0 {
		c.w.Schedule(c.opts.LoseCoordinatorAt, "lose coordinator", c.loseCoordinator)
	}
	if err := c.w.RunSteps(c.opts.Steps); err != nil {
		return Result{}, errors.New(c.w.Report(err))
	}
	c.stopped = true
	if c.nem != nil {
		c.nem.HealAll()
	}
	err := c.w.Await(c.opts.Settle, c.settled)
	if err == nil {
		return Result{}, nil
	}
	if c.w.Err() != nil || c.opts.Protocol != TwoPC || !c.lost {
		return Result{}, errors.New(c.w.Report(err))
	}
	blocked, berr := c.blocked()
	if berr != nil {
		return Result{}, errors.New(c.w.Report(berr))
	}
	return Result{Blocked: blocked}, nil
}

// loseCoordinator crashes the coordinator for good.
func (c *cluster) loseCoordinator() {
	if c.lost {
		return
	}
	c.lost = true
	c.w.Note("coordinator lost for good")
	c.w.Crash(coordinatorID)
}

// onCoordinatorCommit is called by a coordinator adapter after its commit
// decision is durable and before it is sent; it reports whether the
// coordinator was lost at that moment (LoseCoordinatorOnCommit).
func (c *cluster) onCoordinatorCommit() bool {
	c.commits++
	if c.opts.LoseCoordinatorOnCommit > 0 && c.commits == c.opts.LoseCoordinatorOnCommit {
		c.loseCoordinator()
		return true
	}
	return false
}

// startWorkload begins a transaction over a random subset (two or more) of
// the participants every MinGap..MaxGap, while the coordinator is up and
// drives fewer than MaxConcurrent.
func (c *cluster) startWorkload() {
	rng := c.w.Stream("workload")
	var next func()
	next = func() {
		if c.stopped {
			return
		}
		gap := c.opts.MinGap + time.Duration(rng.Int64N(int64(c.opts.MaxGap-c.opts.MinGap)+1))
		c.w.After(gap, "workload", next)
		node, ok := c.w.Node(coordinatorID)
		if !ok || c.w.Paused(coordinatorID) {
			return
		}
		coord, ok := node.(coordinatorNode)
		if !ok || len(coord.active()) >= c.opts.MaxConcurrent {
			return
		}
		size := 2 + rng.IntN(len(c.participants)-1)
		var parts []txn.NodeID
		for _, i := range rng.Perm(len(c.participants))[:size] {
			parts = append(parts, c.participants[i])
		}
		slices.Sort(parts)
		c.nextTxn++
		c.check.begin(c.nextTxn, parts)
		if err := coord.begin(c.nextTxn, parts); err != nil {
			c.check.failf("begin t%d: %v", c.nextTxn, err)
		}
	}
	c.w.After(time.Millisecond, "workload", next)
}

// settled is the termination condition: every participant is up and
// knows the outcome of every transaction it heard of, and the coordinator
// (unless lost) has finished every transaction.
func (c *cluster) settled() error {
	for _, id := range c.participants {
		n, ok := c.w.Node(sim.NodeID(id))
		if !ok {
			return fmt.Errorf("participant n%d down", id)
		}
		if u := n.(participantNode).undecided(); len(u) > 0 {
			return fmt.Errorf("participant n%d has not decided %v", id, u)
		}
	}
	if c.lost {
		return nil
	}
	n, ok := c.w.Node(coordinatorID)
	if !ok {
		return errors.New("coordinator down")
	}
	if a := n.(coordinatorNode).active(); len(a) > 0 {
		return fmt.Errorf("coordinator still drives %v", a)
	}
	return nil
}

// blocked counts the transactions left undecided after the heal by
// classic two-phase commit without its coordinator, and checks that each
// is blocked for the one legitimate reason: every participant voted yes
// and none knows the outcome, so cooperative termination cannot decide.
func (c *cluster) blocked() (int, error) {
	undecided := map[txn.ID][]txn.NodeID{}
	for _, id := range c.participants {
		n, ok := c.w.Node(sim.NodeID(id))
		if !ok {
			return 0, fmt.Errorf("participant n%d down after the heal", id)
		}
		for _, t := range n.(participantNode).undecided() {
			undecided[t] = append(undecided[t], id)
		}
	}
	var bad []string
	for t, holders := range undecided {
		if !c.check.allVotedYes(t) || !slices.Equal(holders, c.check.participants[t]) {
			bad = append(bad, fmt.Sprintf("t%d (undecided at %v, participants %v)", t, holders, c.check.participants[t]))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return 0, fmt.Errorf("liveness: undecided although cooperative termination should decide: %s", strings.Join(bad, ", "))
	}
	return len(undecided), nil
}
