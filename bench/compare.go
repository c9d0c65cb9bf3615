package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"time"
)

// CompareWorkload is a workload of a comparison and where its requests go.
type CompareWorkload struct {
	Spec
	// LeaderOnly sends a strong-tier workload to the Raft leader only (as
	// bench/etcdcompare's puts), instead of to all members.
	LeaderOnly bool
}

// CompareConfig is a side-by-side comparison: which systems, which
// workloads, how many rounds.
type CompareConfig struct {
	// Systems to start, in the order of each round (default etcd, cairn,
	// redis). Each round starts every system fresh, runs its workloads and
	// stops it, so the systems alternate: A, B, C, A, B, C, ...
	Systems []string
	// Rounds is the number of repetitions (default 3); tables report the
	// median over rounds.
	Rounds int
	// Strong workloads run against etcd and cairn; Eventual against Redis
	// and cairn, on cairn once per level of Levels (Redis ignores
	// levels: it has none).
	Strong   []CompareWorkload
	Eventual []CompareWorkload
	Levels   []string
	// Sweep names workloads (of Strong or Eventual) to run again at each
	// rate of SweepRates, for throughput-against-latency curves.
	Sweep      []string
	SweepRates []float64
	// MemoryKeys keys of MemoryValueSize bytes are written to each tier of
	// each system in the first round to measure bytes per key (0 = skip).
	MemoryKeys      int
	MemoryValueSize int
	// Launch is the cluster settings shared by all systems (Nodes, Dir,
	// Raft timings); the binaries are CairnBin, EtcdBin, RedisBin.
	Launch                      LaunchConfig
	CairnBin, EtcdBin, RedisBin string
	// CairnArgs are extra `cairn server` flags for cairn's members only
	// (say "--eventual-fsync periodic", to match Redis's durability).
	CairnArgs []string
	// Out, if set, receives a line per run as the comparison goes.
	Out io.Writer
	// Progress, if set, receives each run's progress bar.
	Progress io.Writer
	Logger   *slog.Logger
}

// DefaultCompareWorkloads are the issue-8 goals' workloads, each run for
// d: puts with 1 and 1,000 clients to the leader, linearizable and
// serializable ranges and txns with 1,000 and 100 clients, a watch fan-out
// of 100 watchers under 1,000 puts/s from 50 clients; RESP SET and GET with 50 clients
// with and without pipelining (P=16), INCR, SADD and a 9:1 GET:SET mix.
func DefaultCompareWorkloads(d time.Duration) (strong, eventual []CompareWorkload) {
	mk := func(name string, k Kind, clients, conns int, leader bool, tweak func(*Spec)) CompareWorkload {
		s := DefaultSpec(k)
		s.Name, s.Clients, s.Duration = name, clients, Secs(d)
		if k.Strong() {
			s.Conns = conns
		}
		if tweak != nil {
			tweak(&s)
		}
		return CompareWorkload{Spec: s, LeaderOnly: leader}
	}
	strong = []CompareWorkload{
		mk("put-1", KindPut, 1, 1, true, nil),
		mk("put-1000", KindPut, 1000, 100, true, nil),
		mk("range-l-1000", KindRange, 1000, 100, false, nil),
		mk("range-s-1000", KindRange, 1000, 100, false, func(s *Spec) { s.Serializable = true }),
		mk("txn-100", KindTxn, 100, 10, true, nil),
		mk("watch-100", KindWatch, 50, 10, false, func(s *Spec) { s.Watchers, s.Rate = 100, 1000 }),
	}
	// RESP workloads use 10,000 keys: get and mixed write every key of
	// the space before they start, and 100,000 pipelined writes take
	// cairn half a minute at QUORUM on a small machine, for every run.
	p16 := func(s *Spec) { s.Pipeline = 16 }
	eventual = []CompareWorkload{
		mk("set-50", KindSet, 50, 0, false, nil),
		mk("get-50", KindGet, 50, 0, false, nil),
		mk("set-50-P16", KindSet, 50, 0, false, p16),
		mk("get-50-P16", KindGet, 50, 0, false, p16),
		mk("incr-50", KindIncr, 50, 0, false, nil),
		mk("sadd-50", KindSAdd, 50, 0, false, nil),
		mk("mixed-50", KindMixed, 50, 0, false, nil),
	}
	for i := range eventual {
		eventual[i].KeySpace = 10_000
	}
	return strong, eventual
}

