package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/verify/cluster"
	"github.com/cairndb/cairn/verify/nemesis"
	"github.com/cairndb/cairn/verify/workload"
)

// Targets are the cluster targets Config.Target accepts.
var Targets = []string{"local", "netns", "docker", "attach"}

// Config configures a run.
type Config struct {
	// Target is "local" (processes on loopback, faults through the
	// fault hook), "netns" (processes in network namespaces, faults with
	// iptables; root only), "docker" (containers of Image on a Docker
	// network of their own) or "attach" (Endpoints).
	Target string
	// Image is the docker target's cairn image (deploy/build-image.sh
	// builds cairn:dev).
	Image string
	// Binary is the cairn binary to start (local and netns).
	Binary string
	// Nodes is the member count (local, netns and docker),
	// 1..cluster.MaxNodes.
	Nodes int
	// Endpoints, HTTPAddrs and RedisAddrs name an attached cluster's
	// members: client endpoints (required), admin addresses (network
	// faults), RESP addresses (eventual workloads), in member order.
	Endpoints, HTTPAddrs, RedisAddrs []string
	// Duration is how long the workloads and the nemesis run.
	Duration time.Duration
	// Nemeses are the fault kinds; empty runs without faults.
	Nemeses []nemesis.Kind
	// Workloads are workload names (workload.Names).
	Workloads []string
	// Seed fixes the run's choices.
	Seed uint64
	// Interval and Hold time the nemesis (see nemesis.Config).
	Interval, Hold time.Duration
	// Rate bounds each workload's operations per second.
	Rate float64
	// OpTimeout bounds one client operation.
	OpTimeout time.Duration
	// HealTimeout bounds the heal (restarts, readiness) and each final
	// read phase.
	HealTimeout time.Duration
	// OutDir receives the report and, for local targets, the members'
	// logs; "" makes a temporary directory.
	OutDir string
	// KeepData keeps the members' data dirs after a passing run (a
	// failing run always keeps them).
	KeepData bool
	// ServerFlags replace cluster.DefaultServerFlags (local and netns).
	ServerFlags []string
	// UnsafeSerializableReads is the self-test: see the package comment.
	UnsafeSerializableReads bool
	// Logger receives progress (nil = slog.Default()).
	Logger *slog.Logger
	// Registerer receives the run's metrics (nil = not registered).
	Registerer prometheus.Registerer
}

// DefaultConfig is a one-minute run of every strong workload on three
// local members under kill, pause and partition.
func DefaultConfig() Config {
	return Config{
		Target:      "local",
		Image:       "cairn:dev",
		Nodes:       3,
		Duration:    time.Minute,
		Nemeses:     []nemesis.Kind{nemesis.Kill, nemesis.Pause, nemesis.Partition},
		Workloads:   []string{"register", "bank", "watch", "lock"},
		Seed:        1,
		Interval:    5 * time.Second,
		Hold:        5 * time.Second,
		Rate:        50,
		OpTimeout:   2 * time.Second,
		HealTimeout: 90 * time.Second,
	}
}

// Validate checks the fields and the rules between them.
func (c Config) Validate() error {
	var errs []error
	if !slices.Contains(Targets, c.Target) {
		errs = append(errs, fmt.Errorf("target %q: want one of %s", c.Target, strings.Join(Targets, ", ")))
	}
	switch c.Target {
	case "local", "netns", "docker":
		if c.Binary == "" && c.Target != "docker" {
			errs = append(errs, errors.New("a cairn binary is required to start members"))
		}
		if c.Image == "" && c.Target == "docker" {
			errs = append(errs, errors.New("the docker target needs an image (deploy/build-image.sh builds cairn:dev)"))
		}
		if c.Nodes < 1 || c.Nodes > cluster.MaxNodes {
			errs = append(errs, fmt.Errorf("nodes %d: want 1..%d", c.Nodes, cluster.MaxNodes))
		}
	case "attach":
		if len(c.Endpoints) == 0 {
			errs = append(errs, errors.New("attach needs endpoints"))
		}
		for name, l := range map[string][]string{"http": c.HTTPAddrs, "redis": c.RedisAddrs} {
			if len(l) != 0 && len(l) != len(c.Endpoints) {
				errs = append(errs, fmt.Errorf("%d %s addresses for %d endpoints", len(l), name, len(c.Endpoints)))
			}
		}
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %v: want > 0", c.Duration))
	}
	if len(c.Workloads) == 0 {
		errs = append(errs, errors.New("no workload"))
	}
	for _, w := range c.Workloads {
		if !slices.Contains(workload.Names, w) {
			errs = append(errs, fmt.Errorf("unknown workload %q (want %s)", w, strings.Join(workload.Names, ", ")))
		}
	}
	if c.Interval <= 0 || c.Hold <= 0 || c.OpTimeout <= 0 || c.HealTimeout <= 0 || c.Rate <= 0 {
		errs = append(errs, errors.New("interval, hold, op timeout, heal timeout and rate must be > 0"))
	}
	return errors.Join(errs...)
}

// Command is the `cairn verify` command line that repeats the run.
func (c Config) Command() string {
	args := []string{"cairn", "verify",
		"--target", c.Target,
		"--time", c.Duration.String(),
		"--nemesis", nemesis.FormatKinds(c.Nemeses),
		"--workload", strings.Join(c.Workloads, ","),
		"--seed", fmt.Sprint(c.Seed),
		"--interval", c.Interval.String(),
		"--hold", c.Hold.String(),
		"--rate", fmt.Sprint(c.Rate),
		"--op-timeout", c.OpTimeout.String(),
	}
	if c.Target == "attach" {
		args = append(args, "--endpoints", strings.Join(c.Endpoints, ","))
		if len(c.HTTPAddrs) > 0 {
			args = append(args, "--http-addrs", strings.Join(c.HTTPAddrs, ","))
		}
		if len(c.RedisAddrs) > 0 {
			args = append(args, "--redis-addrs", strings.Join(c.RedisAddrs, ","))
		}
	} else {
		args = append(args, "--nodes", fmt.Sprint(c.Nodes))
	}
	if c.Target == "docker" {
		args = append(args, "--image", c.Image)
	}
	if c.ServerFlags != nil {
		args = append(args, "--server-flags", fmt.Sprintf("%q", strings.Join(c.ServerFlags, " ")))
	}
	if c.UnsafeSerializableReads {
		args = append(args, "--unsafe-serializable-reads")
	}
	return strings.Join(args, " ")
}
