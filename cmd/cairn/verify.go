package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/verify"
	"github.com/cairndb/cairn/verify/cluster"
	"github.com/cairndb/cairn/verify/nemesis"
	"github.com/cairndb/cairn/verify/workload"
)

// errVerifyFailed makes the process exit 1 after the report was printed.
var errVerifyFailed = errors.New("verification FAILED (see the report above)")

func newVerifyCommand() *cobra.Command {
	d := verify.DefaultConfig()
	var (
		nemeses, workloads, endpoints, httpAddrs, redisAddrs, serverFlags, logLevel string
		seed                                                                        int64
	)
	cfg := d
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Attack a cluster with faults while checking every guarantee cairn claims",
		Long: `verify runs workloads against a cluster while a nemesis injects faults, records every
operation (unknown outcomes as such), heals the cluster and checks the history:
linearizable registers (Porcupine), bank snapshots and stale reads, watch guarantees,
lock fencing; on the eventual tier counter and set convergence, session guarantees and
SET NX; and HashKV equality across members. It prints a verdict per checker and the
fault timeline, writes an HTML report, and on failure the command that repeats the run.

Targets: local (starts --nodes server processes on loopback; network faults through
their /debug/faults hook), netns (each member in its own network namespace, faults
with iptables; root only), docker (containers of --image on a Docker network of their
own: docker kill, docker pause, faults through the hook; build the image with
deploy/build-image.sh), attach (--endpoints of a running cluster).

Examples:
  cairn verify --time 1m
  cairn verify --target netns --time 30m --nemesis all --workload all --seed 7
  bash deploy/build-image.sh && cairn verify --target docker --nemesis kill,pause,partition,clock
  cairn verify --target attach --endpoints 127.0.0.1:2379,127.0.0.1:12379,127.0.0.1:22379 --nemesis none`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Nemeses, err = nemesis.ParseKinds(nemeses); err != nil {
				return err
			}
			cfg.Workloads = verifyList(workloads)
			if len(cfg.Workloads) == 1 && cfg.Workloads[0] == "all" {
				cfg.Workloads = workload.Names
			}
			cfg.Endpoints, cfg.HTTPAddrs, cfg.RedisAddrs = verifyList(endpoints), verifyList(httpAddrs), verifyList(redisAddrs)
			if serverFlags != "" {
				cfg.ServerFlags = strings.Fields(serverFlags)
			}
			if !cmd.Flags().Changed("seed") {
				seed = time.Now().UnixNano() % 1_000_000
			}
			cfg.Seed = uint64(seed)
			if cfg.Binary == "" && cfg.Target != "attach" && cfg.Target != "docker" {
				if cfg.Binary, err = os.Executable(); err != nil {
					return fmt.Errorf("finding this binary to start members: %w (use --binary)", err)
				}
			}
			cfg.Logger = newLogger(logLevel)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(cmd.OutOrStdout(), "cairn verify: %s\n", cfg.Command())
			rep, err := verify.Run(ctx, cfg)
			if rep != nil {
				fmt.Fprint(cmd.OutOrStdout(), "\n"+rep.Text())
			}
			if err != nil {
				return err
			}
			if !rep.Passed() {
				return errVerifyFailed
			}
			return nil
		},
	}
	cmd.SetContext(context.Background())
	fl := cmd.Flags()
	fl.StringVar(&cfg.Target, "target", d.Target, "local, netns, docker or attach")
	fl.StringVar(&cfg.Image, "image", d.Image, "docker: the cairn image to run (deploy/build-image.sh builds cairn:dev)")
	fl.IntVar(&cfg.Nodes, "nodes", d.Nodes, "members to start (local and netns)")
	fl.DurationVar(&cfg.Duration, "time", d.Duration, "how long the workloads and the nemesis run")
	fl.StringVar(&nemeses, "nemesis", nemesis.FormatKinds(d.Nemeses), "faults: kill, pause, partition, loss, delay, member, clock, all, or none")
	fl.StringVar(&workloads, "workload", strings.Join(d.Workloads, ","), "workloads: "+strings.Join(workload.Names, ", ")+", or all")
	fl.Int64Var(&seed, "seed", 0, "seed of every choice the harness makes (default: from the clock, printed)")
	fl.DurationVar(&cfg.Interval, "interval", d.Interval, "healthy time between faults (jittered ±50%)")
	fl.DurationVar(&cfg.Hold, "hold", d.Hold, "how long a fault lasts (jittered ±50%)")
	fl.Float64Var(&cfg.Rate, "rate", d.Rate, "operations per second of each workload, at most")
	fl.DurationVar(&cfg.OpTimeout, "op-timeout", d.OpTimeout, "timeout of one client operation (an expired write is an unknown outcome)")
	fl.DurationVar(&cfg.HealTimeout, "heal-timeout", d.HealTimeout, "bound on the heal and on each final-read phase")
	fl.StringVar(&cfg.OutDir, "out", "", "directory of the report and member logs (default: a new temporary directory)")
	fl.BoolVar(&cfg.KeepData, "keep-data", false, "keep the members' data dirs after a passing run")
	fl.StringVar(&cfg.Binary, "binary", "", "cairn binary to start members with (default: this one)")
	fl.StringVar(&serverFlags, "server-flags", "", "flags for every member, replacing the defaults (\""+strings.Join(cluster.DefaultServerFlags, " ")+"\")")
	fl.StringVar(&endpoints, "endpoints", "", "attach: client endpoints host:port,...")
	fl.StringVar(&httpAddrs, "http-addrs", "", "attach: admin addresses host:port,... in endpoint order (network faults; members need --enable-fault-injection)")
	fl.StringVar(&redisAddrs, "redis-addrs", "", "attach: RESP addresses host:port,... in endpoint order (eventual workloads)")
	fl.BoolVar(&cfg.UnsafeSerializableReads, "unsafe-serializable-reads", false, "self-test: read serializably but check as linearizable; the run must FAIL under partitions")
	fl.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func verifyList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
