package nemesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/verify/cluster"
)

// Config configures a Nemesis.
type Config struct {
	// Kinds are the faults to inject; empty means none.
	Kinds []Kind
	// Seed fixes the schedule.
	Seed uint64
	// Interval is the healthy time between faults (jittered ±50%,
	// default 5 s); Hold how long a fault lasts (jittered ±50%, default
	// 5 s).
	Interval, Hold time.Duration
	// RestartTimeout bounds a restart or a rejoin (default 60 s).
	RestartTimeout time.Duration
	// Logger receives a line per fault (nil = slog.Default()).
	Logger *slog.Logger
}

// Event is one fault on the timeline.
type Event struct {
	Kind Kind `json:"kind"`
	// Desc says what was done to whom.
	Desc string `json:"desc"`
	// Start and End are times since the run's start; End is 0 while the
	// fault lasts.
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	// Err is what went wrong injecting or healing it.
	Err string `json:"err,omitempty"`
}

// Nemesis injects faults into a cluster on a schedule.
type Nemesis struct {
	cfg   Config
	c     cluster.Cluster
	clock func() time.Duration
	log   *slog.Logger
	plan  *Planner

	mu struct {
		sync.Mutex
		events []Event
	}
}

// New checks that the cluster has the levers the kinds need and returns
// a Nemesis whose times come from clock (the recorder's).
func New(c cluster.Cluster, clock func() time.Duration, cfg Config) (*Nemesis, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 5 * time.Second
	}
	if cfg.RestartTimeout <= 0 {
		cfg.RestartTimeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	_, attached := c.(*cluster.Attached)
	for _, k := range cfg.Kinds {
		switch {
		case k.network() && c.Network() == nil:
			return nil, fmt.Errorf("nemesis %s needs network faults, which %s lacks", k, c.Describe())
		case k == Clock:
			for i := range c.Size() {
				if c.Member(i).HTTPAddr == "" {
					return nil, fmt.Errorf("nemesis clock needs every member's admin address (and --enable-fault-injection); %s has none", c.Member(i).Name)
				}
			}
		case !k.network() && attached:
			return nil, fmt.Errorf("nemesis %s needs process control, which an attached cluster lacks", k)
		case k == Member && c.Size() < 3:
			return nil, fmt.Errorf("nemesis member needs at least 3 members (removing one of %d loses the quorum)", c.Size())
		}
	}
	n := &Nemesis{cfg: cfg, c: c, clock: clock, log: cfg.Logger}
	if len(cfg.Kinds) > 0 {
		n.plan = NewPlanner(cfg.Kinds, c.Size(), cfg.Seed, cfg.Interval, cfg.Hold)
	}
	return n, nil
}

// Events returns the timeline so far.
func (n *Nemesis) Events() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.mu.events)
}

func (n *Nemesis) begin(k Kind, desc string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.events = append(n.mu.events, Event{Kind: k, Desc: desc, Start: n.clock()})
	n.log.Info("verify: fault", "kind", k.String(), "desc", desc)
	return len(n.mu.events) - 1
}

func (n *Nemesis) end(i int, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.events[i].End = n.clock()
	if err != nil {
		if n.mu.events[i].Err != "" {
			n.mu.events[i].Err += "; "
		}
		n.mu.events[i].Err += err.Error()
		n.log.Warn("verify: fault", "kind", n.mu.events[i].Kind.String(), "err", err)
	}
}

