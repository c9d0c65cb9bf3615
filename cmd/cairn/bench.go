package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairndb/cairn/bench"
)

// benchFlags are the raw flag values of `cairn bench`; the runtime is in
// package bench, this file only turns flags into its types.
type benchFlags struct {
	endpoints, redis, target    string
	clients, conns              int
	total                       int64
	duration                    time.Duration
	rate                        float64
	sweepRates                  string
	keySize, valSize, keySpace  int
	sequential                  bool
	rangeKey, rangeEnd, consist string
	txnOps, watchers            int
	pipeline                    int
	respConsistency, ratio      string
	members                     int
	seed                        int64
	jsonPath, plotsDir, replot  string
	noProgress                  bool
	logLevel                    string

	compare                     bool
	rounds, nodes, memoryKeys   int
	systems, levels, workloads  string
	cairnArgs                   string
	sweep                       string
	out, cacheDir               string
	cairnBin, cairnSrc, etcdBin string
	keepData                    bool
}

func newBenchCommand() *cobra.Command {
	var f benchFlags
	kinds := make([]string, 0, len(bench.Kinds))
	for _, k := range bench.Kinds {
		kinds = append(kinds, string(k))
	}
	cmd := &cobra.Command{
		Use:   "bench [" + strings.Join(kinds, "|") + "] | bench --compare",
		Short: "Load-test cairn (etcd v3 and RESP workloads), or compare it with etcd and Redis",
		Long: `bench sends a workload to running servers and reports throughput and latency
(p50, p90, p99, p99.9, max from a log-linear histogram with <0.4% error), the
rate second by second, a JSON report (--json) and SVG charts (--plots).

Strong-tier workloads go through etcd's clientv3 to --endpoints:
  put     Put of a key from --key-space (random, or --sequential-keys)
  range   Get of --range-key [to --range-end], --consistency l (linearizable) or s
  txn     Txn If(Version(key) > -1) Then(--txn-ops puts)
  watch   --watchers watch streams on a prefix; --clients put into it at --rate;
          latency is put sent -> event received
Eventual-tier workloads go through go-redis to --redis:
  set, get, incr, sadd, mixed (--ratio reads:writes), pipelined with -P;
  --resp-consistency sends CAIRN.CONSISTENCY <level> on each connection (cairn only)

--rate paces all clients together (open loop; latency counted from each
request's due time), --sweep-rates runs the workload at several rates for a
throughput-vs-latency curve.

--compare starts, on this machine and in this run, a 3-node etcd ` + bench.EtcdVersion + `
(built once into --cache-dir), a redis-server (if installed) and a 3-node cairn
(built from --cairn-src), runs the same workloads against each, alternating,
for --rounds rounds, measures bytes per key, and writes a table of medians and
ratios, report.json and charts into --out. Every process is stopped at the end,
Ctrl-C included.`,
		Example: `  cairn bench put --endpoints 127.0.0.1:2379 --clients 1000 --conns 100 --total 100000
  cairn bench range --consistency s --clients 100 --duration 10s --json range.json
  cairn bench set --redis 127.0.0.1:6379 --clients 50 -P 16 --resp-consistency ONE
  cairn bench put --clients 100 --conns 10 --sweep-rates 1000,2000,4000,8000 --plots plots/
  cairn bench --compare --rounds 3 --duration 10s --out results/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.compare || f.replot != "" {
				if len(args) > 0 {
					return errors.New("--compare and --replot take no workload")
				}
				return nil
			}
			if len(args) != 1 {
				return fmt.Errorf("give one workload (%s) or --compare", strings.Join(kinds, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			log := newLogger(f.logLevel)
			var progress io.Writer
			if !f.noProgress && bench.IsTerminal(os.Stderr) {
				progress = os.Stderr
			}
			command := append([]string{"cairn", "bench"}, os.Args[min(2, len(os.Args)):]...)
			rep := bench.NewReport(versionString(), command)
			if f.replot != "" {
				return runBenchReplot(cmd.OutOrStdout(), f.replot, f.plotsDir)
			}
			if f.compare {
				return runBenchCompare(ctx, cmd, &f, rep, progress, log)
			}
			return runBenchOne(ctx, cmd, &f, bench.Kind(args[0]), rep, progress, log)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoints, "endpoints", "127.0.0.1:2379", "etcd v3 endpoints (host:port, comma-separated) for put, range, txn, watch")
	fl.StringVar(&f.redis, "redis", "127.0.0.1:6379", "RESP addresses (comma-separated) for set, get, incr, sadd, mixed")
	fl.StringVar(&f.target, "target", "", "label of the target in the report (default: the addresses)")
	fl.IntVar(&f.clients, "clients", 0, "concurrent clients (default 1 for the strong tier, 50 for RESP and for watch's putters)")
	fl.IntVar(&f.conns, "conns", 1, "gRPC connections shared by the clients round-robin (strong tier)")
	fl.Int64Var(&f.total, "total", 0, "stop after this many requests (0: run for --duration)")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "run this long when --total is 0 (and each workload of --compare)")
	fl.Float64Var(&f.rate, "rate", 0, "requests per second over all clients (0: as fast as they go; watch: 1000)")
	fl.StringVar(&f.sweepRates, "sweep-rates", "", "comma-separated rates to run the workload at after an unpaced run (latency-at-load curve)")
	fl.IntVar(&f.keySize, "key-size", 8, "key size in bytes")
	fl.IntVar(&f.valSize, "val-size", 256, "value size in bytes")
	fl.IntVar(&f.keySpace, "key-space", 100000, "number of distinct keys")
	fl.BoolVar(&f.sequential, "sequential-keys", false, "take keys in order instead of at random")
	fl.StringVar(&f.rangeKey, "range-key", "foo", "key that range reads (written once before the run)")
	fl.StringVar(&f.rangeEnd, "range-end", "", "end of the range (exclusive; empty: one key)")
	fl.StringVar(&f.consist, "consistency", "l", "range consistency: l (linearizable) or s (serializable)")
	fl.IntVar(&f.txnOps, "txn-ops", 1, "puts per txn")
	fl.IntVar(&f.watchers, "watchers", 100, "watch streams of the watch workload")
	fl.IntVarP(&f.pipeline, "pipeline", "P", 1, "RESP commands per round trip")
	fl.StringVar(&f.respConsistency, "resp-consistency", "", `cairn's RESP level sent as CAIRN.CONSISTENCY on each connection: ONE, TWO, QUORUM, ALL, a count, or "READ WRITE" (not for Redis)`)
	fl.StringVar(&f.ratio, "ratio", "9:1", "mixed: reads:writes")
	fl.IntVar(&f.members, "members", 1000, "sadd: distinct members per set")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the key sequence")
	fl.StringVar(&f.jsonPath, "json", "", "write the report as JSON to this file")
	fl.StringVar(&f.plotsDir, "plots", "", "write SVG charts into this directory")
	fl.StringVar(&f.replot, "replot", "", "read this JSON report, print its table and write its charts (into --plots, default the report's directory); runs nothing")
	fl.BoolVar(&f.noProgress, "no-progress", false, "no progress bar (it is drawn only when stderr is a terminal)")
	fl.StringVar(&f.logLevel, "log-level", "warn", "debug, info, warn or error")

	fl.BoolVar(&f.compare, "compare", false, "start etcd, redis-server and cairn clusters here and compare them")
	fl.IntVar(&f.rounds, "rounds", 3, "compare: repetitions (systems alternate within each)")
	fl.IntVar(&f.nodes, "nodes", 3, "compare: members of the etcd and cairn clusters")
	fl.StringVar(&f.systems, "systems", "etcd,cairn,redis", "compare: systems to start, in order")
	fl.StringVar(&f.cairnArgs, "cairn-args", "", "compare: extra `cairn server` flags for cairn's members, space-separated (e.g. \"--eventual-fsync periodic\")")
	fl.StringVar(&f.levels, "levels", "ONE,QUORUM", "compare: cairn's RESP levels to run each RESP workload at")
	fl.StringVar(&f.workloads, "workloads", "", "compare: only these workloads (comma-separated names; default all)")
	fl.StringVar(&f.sweep, "sweep", "", "compare: workloads to sweep at --sweep-rates")
	fl.IntVar(&f.memoryKeys, "memory-keys", bench.DefaultMemoryKeys, "compare: keys written to measure bytes per key (0: skip)")
	fl.StringVar(&f.out, "out", "", "compare: directory of the results (default ./cairn-bench-<time>)")
	fl.StringVar(&f.cacheDir, "cache-dir", bench.DefaultCacheDir(), "compare: where built binaries are kept")
	fl.StringVar(&f.cairnSrc, "cairn-src", ".", "compare: cairn checkout to build the server from")
	fl.StringVar(&f.cairnBin, "cairn-bin", "", "compare: use this cairn binary instead of building one")
	fl.StringVar(&f.etcdBin, "etcd-bin", "", "compare: use this etcd binary instead of building "+bench.EtcdVersion)
	fl.BoolVar(&f.keepData, "keep-data", false, "compare: keep the clusters' data and logs")
	return cmd
}

// specFromFlags starts from the workload's defaults and applies the flags
// the user set, so that defaults that differ by workload stay right.
func specFromFlags(fl *pflag.FlagSet, f *benchFlags, k bench.Kind) (bench.Spec, error) {
	s := bench.DefaultSpec(k)
	set := fl.Changed
	if set("clients") {
		s.Clients = f.clients
	}
	if set("conns") {
		s.Conns = f.conns
	}
	s.Total, s.Duration = f.total, bench.Secs(f.duration)
	if set("rate") {
		s.Rate = f.rate
	}
	s.KeySize, s.ValueSize, s.KeySpace, s.Sequential = f.keySize, f.valSize, f.keySpace, f.sequential
	s.RangeKey, s.RangeEnd = f.rangeKey, f.rangeEnd
	switch f.consist {
	case "l":
	case "s":
		s.Serializable = true
	default:
		return s, fmt.Errorf("--consistency %q: l or s", f.consist)
	}
	s.TxnOps, s.Pipeline, s.Members, s.Seed = f.txnOps, f.pipeline, f.members, f.seed
	if set("watchers") {
		s.Watchers = f.watchers
	}
	s.Consistency = f.respConsistency
	r, err := bench.ParseRatio(f.ratio)
	if err != nil {
		return s, fmt.Errorf("--ratio: %w", err)
	}
	s.ReadRatio = r
	return s, s.Validate()
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runBenchOne runs one workload (or a sweep of it) against running servers.
func runBenchOne(ctx context.Context, cmd *cobra.Command, f *benchFlags, k bench.Kind, rep *bench.Report, progress io.Writer, log *slog.Logger) error {
	if !k.Valid() {
		return fmt.Errorf("unknown workload %q", k)
	}
	spec, err := specFromFlags(cmd.Flags(), f, k)
	if err != nil {
		return err
	}
	t := bench.Target{Name: f.target, Endpoints: splitList(f.endpoints), Redis: splitList(f.redis)}
	opts := bench.RunOptions{Progress: progress, Logger: log}
	out := cmd.OutOrStdout()
	var runErr error
	if f.sweepRates != "" {
		rates, err := bench.ParseRates(f.sweepRates)
		if err != nil {
			return fmt.Errorf("--sweep-rates: %w", err)
		}
		rep.Runs, runErr = bench.Sweep(ctx, spec, t, rates, opts)
	} else {
		var res *bench.Result
		res, runErr = bench.Run(ctx, spec, t, opts)
		rep.Runs = append(rep.Runs, *res)
	}
	for i := range rep.Runs {
		printRun(out, &rep.Runs[i])
	}
	if err := writeOutputs(out, rep, f.jsonPath, f.plotsDir); err != nil {
		return err
	}
	return runErr
}

// printRun prints one result as etcd's benchmark does: the totals, the
// latency figures, the errors.
func printRun(w io.Writer, r *bench.Result) {
	fmt.Fprintf(w, "\n%s against %s", r.Spec.Name, r.Label())
	if r.Spec.Rate > 0 {
		fmt.Fprintf(w, " at %.0f req/s offered", r.Spec.Rate)
	}
	fmt.Fprintln(w)
	if r.Requests == 0 && r.Error != "" {
		fmt.Fprintf(w, "  FAILED: %s\n", r.Error)
		return
	}
	fmt.Fprintf(w, "  %d requests in %.2f s: %.1f req/s, %d errors\n", r.Requests, float64(r.Elapsed), r.Throughput, r.Errors)
	l := r.Latency
	fmt.Fprintf(w, "  latency ms: min %.3f  mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", l.Min, l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	if e := r.Events; e != nil {
		fmt.Fprintf(w, "  watch events: %d of %d received, %.1f events/s\n", e.Received, e.Expected, e.Throughput)
		el := e.Latency
		fmt.Fprintf(w, "  put->event ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", el.P50, el.P90, el.P99, el.P999, el.Max)
	}
	if len(r.Series) > 0 {
		var b strings.Builder
		for _, p := range r.Series {
			fmt.Fprintf(&b, " %.0f", p.RPS)
		}
		fmt.Fprintf(w, "  req/s each second:%s\n", b.String())
	}
	for k, n := range r.ErrorKinds {
		fmt.Fprintf(w, "  error x%d: %s\n", n, k)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  stopped: %s\n", r.Error)
	}
}

func writeOutputs(out io.Writer, rep *bench.Report, jsonPath, plotsDir string) error {
	if jsonPath != "" {
		if err := rep.WriteFile(jsonPath); err != nil {
			return err
		}
		fmt.Fprintf(out, "report: %s\n", jsonPath)
	}
	if plotsDir != "" {
		files, err := bench.WritePlots(plotsDir, rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "charts: %s\n", strings.Join(files, " "))
	}
	return nil
}

// runBenchReplot prints the table of a saved report and redraws its charts.
func runBenchReplot(out io.Writer, path, dir string) error {
	rep, err := bench.ReadReport(path)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	fmt.Fprint(out, reportTable(rep))
	files, err := bench.WritePlots(dir, rep)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d charts in %s\n", len(files), dir)
	return nil
}

// reportTable is the comparison table, the memory table and the notes.
func reportTable(rep *bench.Report) string {
	var table strings.Builder
	bench.WriteTable(&table, bench.Summarize(rep.Runs))
	if len(rep.Memory) > 0 {
		table.WriteString("\n")
		bench.WriteMemoryTable(&table, rep.Memory)
	}
	for _, n := range rep.Notes {
		table.WriteString("note: " + n + "\n")
	}
	return table.String()
}

// runBenchCompare builds what is missing, runs the comparison and writes
// the table, the report and the charts into the output directory.
func runBenchCompare(ctx context.Context, cmd *cobra.Command, f *benchFlags, rep *bench.Report, progress io.Writer, log *slog.Logger) error {
	out := cmd.OutOrStdout()
	cfg := bench.DefaultCompareConfig()
	cfg.Rounds, cfg.Systems, cfg.Levels = f.rounds, splitList(f.systems), splitList(f.levels)
	cfg.CairnArgs = strings.Fields(f.cairnArgs)
	cfg.Strong, cfg.Eventual = bench.DefaultCompareWorkloads(f.duration)
	if names := splitList(f.workloads); len(names) > 0 {
		keep := func(ws []bench.CompareWorkload) []bench.CompareWorkload {
			return slices.DeleteFunc(ws, func(w bench.CompareWorkload) bool { return !slices.Contains(names, w.Name) })
		}
		cfg.Strong, cfg.Eventual = keep(cfg.Strong), keep(cfg.Eventual)
		if len(cfg.Strong)+len(cfg.Eventual) == 0 {
			return fmt.Errorf("--workloads %q names none of the comparison's workloads", f.workloads)
		}
	}
	cfg.Sweep = splitList(f.sweep)
	if len(cfg.Sweep) > 0 {
		rates, err := bench.ParseRates(f.sweepRates)
		if err != nil {
			return fmt.Errorf("--sweep needs --sweep-rates: %w", err)
		}
		cfg.SweepRates = rates
	}
	cfg.MemoryKeys = f.memoryKeys
	cfg.Launch = bench.LaunchConfig{Nodes: f.nodes, KeepDir: f.keepData}
	cfg.Out, cfg.Progress, cfg.Logger = out, progress, log

	dir := f.out
	if dir == "" {
		dir = "cairn-bench-" + time.Now().Format("20060102-150405")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg.Launch.Dir = filepath.Join(dir, "clusters")
	if err := prepareBinaries(ctx, out, f, &cfg, rep, log); err != nil {
		return err
	}
	fmt.Fprintf(out, "cairn bench --compare: %d round(s) of %s; results in %s\n", cfg.Rounds, strings.Join(cfg.Systems, ", "), dir)
	err := bench.Compare(ctx, cfg, rep)
	// Whatever happened, keep what was measured.
	if werr := rep.WriteFile(filepath.Join(dir, "report.json")); werr != nil {
		return werr
	}
	table := reportTable(rep)
	fmt.Fprint(out, "\n"+table)
	if werr := os.WriteFile(filepath.Join(dir, "table.txt"), []byte(table), 0o644); werr != nil {
		return werr
	}
	files, perr := bench.WritePlots(dir, rep)
	if perr != nil {
		return perr
	}
	fmt.Fprintf(out, "\nreport %s, table %s, %d charts in %s\n", filepath.Join(dir, "report.json"), filepath.Join(dir, "table.txt"), len(files), dir)
	if !f.keepData {
		_ = os.Remove(cfg.Launch.Dir) // empty once every cluster has stopped
	}
	return err
}

// prepareBinaries finds or builds the three servers. A system whose binary
// cannot be had is dropped with a note, not a failure of the whole run.
func prepareBinaries(ctx context.Context, out io.Writer, f *benchFlags, cfg *bench.CompareConfig, rep *bench.Report, log *slog.Logger) error {
	drop := func(sys string, err error) {
		note := fmt.Sprintf("%s skipped: %v", sys, err)
		fmt.Fprintln(out, note)
		rep.Notes = append(rep.Notes, note)
		cfg.Systems = slices.DeleteFunc(cfg.Systems, func(s string) bool { return s == sys })
	}
	if slices.Contains(cfg.Systems, bench.SystemRedis) {
		if p, err := bench.FindRedisServer(); err != nil {
			drop(bench.SystemRedis, err)
		} else {
			cfg.RedisBin = p
		}
	}
	if slices.Contains(cfg.Systems, bench.SystemEtcd) {
		cfg.EtcdBin = f.etcdBin
		if cfg.EtcdBin == "" {
			p, err := bench.EtcdBinary(ctx, f.cacheDir, bench.EtcdVersion, log)
			if err != nil {
				drop(bench.SystemEtcd, err)
			}
			cfg.EtcdBin = p
		}
	}
	if slices.Contains(cfg.Systems, bench.SystemCairn) {
		switch {
		case f.cairnBin != "":
			cfg.CairnBin = f.cairnBin
		case bench.IsCairnSource(f.cairnSrc):
			p, err := filepath.Abs(filepath.Join(f.cacheDir, "cairn-bench-server"))
			if err != nil {
				return err
			}
			if err := bench.BuildCairn(ctx, f.cairnSrc, p, log); err != nil {
				return fmt.Errorf("build cairn from %s: %w", f.cairnSrc, err)
			}
			cfg.CairnBin = p
		default:
			self, err := os.Executable()
			if err != nil {
				return err
			}
			note := fmt.Sprintf("%s is not a cairn checkout: the cairn servers run this binary (%s)", f.cairnSrc, self)
			fmt.Fprintln(out, note)
			rep.Notes = append(rep.Notes, note)
			cfg.CairnBin = self
		}
	}
	if len(cfg.Systems) == 0 {
		return errors.New("no system left to compare")
	}
	return nil
}
