package raftsim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

// Options describe one simulated run.
type Options struct {
	// Nodes is the number of hosts (3, 5 or 7).
	Nodes int
	// Steps is the number of simulator events of the chaos phase.
	Steps int
	// PreVote and CheckQuorum select those Raft features.
	PreVote, CheckQuorum bool
	// LeaseReads serves reads from the leader's lease (needs CheckQuorum).
	LeaseReads bool
	// MaxInflight is raft's MaxInflightMsgs.
	MaxInflight int
	// SnapshotEvery takes a snapshot and compacts the log every that many
	// applied entries (0: never), so that lagging nodes get snapshots.
	SnapshotEvery uint64
	// Churn makes the leader change the membership during the chaos
	// phase: remove a voter, add it back as a learner, promote it.
	Churn bool
	// Transfers makes the leader hand leadership to a random voter now and
	// then.
	Transfers bool
	// Nemesis is the fault schedule; its Leader field is filled in.
	Nemesis sim.NemesisConfig
	// Clients is the number of concurrent clients.
	Clients int
	// Bugs are deliberate defects, for tests that prove the checks fail.
	Bugs Bugs
	// TraceTail overrides how many trace events a failure report shows.
	TraceTail int
}

// Bugs are defects a test can switch on to show that the checks catch them.
type Bugs struct {
	// SkipLogSync never syncs the log file: a crash loses entries the node
	// acknowledged.
	SkipLogSync bool
}

// OptionsForSeed varies the configuration with the seed, so that many
// seeds cover 3, 5 and 7 nodes, every mix of pre-vote, check-quorum and
// lease reads, snapshots, membership changes and leadership transfers.
func OptionsForSeed(seed uint64, steps int) Options {
	rng := sim.NewRand(seed, "raftsim/options")
	nodes := []int{3, 5, 7}[seed%3]
	o := Options{
		Nodes:         nodes,
		Steps:         steps,
		PreVote:       rng.IntN(2) == 0,
		CheckQuorum:   rng.IntN(2) == 0,
		MaxInflight:   1 + rng.IntN(8),
		SnapshotEvery: []uint64{0, 5, 20, 100}[rng.IntN(4)],
		Churn:         nodes >= 5 && rng.IntN(2) == 0,
		Transfers:     rng.IntN(3) == 0,
		Nemesis:       sim.DefaultNemesisConfig(nodes),
		Clients:       1 + rng.IntN(4),
	}
	o.Nemesis.Chaos = time.Hour // the chaos phase ends after Steps events
	if o.CheckQuorum && rng.IntN(3) == 0 {
		// Lease reads trust that every node's ticks keep pace. A paused
		// process breaks that (the documented HAZARD), so these seeds run
		// without pauses; TestLeaseReadsNeedBoundedPauses shows why.
		o.LeaseReads = true
		o.Nemesis.PauseWeight = 0
	}
	return o
}

// cluster is one seeded run.
type cluster struct {
	opts    Options
	w       *sim.World[raftpb.Message]
	nem     *sim.Nemesis
	check   *Checker
	hist    sim.History
	seq     uint64
	stopped bool
	// confChanges counts the membership changes proposed.
	confChanges int
}

// Result summarises a run.
type Result struct {
	// TraceHash identifies the run's trace (same seed, same hash).
	TraceHash uint64
	// Ops is the number of client operations in the history.
	Ops int
	// Leaders is the number of terms that had a leader.
	Leaders int
	// Applied is the number of entries applied by the cluster.
	Applied int
	// ConfChanges is the number of membership changes proposed.
	ConfChanges int
}

// Run plays one seed: chaos for o.Steps events with clients running, a
// heal, the liveness bound, then the linearizability check.
func Run(seed uint64, o Options) (Result, error) {
	c, err := newCluster(seed, o)
	if err != nil {
		return Result{}, err
	}
	err = c.run()
	return Result{TraceHash: c.w.TraceHash(), Ops: c.hist.Len(), Leaders: len(c.check.leaders), Applied: len(c.check.applied), ConfChanges: c.confChanges}, err
}

func newCluster(seed uint64, o Options) (*cluster, error) {
	cfg := sim.DefaultConfig(seed)
	cfg.Nodes = o.Nodes
	if o.TraceTail > 0 {
		cfg.TraceTail = o.TraceTail
	}
	c := &cluster{opts: o, check: NewChecker()}
	w, err := sim.New(cfg, sim.Protocol[raftpb.Message]{Start: c.start, Describe: func(m raftpb.Message) string { return m.String() }})
	if err != nil {
		return nil, err
	}
	c.w = w
	ncfg := o.Nemesis
	ncfg.Leader = c.leader
	if c.nem, err = sim.NewNemesis(w, ncfg); err != nil {
		return nil, err
	}
	w.AddInvariant("raft safety", c.check.Err)
	return c, nil
}

