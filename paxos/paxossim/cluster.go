package paxossim

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// Result summarises a run.
type Result struct {
	// TraceHash identifies the run's trace (same seed, same hash).
	TraceHash uint64
	// Ops counts client operations invoked (final ones included).
	Ops int
	// Succeeded counts operations answered with a result; Applied those
	// that wrote; Unknown those whose outcome the client never learned;
	// Failed those refused with no effect (discarded).
	Succeeded, Applied, Unknown, Failed int
	// Expired counts answers that found the register's value expired at
	// the operation's NowMs; LiveDeadline those that found a live value
	// with a deadline.
	Expired, LiveDeadline int
	// Chosen counts operations the checker saw chosen.
	Chosen int
	// Stats sums the proposers' counters over every incarnation.
	Stats paxos.Stats
	// Messages counts Paxos messages sent, by type.
	Messages map[paxos.MsgType]int
	// ClientStats and ClientMessages are Stats and Messages when the
	// clients' operations are all resolved and the network has been quiet
	// for a second, before the final operations: the cost of the clients'
	// workload alone.
	ClientStats    paxos.Stats
	ClientMessages map[paxos.MsgType]int
	// Net is the network's account.
	Net sim.NetStats
	// Faults counts the nemesis' faults by kind.
	Faults map[sim.FaultKind]int
	// Replaced counts restarts that wiped the node (Options.ReplacePercent);
	// Recovered the keys replaced nodes caught up on; RefusedRecovering
	// the Prepares and Accepts they left unanswered meanwhile.
	Replaced, Recovered, RefusedRecovering int
}

// cluster is one seeded run.
type cluster struct {
	opts     Options
	w        *sim.World[paxos.Message]
	nem      *sim.Nemesis
	check    *Checker
	hist     sim.History
	keys     []string
	replicas map[string][]paxos.NodeID
	skew     []time.Duration
	nextID   uint64
	stopped  bool
	// inflight counts client operations not yet resolved.
	inflight int
	// lastSeen is the last value observed per key, for CAS expectations.
	lastSeen map[string]string
	// behind lists, per key, the replaced replicas not caught up yet.
	behind map[string]map[sim.NodeID]bool
	res    Result
}

// Run plays one seed: chaos for o.Steps events with clients running, a
// heal, the liveness bound, then the linearizability check.
func Run(seed uint64, o Options) (Result, error) {
	c, err := newCluster(seed, o)
	if err != nil {
		return Result{}, err
	}
	err = c.run()
	c.res.TraceHash = c.w.TraceHash()
	c.res.Ops = c.hist.Len()
	c.res.Chosen = c.check.Chosen()
	c.res.Net = c.w.Stats()
	for _, k := range []sim.FaultKind{sim.FaultPartition, sim.FaultCrash, sim.FaultPause, sim.FaultLoss, sim.FaultDelay} {
		c.res.Faults[k] = c.nem.Count(k)
	}
	return c.res, err
}

func newCluster(seed uint64, o Options) (*cluster, error) {
	if o.Replication < 1 || o.Replication > o.Nodes || o.Keys < 1 || o.Clients < 1 {
		return nil, fmt.Errorf("paxossim: bad options %+v", o)
	}
	cfg := sim.DefaultConfig(seed)
	cfg.Nodes = o.Nodes
	if o.Net != nil {
		cfg.Net = *o.Net
	}
	if o.DiskLoss != 0 {
		cfg.DiskLoss = o.DiskLoss
	}
	if o.TraceTail > 0 {
		cfg.TraceTail = o.TraceTail
	}
	c := &cluster{
		opts: o, replicas: map[string][]paxos.NodeID{}, lastSeen: map[string]string{}, behind: map[string]map[sim.NodeID]bool{},
		res: Result{Messages: map[paxos.MsgType]int{}, Faults: map[sim.FaultKind]int{}},
	}
	// Each key's preference list is a random set of Replication nodes, so
	// that coordinators are sometimes replicas and sometimes not.
	rng := sim.NewRand(seed, "paxossim/placement")
	counts := map[string]int{}
	for i := range o.Keys {
		k := fmt.Sprintf("k%d", i)
		c.keys = append(c.keys, k)
		for _, j := range rng.Perm(o.Nodes)[:o.Replication] {
			c.replicas[k] = append(c.replicas[k], paxos.NodeID(j+1))
		}
		counts[k] = o.Replication
	}
	for range o.Nodes {
		c.skew = append(c.skew, time.Duration(rng.Int64N(int64(400*time.Millisecond)))-200*time.Millisecond)
	}
	c.check = NewChecker(counts, !o.NoDurabilityCheck)
	w, err := sim.New(cfg, sim.Protocol[paxos.Message]{Start: c.start, Describe: paxos.Message.String})
	if err != nil {
		return nil, err
	}
	c.w = w
	ncfg := o.Nemesis
	if o.Calm {
		ncfg = sim.DefaultNemesisConfig(o.Nodes)
	}
	if c.nem, err = sim.NewNemesis(w, ncfg); err != nil {
		return nil, err
	}
	if !o.PorcupineOnly {
		w.AddInvariant("paxos safety", c.check.Err)
	}
	return c, nil
}

func (c *cluster) count(t paxos.MsgType) { c.res.Messages[t]++ }