// DefaultCompareConfig is the full comparison: 3 rounds of every default
// workload for 10 s, cairn's RESP at ONE and QUORUM, 100,000 keys for the
// memory figures.
func DefaultCompareConfig() CompareConfig {
	strong, eventual := DefaultCompareWorkloads(10 * time.Second)
	return CompareConfig{
		Systems: []string{SystemEtcd, SystemCairn, SystemRedis},
		Rounds:  3, Strong: strong, Eventual: eventual,
		Levels:     []string{"ONE", "QUORUM"},
		MemoryKeys: DefaultMemoryKeys, MemoryValueSize: DefaultMemoryValueSize,
	}
}

// Compare runs the comparison and returns its report (complete as far as
// it got when ctx ends). A system that cannot be built, started or reached
// does not stop the others: its runs carry the error and the report's
// notes say why. Every process it started is stopped before it returns,
// on every path.
func Compare(ctx context.Context, cfg CompareConfig, rep *Report) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rounds < 1 {
		return errors.New("compare: rounds must be at least 1")
	}
	for _, w := range append(slices.Clone(cfg.Strong), cfg.Eventual...) {
		s := w.Spec
		if err := s.Validate(); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
	}
	systems := cfg.Systems
	if len(systems) == 0 {
		systems = []string{SystemEtcd, SystemCairn, SystemRedis}
	}
	for _, s := range systems {
		if s != SystemEtcd && s != SystemCairn && s != SystemRedis {
			return fmt.Errorf("compare: unknown system %q (etcd, cairn, redis)", s)
		}
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for _, sys := range systems {
			if err := ctx.Err(); err != nil {
				return err
			}
			compareSystem(ctx, &cfg, rep, sys, round)
		}
	}
	return ctx.Err()
}

// compareSystem starts one system fresh, measures memory (first round,
// then starts it fresh again), runs its workloads and stops it.
func compareSystem(ctx context.Context, cfg *CompareConfig, rep *Report, sys string, round int) {
	log := cfg.Logger.With("system", sys, "round", round)
	say := func(format string, args ...any) {
		if cfg.Out != nil {
			fmt.Fprintf(cfg.Out, format+"\n", args...)
		}
	}
	workloads := cfg.workloadsOf(sys)
	if len(workloads) == 0 {
		return
	}
	failAll := func(err error) {
		note := fmt.Sprintf("round %d: %s skipped: %v", round, sys, err)
		say("%s", note)
		rep.Notes = append(rep.Notes, note)
		for _, w := range workloads {
			rep.Runs = append(rep.Runs, Result{Target: sys, Spec: w.Spec, Round: round, Start: time.Now().UTC(), Error: err.Error(), Series: []Point{}, Histogram: &Histogram{}})
		}
	}
	lc := cfg.Launch
	lc.Logger = log
	var start func(context.Context, LaunchConfig) (*Cluster, error)
	switch sys {
	case SystemEtcd:
		lc.Bin, start = cfg.EtcdBin, StartEtcd
	case SystemCairn:
		lc.Bin, start = cfg.CairnBin, StartCairn
		lc.ExtraArgs = append(append([]string(nil), lc.ExtraArgs...), cfg.CairnArgs...)
	case SystemRedis:
		lc.Bin, start = cfg.RedisBin, StartRedis
	}
	if lc.Bin == "" {
		failAll(errors.New("no binary"))
		return
	}
	say("round %d: starting a fresh %s", round, sys)
	c, err := start(ctx, lc)
	if err != nil {
		failAll(err)
		return
	}
	defer func() { c.Stop() }()
	if round == 1 && cfg.MemoryKeys > 0 {
		cfg.measureMemory(ctx, c, rep, say, log)
		// The keys written to measure memory leave work behind (an LSM's
		// flushes and compactions) that would slow the first workload of
		// this round only: the workloads get a fresh system, as in every
		// other round.
		c.Stop()
		say("round %d: starting a fresh %s after measuring memory", round, sys)
		if c, err = start(ctx, lc); err != nil {
			failAll(err)
			return
		}
	}
	for _, w := range workloads {
		if ctx.Err() != nil {
			return
		}
		rates := []float64{w.Rate}
		if slices.Contains(cfg.Sweep, w.Name) {
			rates = append(rates, cfg.SweepRates...)
		}
		for i, rate := range rates {
			w := w
			w.Rate = rate
			res := cfg.runOne(ctx, c, w, round, log)
			if i > 0 {
				res.Sweep = w.Name
			}
			rep.Runs = append(rep.Runs, *res)
			say("%s", describe(res))
		}
	}
}

