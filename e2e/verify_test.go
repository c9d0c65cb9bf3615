package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/verify"
	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/cluster"
	"github.com/cairndb/cairn/verify/nemesis"
	"github.com/cairndb/cairn/verify/report"
)

// The short verification runs of CI: each is a real `cairn verify` run
// (the verify package, in this process) against real `cairn server`
// processes. Together they stay near two minutes on a loaded 2-core
// machine: the faults come every few seconds so that each kind fires
// several times.

// verifyConfig is a short run with the given workloads and faults.
func verifyConfig(t *testing.T, d time.Duration, seed uint64, workloads []string, kinds ...nemesis.Kind) verify.Config {
	cfg := verify.DefaultConfig()
	cfg.Binary = cairnBin
	cfg.Duration = d
	cfg.Seed = seed
	cfg.Workloads = workloads
	cfg.Nemeses = kinds
	cfg.Interval, cfg.Hold = 2*time.Second, 3*time.Second
	cfg.Rate = 40
	cfg.OutDir = outDir(t)
	return cfg
}

// outDir is where a run's report and member logs go: kept when the test
// fails (its path is logged), removed when it passes. $CAIRN_VERIFY_OUT
// picks the parent directory (CI can collect it).
func outDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(os.Getenv("CAIRN_VERIFY_OUT"), "cairn-verify-"+t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("report and member logs kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

func runVerify(t *testing.T, cfg verify.Config) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration+5*time.Minute)
	defer cancel()
	rep, err := verify.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("verify did not run: %v", err)
	}
	t.Logf("\n%s", rep.Text())
	return rep
}

// mustPass fails the test with the report if any checker failed, and
// checks that the faults really happened.
func mustPass(t *testing.T, rep *report.Report, kinds ...nemesis.Kind) {
	t.Helper()
	if !rep.Passed() {
		t.Fatalf("verification failed; repeat with: %s", rep.Command)
	}
	for _, k := range kinds {
		n := 0
		for _, e := range rep.Events {
			if e.Kind == k {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no %s fault was injected", k)
		}
	}
	for _, r := range rep.Results {
		if r.Verdict == check.Skip && !strings.Contains(r.Checker, "SET NX") {
			t.Errorf("%s was skipped: %s", r.Checker, r.Summary)
		}
	}
}

// TestVerifyStrongTierUnderProcessFaults: every strong-tier checker
// passes while members are killed, paused and partitioned (every shape).
func TestVerifyStrongTierUnderProcessFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults for half a minute")
	}
	kinds := []nemesis.Kind{nemesis.Kill, nemesis.Pause, nemesis.Partition}
	rep := runVerify(t, verifyConfig(t, 30*time.Second, 11, []string{"register", "bank", "watch", "lock"}, kinds...))
	mustPass(t, rep, kinds...)
}

// TestVerifyNetworkAndMembership: packet loss, delay and members
// replaced through the Cluster API (the leader among them), under the
// register, bank and watch workloads.
func TestVerifyNetworkAndMembership(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults for half a minute")
	}
	kinds := []nemesis.Kind{nemesis.Loss, nemesis.Delay, nemesis.Member}
	rep := runVerify(t, verifyConfig(t, 25*time.Second, 12, []string{"register", "bank", "watch"}, kinds...))
	mustPass(t, rep)
	if len(rep.Events) == 0 {
		t.Fatal("no fault was injected")
	}
}

// TestVerifyEventualTier: every eventual-tier workload (and the register,
// for a strong-tier view of the same faults) while members are killed,
// partitioned, lose packets and have their clocks moved.
func TestVerifyEventualTier(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults for half a minute")
	}
	kinds := []nemesis.Kind{nemesis.Kill, nemesis.Partition, nemesis.Loss, nemesis.Clock}
	rep := runVerify(t, verifyConfig(t, 25*time.Second, 15, []string{"register", "counter", "set", "session", "setnx"}, kinds...))
	mustPass(t, rep)
	if len(rep.Events) == 0 {
		t.Fatal("no fault was injected")
	}
}