// addStats adds the growth of one proposer's counters since last.
func (c *cluster) addStats(now, last paxos.Stats) {
	s := &c.res.Stats
	s.Proposals += now.Proposals - last.Proposals
	s.Succeeded += now.Succeeded - last.Succeeded
	s.Failed += now.Failed - last.Failed
	s.Unknown += now.Unknown - last.Unknown
	s.Rounds += now.Rounds - last.Rounds
	s.AcceptRounds += now.AcceptRounds - last.AcceptRounds
	s.ContentionRetries += now.ContentionRetries - last.ContentionRetries
	s.Timeouts += now.Timeouts - last.Timeouts
	s.Finished += now.Finished - last.Finished
	s.Repairs += now.Repairs - last.Repairs
	s.Commits += now.Commits - last.Commits
	s.FastReads += now.FastReads - last.FastReads
}

// opBoundTicks is the watchdog's bound: a node answers an operation within
// the proposer's MaxOpTicks once it runs, and it may wait behind the other
// clients' operations on its key first.
func (c *cluster) opBoundTicks() int {
	perOp := c.opts.MaxAttempts * (2*c.opts.RoundTicks + c.opts.MaxBackoffTicks)
	return (c.opts.Clients+2)*perOp + 2
}

func (c *cluster) node(id sim.NodeID) (*Node, bool) {
	n, ok := c.w.Node(id)
	if !ok {
		return nil, false
	}
	nn := n.(*Node)
	return nn, nn.prop != nil
}

func (c *cluster) run() error {
	if !c.opts.Calm {
		c.nem.Start()
	}
	c.startClients()
	if err := c.w.RunSteps(c.opts.Steps); err != nil {
		return errors.New(c.w.Report(err))
	}
	c.nem.HealAll()
	c.stopped = true
	// Liveness: every client operation is resolved (answered, or its
	// coordinator crashed and the client gave up) within the bound.
	if err := c.w.Await(60*time.Second, func() error {
		if c.inflight > 0 {
			return fmt.Errorf("%d client operations unresolved", c.inflight)
		}
		return nil
	}); err != nil {
		return errors.New(c.w.Report(err))
	}
	if err := c.w.RunFor(time.Second); err != nil {
		return errors.New(c.w.Report(err))
	}
	c.res.ClientStats, c.res.ClientMessages = c.res.Stats, maps.Clone(c.res.Messages)
	if err := c.finalOps(); err != nil {
		return errors.New(c.w.Report(err))
	}
	ops := c.hist.Operations(Unknown())
	if ok, details := CheckLinearizable(ops, 30*time.Second); !ok {
		if c.opts.TraceTail > 0 {
			details += "\n" + c.w.TraceTail()
		}
		return fmt.Errorf("seed %d: %s", c.w.Seed(), details)
	}
	return nil
}

// finalOps is the second half of liveness: after the heal, a write and
// then a read on every key, each through a different node, succeed within
// the bound (a write that fails for a reason with no effect is retried,
// at most three times).
func (c *cluster) finalOps() error {
	for i, key := range c.keys {
		set := paxos.Op{Kind: paxos.OpSet, Value: []byte("final-" + key)}
		if err := c.finalOp(key, set, sim.NodeID(1+i%c.opts.Nodes)); err != nil {
			return err
		}
		if err := c.finalOp(key, paxos.Op{Kind: paxos.OpGet}, sim.NodeID(1+(i+1)%c.opts.Nodes)); err != nil {
			return err
		}
	}
	return nil
}

func (c *cluster) finalOp(key string, op paxos.Op, via sim.NodeID) error {
	const client = 1000
	for try := 0; try < 3; try++ {
		op.NowMs = c.wallMs(via) // each try is a new operation
		out, err := c.call(client, key, op, via, 20*time.Second)
		if err != nil {
			return err
		}
		if out.Err == nil {
			return nil
		}
		c.w.Note(fmt.Sprintf("final %v on %q failed: %v", op.Kind, key, out.Err))
	}
	return fmt.Errorf("final %v on %q failed three times after the heal", op.Kind, key)
}

// call runs one operation of client through node via, waits up to within
// for its answer, and records it in the history as the clients do: a
// result completes it, an error that may have applied leaves it open, any
// other error discards it. The error is for an operation refused or not
// answered in time.
func (c *cluster) call(client int, key string, op paxos.Op, via sim.NodeID, within time.Duration) (paxos.Outcome, error) {
	in := inputOf(key, op)
	id := c.hist.Invoke(client, c.w.Now(), in)
	var out *paxos.Outcome
	n, ok := c.node(via)
	if !ok {
		c.hist.Discard(id)
		return paxos.Outcome{}, fmt.Errorf("node %d is down", via)
	}
	if err := n.Submit(key, op, func(o paxos.Outcome) { out = &o }); err != nil {
		c.hist.Discard(id)
		return paxos.Outcome{}, fmt.Errorf("%v on %q refused: %v", op.Kind, key, err)
	}
	err := c.w.Await(within, func() error {
		if out == nil {
			return fmt.Errorf("%v on %q via node %d not answered", op.Kind, key, via)
		}
		return nil
	})
	if err != nil {
		return paxos.Outcome{}, err
	}
	if out.Err == nil {
		c.hist.Complete(id, c.w.Now(), outputOf(out.Result))
		c.res.Succeeded++
		return *out, nil
	}
	var e *paxos.Error
	if errors.As(out.Err, &e) && e.MaybeApplied && op.Kind != paxos.OpGet {
		c.res.Unknown++ // stays open: it may take effect
	} else {
		c.hist.Discard(id)
	}
	return *out, nil
}