// Run injects faults until ctx is done, then returns with the last fault
// healed (Heal still must run: a restart may have failed).
func (n *Nemesis) Run(ctx context.Context) {
	if n.plan == nil {
		<-ctx.Done()
		return
	}
	for {
		step := n.plan.Next()
		if !sleep(ctx, step.Wait) {
			return
		}
		var undos []func() error
		var idx []int
		for _, f := range step.Faults {
			i, undo := n.inject(ctx, f)
			idx, undos = append(idx, i), append(undos, undo)
		}
		sleep(ctx, step.Hold)
		// Undo in reverse: a member killed inside a partition restarts
		// into it, and the partition heals after.
		for j := len(undos) - 1; j >= 0; j-- {
			var err error
			if undos[j] != nil {
				err = undos[j]()
			}
			n.end(idx[j], err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// inject starts one fault and returns its timeline index and how to undo
// it (nil if there is nothing to undo).
func (n *Nemesis) inject(ctx context.Context, f Fault) (int, func() error) {
	leader := -1
	if f.Shape == "leader" || strings.HasPrefix(f.Shape, "one-way") {
		leader = n.leader(ctx)
	}
	name := func(i int) string {
		s := n.c.Member(i).Name
		if i == leader {
			s += "(leader)"
		}
		return s
	}
	names := func(idx []int) string {
		var s []string
		for _, i := range idx {
			s = append(s, name(i))
		}
		return strings.Join(s, " ")
	}
	switch f.Kind {
	case Kill:
		targets := f.Targets(leader)
		i := n.begin(Kill, "kill -9 "+names(targets))
		var errs []error
		for _, t := range targets {
			if n.c.State(t) != cluster.Stopped {
				errs = append(errs, n.c.Kill(t))
			}
		}
		if err := errors.Join(errs...); err != nil {
			n.end(i, err)
		}
		return i, func() error { return n.restart(targets) }
	case Pause:
		targets := f.Targets(leader)
		i := n.begin(Pause, "SIGSTOP "+names(targets))
		var paused []int
		for _, t := range targets {
			if n.c.State(t) == cluster.Running {
				if err := n.c.Pause(t); err != nil {
					n.end(i, err)
				} else {
					paused = append(paused, t)
				}
			}
		}
		return i, func() error {
			var errs []error
			for _, t := range paused {
				errs = append(errs, n.c.Resume(t))
			}
			return errors.Join(errs...)
		}
	case Partition:
		links, desc := PartitionLinks(f, leader, name)
		return n.network(Partition, "partition: "+desc, cluster.Faults{Cut: links})
	case Loss, Delay:
		targets := f.Targets(-1)
		faults := cluster.Faults{}
		var desc string
		if f.Kind == Loss {
			faults.Loss = map[int]float64{}
			for _, t := range targets {
				faults.Loss[t] = f.Loss
			}
			desc = fmt.Sprintf("drop %.0f%% of the peer packets of %s", 100*f.Loss, names(targets))
		} else {
			faults.Delay = map[int]time.Duration{}
			for _, t := range targets {
				faults.Delay[t] = f.Delay
			}
			desc = fmt.Sprintf("delay the peer packets of %s by %v", names(targets), f.Delay)
		}
		return n.network(f.Kind, desc, faults)
	case Clock:
		return n.skew(ctx, f, f.Targets(leader), names)
	case Member:
		v := f.Targets(leader)[0]
		i := n.begin(Member, fmt.Sprintf("replace %s: remove, wipe, re-add as a learner on a new peer URL, promote", name(v)))
		err := n.replace(ctx, v)
		n.end(i, err)
		return i, nil
	}
	panic(fmt.Sprintf("nemesis: unknown kind %v", f.Kind))
}

// skew moves the targets' clocks by f.Skew (each a little differently, so
// that two skewed members disagree too) and returns the undo.
func (n *Nemesis) skew(ctx context.Context, f Fault, targets []int, names func([]int) string) (int, func() error) {
	i := n.begin(Clock, fmt.Sprintf("skew the wall clock of %s by %v", names(targets), f.Skew))
	var skewed []int
	var errs []error
	for j, t := range targets {
		if n.c.State(t) != cluster.Running {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := cluster.SetClockOffset(cctx, n.c.Member(t).HTTPAddr, f.Skew+time.Duration(j)*f.Skew/4)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		skewed = append(skewed, t)
	}
	if err := errors.Join(errs...); err != nil {
		n.end(i, err)
	}
	return i, func() error { return n.unskew(skewed) }
}

// unskew sets the members' clock offsets back to 0 (a member restarted
// meanwhile already runs without one).
func (n *Nemesis) unskew(members []int) error {
	var errs []error
	for _, t := range members {
		if n.c.State(t) != cluster.Running {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		errs = append(errs, cluster.SetClockOffset(ctx, n.c.Member(t).HTTPAddr, 0))
		cancel()
	}
	return errors.Join(errs...)
}

// network applies faults and returns the undo that heals them.
func (n *Nemesis) network(k Kind, desc string, f cluster.Faults) (int, func() error) {
	i := n.begin(k, desc)
	if err := n.c.Network().Apply(f); err != nil {
		n.end(i, err)
	}
	return i, func() error { return n.c.Network().Apply(cluster.Faults{}) }
}

// restart starts the given members again (not those wiped for a
// membership change: they must join).
func (n *Nemesis) restart(targets []int) error {
	var errs []error
	for _, t := range targets {
		if n.c.State(t) == cluster.Stopped && !n.c.Wiped(t) {
			errs = append(errs, n.c.Start(t, n.cfg.RestartTimeout))
		}
	}
	return errors.Join(errs...)
}

// Heal brings the cluster back within timeout: every member running, the
// network healthy, every member in the configuration; then waits until
// every member is ready.
func (n *Nemesis) Heal(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var errs []error
	for i := range n.c.Size() {
		if n.c.State(i) == cluster.Paused {
			errs = append(errs, n.c.Resume(i))
		}
	}
	if net := n.c.Network(); net != nil {
		errs = append(errs, net.Apply(cluster.Faults{}))
	}
	if slices.Contains(n.cfg.Kinds, Clock) {
		var all []int
		for i := range n.c.Size() {
			all = append(all, i)
		}
		errs = append(errs, n.unskew(all))
	}
	if _, attached := n.c.(*cluster.Attached); !attached {
		var all []int
		for i := range n.c.Size() {
			all = append(all, i)
		}
		errs = append(errs, n.restart(all))
		for i := range n.c.Size() {
			if n.c.Wiped(i) || slices.Contains(n.cfg.Kinds, Member) {
				if err := n.ensureMember(hctx, i); err != nil {
					errs = append(errs, fmt.Errorf("member %s: %w", n.c.Member(i).Name, err))
				}
			}
		}
	}
	errs = append(errs, n.c.WaitReady(max(time.Until(deadline), time.Second)))
	return errors.Join(errs...)
}

// client returns a client of every member but skip (-1: all).
func (n *Nemesis) client(skip int) (*clientv3.Client, error) {
	var eps []string
	for i, ep := range n.c.Endpoints() {
		if i != skip {
			eps = append(eps, ep)
		}
	}
	return clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// leader asks every running member for its status and returns the index
// of the member they name as leader, or -1.
func (n *Nemesis) leader(ctx context.Context) int {
	cli, err := n.client(-1)
	if err != nil {
		return -1
	}
	defer cli.Close()
	byID := map[uint64]int{}
	votes := map[uint64]int{}
	for i := range n.c.Size() {
		if n.c.State(i) != cluster.Running {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cli.Status(cctx, n.c.Member(i).Endpoint())
		cancel()
		if err != nil {
			continue
		}
		byID[st.Header.MemberId] = i
		if st.Leader != 0 {
			votes[st.Leader]++
		}
	}
	best, bestVotes := uint64(0), 0
	for id, v := range votes {
		if v > bestVotes {
			best, bestVotes = id, v
		}
	}
	if i, ok := byID[best]; ok {
		return i
	}
	return -1
}