// TestVerifyEventualTierUnderReplacements: members replaced one after
// another (each wiped and added back) under the counter, set and SET NX
// workloads. A replaced member streams its ranges back (anti-entropy after
// the ring change) and catches up on the Paxos acceptor states before it
// answers a Prepare, so no acknowledged write and no SET NX winner is lost.
// Replacements come a few seconds apart: a second one before the first has
// caught up is outside the fault model (VERIFY.md).
func TestVerifyEventualTierUnderReplacements(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults for half a minute")
	}
	cfg := verifyConfig(t, 30*time.Second, 16, []string{"counter", "set", "setnx"}, nemesis.Member)
	cfg.Interval = 5 * time.Second
	rep := runVerify(t, cfg)
	mustPass(t, rep, nemesis.Member)
}

// TestVerifyCatchesUnsafeReads is the harness's self-test: serializable
// reads recorded as linearizable, under partitions, must fail the
// register, bank or lock checker, while the cluster itself stays sound
// (recovery and HashKV pass).
func TestVerifyCatchesUnsafeReads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults")
	}
	cfg := verifyConfig(t, 15*time.Second, 13, []string{"register", "bank", "lock"}, nemesis.Partition)
	cfg.UnsafeSerializableReads = true
	rep := runVerify(t, cfg)
	if rep.Passed() {
		t.Fatal("serializable reads checked as linearizable passed: the checkers cannot see stale reads")
	}
	caught := false
	for _, r := range rep.Results {
		switch {
		case r.Checker == "recovery after heal" || strings.HasPrefix(r.Checker, "replica hashes"):
			if r.Verdict != check.Pass {
				t.Errorf("%s: %s", r.Checker, r.Summary)
			}
		case r.Verdict == check.Fail:
			caught = true
		}
	}
	if !caught {
		t.Fatal("no workload checker caught the stale reads")
	}
	if !strings.Contains(rep.Text(), "repeat with:") || !strings.Contains(rep.Command, "--unsafe-serializable-reads") || !strings.Contains(rep.Command, "--seed 13") {
		t.Errorf("a failure must print the command that repeats it:\n%s", rep.Text())
	}
}

// TestVerifyInNetworkNamespaces runs members in their own network
// namespaces with iptables partitions and loss: real packets dropped
// between real processes. It needs root and ip/iptables, so it skips
// elsewhere.
func TestVerifyInNetworkNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster under faults")
	}
	if err := cluster.NetnsAvailable(); err != nil {
		t.Skipf("network namespaces unavailable: %v", err)
	}
	kinds := []nemesis.Kind{nemesis.Partition, nemesis.Loss, nemesis.Kill}
	cfg := verifyConfig(t, 20*time.Second, 14, []string{"register", "bank"}, kinds...)
	cfg.Target = "netns"
	rep := runVerify(t, cfg)
	mustPass(t, rep)
	if !strings.Contains(rep.Target, "network namespaces") {
		t.Fatalf("target %q", rep.Target)
	}
}

// TestVerifyDockerTarget: the verification harness on its docker target:
// three containers of the FROM-scratch image on a Docker network of their
// own, killed with docker kill, frozen with docker pause, partitioned and
// their clocks moved through the fault hook, under strong and eventual
// workloads.
func TestVerifyDockerTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs containers under faults")
	}
	cfg := verifyConfig(t, 25*time.Second, 17, []string{"register", "bank", "counter", "set"},
		nemesis.Kill, nemesis.Pause, nemesis.Partition, nemesis.Clock)
	cfg.Target, cfg.Image = "docker", dockerImage(t)
	rep := runVerify(t, cfg)
	mustPass(t, rep)
	if !strings.Contains(rep.Target, "containers") || len(rep.Events) == 0 {
		t.Fatalf("target %q, %d faults: not a docker run under faults", rep.Target, len(rep.Events))
	}
}