// workloadsOf lists what sys runs: the strong workloads on etcd, the
// eventual ones on Redis, both on cairn (the eventual ones once per
// level).
func (cfg *CompareConfig) workloadsOf(sys string) []CompareWorkload {
	var out []CompareWorkload
	if sys != SystemRedis {
		out = append(out, cfg.Strong...)
	}
	if sys == SystemEtcd {
		return out
	}
	for _, w := range cfg.Eventual {
		if sys == SystemRedis || len(cfg.Levels) == 0 {
			w.Consistency = ""
			out = append(out, w)
			continue
		}
		for _, l := range cfg.Levels {
			w.Consistency = l
			out = append(out, w)
		}
	}
	return out
}

// runOne runs w against c, with the servers' CPU time around it.
func (cfg *CompareConfig) runOne(ctx context.Context, c *Cluster, w CompareWorkload, round int, log *slog.Logger) *Result {
	t := c.Target()
	if w.Kind.Strong() && w.LeaderOnly {
		lead, err := c.Leader(ctx)
		if err != nil {
			return &Result{Target: c.System, Spec: w.Spec, Round: round, Start: time.Now().UTC(), Error: err.Error(), Series: []Point{}, Histogram: &Histogram{}}
		}
		t.Endpoints = []string{lead}
	}
	cpu := func() (float64, int, error) {
		s, err := c.CPUSeconds()
		return s, len(c.PIDs()), err
	}
	res, _ := Run(ctx, w.Spec, t, RunOptions{Round: round, Progress: cfg.Progress, Logger: log, ServerCPU: cpu})
	if err := c.Alive(); err != nil && res.Error == "" {
		res.Error = err.Error()
	}
	return res
}

// measureMemory measures each tier the system serves.
func (cfg *CompareConfig) measureMemory(ctx context.Context, c *Cluster, rep *Report, say func(string, ...any), log *slog.Logger) {
	var tiers []bool // strong?
	if c.System != SystemRedis {
		tiers = append(tiers, true)
	}
	if c.System != SystemEtcd {
		tiers = append(tiers, false)
	}
	for _, strong := range tiers {
		level := ""
		if !strong && c.System == SystemCairn && len(cfg.Levels) > 0 {
			level = cfg.Levels[len(cfg.Levels)-1]
		}
		m := MeasureMemory(ctx, c, strong, cfg.MemoryKeys, cfg.MemoryValueSize, level, log)
		rep.Memory = append(rep.Memory, m)
		if m.Error != "" {
			say("memory %s %s: %s", m.System, m.Tier, m.Error)
		} else {
			say("memory %s %s: %d keys: RSS %+.0f B/key, disk %+.0f B/key (whole cluster of %d)", m.System, m.Tier, m.Keys, m.RSSPerKey, m.DiskPerKey, m.Nodes)
		}
	}
}

// describe is the one-line account of a run.
func describe(r *Result) string {
	name := r.Spec.Name
	if r.Spec.Rate > 0 {
		name = fmt.Sprintf("%s@%.0f/s", name, r.Spec.Rate)
	}
	if r.Error != "" && r.Requests == 0 {
		return fmt.Sprintf("round %d %-14s %-22s FAILED: %s", r.Round, r.Label(), name, r.Error)
	}
	rps, lat := r.Headline()
	unit := "req/s"
	if r.Events != nil {
		unit = "ev/s "
	}
	s := fmt.Sprintf("round %d %-14s %-22s %9.0f %s  p50 %8.3f  p99 %8.3f  p99.9 %8.3f  max %8.3f ms  errors %d",
		r.Round, r.Label(), name, rps, unit, lat.P50, lat.P99, lat.P999, lat.Max, r.Errors)
	if r.Server != nil {
		s += fmt.Sprintf("  cpu/op %.0f us", r.Server.CPUPerOpMicros)
	}
	if r.Events != nil && r.Events.Received < r.Events.Expected {
		s += fmt.Sprintf("  events %d of %d", r.Events.Received, r.Events.Expected)
	}
	if r.Error != "" {
		s += "  (" + r.Error + ")"
	}
	return s
}

// FindRedisServer returns the path of redis-server on PATH, or "" with the
// reason when there is none.
func FindRedisServer() (string, error) {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server not found on PATH (Debian: apt-get install -y redis-server); Redis runs skipped")
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}