func (c *cluster) initialVoters() []uint64 {
	ids := make([]uint64, c.opts.Nodes)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

func (c *cluster) node(id sim.NodeID) (*Node, bool) {
	n, ok := c.w.Node(id)
	if !ok {
		return nil, false
	}
	rn := n.(*Node)
	return rn, rn.rn != nil
}

// leader returns the up node that leads the highest term.
func (c *cluster) leader() (sim.NodeID, bool) {
	best, bestTerm := sim.NodeID(0), uint64(0)
	for id := sim.NodeID(1); int(id) <= c.opts.Nodes; id++ {
		if n, ok := c.node(id); ok {
			if lead, term := n.Leader(); lead && term > bestTerm {
				best, bestTerm = id, term
			}
		}
	}
	return best, best != 0
}

func (c *cluster) run() error {
	c.nem.Start()
	c.startClients()
	if c.opts.Churn {
		c.w.After(time.Second, "churn", c.churn)
	}
	if c.opts.Transfers {
		c.w.After(1500*time.Millisecond, "transfer", c.transfer)
	}
	if err := c.w.RunSteps(c.opts.Steps); err != nil {
		return errors.New(c.w.Report(err))
	}
	c.nem.HealAll()
	c.stopped = true // no more membership changes or transfers
	if err := c.w.Await(20*time.Second, c.caughtUp); err != nil {
		return errors.New(c.w.Report(err))
	}
	if err := c.finalWrite(); err != nil {
		return errors.New(c.w.Report(err))
	}
	ops := c.hist.Operations(porcupinekv.Unknown())
	if ok, details := porcupinekv.CheckLinearizable(ops, 20*time.Second, ""); !ok {
		if c.opts.TraceTail > 0 {
			details += "\n" + c.w.TraceTail()
		}
		return fmt.Errorf("seed %d: %s", c.w.Seed(), details)
	}
	return nil
}

// caughtUp is the liveness condition: a leader leads, and every member of
// its configuration is up and has applied everything the leader holds.
func (c *cluster) caughtUp() error {
	id, ok := c.leader()
	if !ok {
		return errors.New("no leader")
	}
	l, _ := c.node(id)
	st := l.rn.Status()
	if st.Commit < st.LastIndex {
		return fmt.Errorf("leader %d committed %d of %d", id, st.Commit, st.LastIndex)
	}
	members := append(append([]uint64{}, st.Config.Voters...), st.Config.Learners...)
	for _, m := range members {
		n, ok := c.node(sim.NodeID(m))
		if !ok {
			return fmt.Errorf("member %d down", m)
		}
		if n.applied != st.LastIndex {
			return fmt.Errorf("member %d applied %d of %d; leader %d: %s; member: %s", m, n.applied, st.LastIndex, id, describeStatus(l), describeStatus(n))
		}
	}
	return nil
}

// finalWrite is the second half of liveness: a write submitted after the
// heal commits within the bound. Like a real client it retries, with the
// same sequence number (the state machine executes it once), when the
// leader refuses it (a transfer that began before the heal is still
// running) or it is not applied within a second (the leader it went to
// was deposed and its proposal lost).
func (c *cluster) finalWrite() error {
	in := porcupinekv.Input{Kind: porcupinekv.OpPut, Key: "final", Value: "1"}
	c.seq++
	seq := c.seq
	const client = 1000
	op := c.hist.Invoke(client, c.w.Now(), in)
	var sentAt time.Duration
	sent, done := false, false
	return c.w.Await(10*time.Second, func() error {
		if done {
			return nil
		}
		if sent && c.w.Now()-sentAt < time.Second {
			return errors.New("final write not applied yet")
		}
		id, ok := c.leader()
		if !ok {
			return errors.New("no leader for the final write")
		}
		l, _ := c.node(id)
		sent = l.Submit(client, seq, in, func(out porcupinekv.Output) {
			if !done {
				c.hist.Complete(op, c.w.Now(), out)
				done = true
			}
		})
		sentAt = c.w.Now()
		if !sent {
			return fmt.Errorf("leader %d refused the final write: %s", id, describeStatus(l))
		}
		return errors.New("final write not applied yet")
	})
}

// startClients runs o.Clients clients that each send one request at a time
// to a random up node, giving up after a timeout (outcome unknown).
func (c *cluster) startClients() {
	rng := c.w.Stream("clients")
	const timeout = time.Second
	for client := range c.opts.Clients {
		var next func()
		next = func() {
			if c.stopped {
				return
			}
			c.seq++
			seq := c.seq
			key := string(rune('a' + rng.IntN(3)))
			var in porcupinekv.Input
			switch r := rng.IntN(10); {
			case r < 4:
				in = porcupinekv.Input{Kind: porcupinekv.OpGet, Key: key}
			case r < 8:
				in = porcupinekv.Input{Kind: porcupinekv.OpPut, Key: key, Value: fmt.Sprint(seq)}
			default:
				in = porcupinekv.Input{Kind: porcupinekv.OpCAS, Key: key, Expected: fmt.Sprint(seq - 1 - uint64(rng.IntN(4))), Value: fmt.Sprint(seq)}
			}
			think := time.Duration(rng.IntN(20)) * time.Millisecond
			target := sim.NodeID(1 + rng.IntN(c.opts.Nodes))
			n, ok := c.node(target)
			if !ok || c.w.Paused(target) {
				c.w.After(think+10*time.Millisecond, "client", next)
				return
			}
			op := c.hist.Invoke(client, c.w.Now(), in)
			done := false
			accepted := n.Submit(uint64(client), seq, in, func(out porcupinekv.Output) {
				if done {
					return
				}
				done = true
				c.hist.Complete(op, c.w.Now(), out)
				c.w.Note(fmt.Sprintf("client %d via n%d: %s", client, target, porcupinekv.Model.DescribeOperation(in, out)))
				c.w.After(think, "client", next)
			})
			if !accepted {
				c.hist.Discard(op)
				c.w.After(think+10*time.Millisecond, "client", next)
				return
			}
			if done {
				return
			}
			c.w.After(timeout, "client timeout", func() {
				if done {
					return
				}
				done = true
				if in.Kind == porcupinekv.OpGet {
					c.hist.Discard(op) // a read has no effect either way
				}
				next()
			})
		}
		c.w.After(time.Duration(client+1)*time.Millisecond, "client", next)
	}
}

// churn changes the membership one step at a time through the leader:
// promote a learner, else add back a removed host as a learner, else remove
// a random follower while more than three voters remain.
func (c *cluster) churn() {
	if c.stopped {
		return
	}
	rng := c.w.Stream("churn")
	defer c.w.After(time.Duration(500+rng.IntN(1500))*time.Millisecond, "churn", c.churn)
	id, ok := c.leader()
	if !ok {
		return
	}
	l, _ := c.node(id)
	cs := l.rn.Status().Config
	if len(cs.VotersOutgoing) > 0 {
		return // a joint configuration is being left
	}
	in := map[uint64]bool{}
	for _, v := range cs.Voters {
		in[v] = true
	}
	for _, v := range cs.Learners {
		in[v] = true
	}
	var ch raftpb.ConfChangeSingle
	var out []uint64
	for h := uint64(1); h <= uint64(c.opts.Nodes); h++ {
		if !in[h] {
			out = append(out, h)
		}
	}
	switch {
	case len(cs.Learners) > 0:
		ch = raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode, NodeID: cs.Learners[rng.IntN(len(cs.Learners))]}
	case len(out) > 0:
		ch = raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode, NodeID: out[rng.IntN(len(out))]}
	case len(cs.Voters) > 3:
		victim := cs.Voters[rng.IntN(len(cs.Voters))]
		if victim == uint64(id) {
			return
		}
		ch = raftpb.ConfChangeSingle{Type: raftpb.ConfChangeRemoveNode, NodeID: victim}
	default:
		return
	}
	cc := raftpb.ConfChange{Transition: raftpb.TransitionAuto, Changes: []raftpb.ConfChangeSingle{ch}}
	switch err := l.rn.ProposeConfChange(cc); {
	case err == nil:
		c.w.Note(fmt.Sprintf("churn: leader %d proposes %s", id, cc))
		c.confChanges++
	case !errors.Is(err, raft.ErrProposalDropped):
		// Anything but "not now" means the adapter builds bad changes.
		c.check.failf("churn: leader %d refused %s: %v", id, cc, err)
	}
	l.process()
}

// transfer asks the leader to hand leadership to a random other voter.
func (c *cluster) transfer() {
	if c.stopped {
		return
	}
	rng := c.w.Stream("transfer")
	defer c.w.After(time.Duration(1000+rng.IntN(3000))*time.Millisecond, "transfer", c.transfer)
	id, ok := c.leader()
	if !ok {
		return
	}
	l, _ := c.node(id)
	voters := l.rn.Status().Config.Voters
	to := voters[rng.IntN(len(voters))]
	if to == uint64(id) {
		return
	}
	if l.rn.TransferLeader(to) == nil {
		c.w.Note(fmt.Sprintf("transfer: leader %d hands over to %d", id, to))
	}
	l.process()
}

func describeStatus(n *Node) string {
	st := n.rn.Status()
	s := fmt.Sprintf("term=%d commit=%d applied=%d last=%d config=%s", st.Term, st.Commit, st.Applied, st.LastIndex, st.Config)
	for _, id := range slices.Sorted(maps.Keys(st.Progress)) {
		s += fmt.Sprintf("\n  %d: %s", id, func() string { p := st.Progress[id]; return p.String() }())
	}
	return s
}
