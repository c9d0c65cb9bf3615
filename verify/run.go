package verify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/cluster"
	"github.com/cairndb/cairn/verify/history"
	"github.com/cairndb/cairn/verify/nemesis"
	"github.com/cairndb/cairn/verify/report"
	"github.com/cairndb/cairn/verify/workload"
)

// setupTimeout bounds a workload's setup on a healthy cluster.
const setupTimeout = time.Minute

// Run runs one verification and returns its report, written to
// cfg.OutDir. An error means the run could not be carried out (the
// cluster did not start); a failed check is a report that did not pass.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if cfg.OutDir == "" {
		if cfg.OutDir, err = os.MkdirTemp("", fmt.Sprintf("cairn-verify-%d-", cfg.Seed)); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}

	c, err := openCluster(cfg, log)
	if err != nil {
		return nil, err
	}
	passed := false
	defer func() {
		if d, ok := c.(*cluster.Docker); ok {
			d.SaveLogs(filepath.Join(cfg.OutDir, "cluster"))
		}
		c.Close()
		if l, ok := c.(*cluster.Local); ok && passed && !cfg.KeepData {
			removeDataDirs(l.Dir())
		}
	}()
	log.Info("verify: cluster up", "target", c.Describe())

	rec := history.NewRecorder(time.Now(), 0)
	rec.Observe(m.observe)
	rep := &report.Report{Command: cfg.Command(), Target: c.Describe(), Seed: cfg.Seed,
		Nemeses: nemesis.FormatKinds(cfg.Nemeses), Workloads: cfg.Workloads, Start: began, OpTimeout: cfg.OpTimeout}

	prefix := fmt.Sprintf("verify/%d-%d/", cfg.Seed, began.UnixNano())
	var wls []workload.Workload
	defer func() {
		for _, w := range wls {
			w.Close()
		}
	}()
	for _, name := range cfg.Workloads {
		w, err := workload.New(name, workload.Config{Cluster: c, Recorder: rec, Seed: cfg.Seed, Prefix: prefix,
			OpTimeout: cfg.OpTimeout, Rate: cfg.Rate, UnsafeSerializableReads: cfg.UnsafeSerializableReads, Logger: log})
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithTimeout(ctx, setupTimeout)
		err = w.Setup(sctx)
		cancel()
		if err != nil {
			w.Close()
			rep.Results = append(rep.Results, check.Result{Checker: name + " setup", Verdict: check.Fail, Summary: err.Error()})
			continue
		}
		wls = append(wls, w)
	}

	nem, err := nemesis.New(c, rec.Now, nemesis.Config{Kinds: cfg.Nemeses, Seed: cfg.Seed,
		Interval: cfg.Interval, Hold: cfg.Hold, Logger: log})
	if err != nil {
		return nil, err
	}
	// The workloads and the nemesis.
	log.Info("verify: running", "duration", cfg.Duration, "workloads", strings.Join(cfg.Workloads, ","), "nemesis", nemesis.FormatKinds(cfg.Nemeses), "seed", cfg.Seed)
	runStart := rec.Now()
	rctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	var wg sync.WaitGroup
	for _, w := range wls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.Run(rctx)
		}()
	}
	nem.Run(rctx)
	wg.Wait()
	cancel()
	rep.Duration = rec.Now() - runStart

	// Heal, then recovery: the cluster must serve again.
	log.Info("verify: healing")
	fctx := context.WithoutCancel(ctx)
	healErr := nem.Heal(fctx, cfg.HealTimeout)
	rec0 := recovery(fctx, c, healErr, cfg.HealTimeout)
	rep.Results = append(rep.Results, rec0)
	for _, e := range nem.Events() {
		m.faults.WithLabelValues(e.Kind.String()).Inc()
	}

	// Final reads and checks, every workload at once.
	log.Info("verify: checking")
	// The final reads share one deadline (a cluster that did not recover
	// fails them all quickly); the checks themselves run past it.
	finishTimeout := cfg.HealTimeout
	if !rec0.OK() {
		finishTimeout = min(finishTimeout, 15*time.Second)
	}
	fin := workload.FinishConfig{OutDir: cfg.OutDir, Annotations: annotations(nem.Events()), Timeout: finishTimeout}
	finCtx, finCancel := context.WithTimeout(fctx, finishTimeout)
	results := make([][]check.Result, len(wls))
	for i, w := range wls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.Finish(finCtx, fin)
		}()
	}
	wg.Wait()
	finCancel()
	for _, rs := range results {
		rep.Results = append(rep.Results, rs...)
	}
	rep.Results = append(rep.Results, hashes(fctx, c, finishTimeout))
	for _, r := range rep.Results {
		m.checks.WithLabelValues(r.Verdict.String()).Inc()
	}

	rep.Events = nem.Events()
	rep.Counts = rec.Counts()
	rep.Ops = rec.Ops()
	rep.Dropped = rec.Dropped()
	rep.Elapsed = time.Since(began)
	if l, ok := c.(*cluster.Local); ok {
		rep.Notes = append(rep.Notes, "member logs: "+l.Dir())
	}
	passed = rep.Passed()
	if err := rep.WriteFiles(cfg.OutDir, rec); err != nil {
		return rep, fmt.Errorf("writing the report: %w", err)
	}
	return rep, nil
}

// openCluster starts or attaches to the target.
func openCluster(cfg Config, log *slog.Logger) (cluster.Cluster, error) {
	switch cfg.Target {
	case "attach":
		var ms []cluster.Member
		for i, ep := range cfg.Endpoints {
			m := cluster.Member{Name: fmt.Sprintf("m%d", i+1), ClientURL: ep}
			if !strings.Contains(ep, "://") {
				m.ClientURL = "http://" + ep
			}
			if len(cfg.HTTPAddrs) > 0 {
				m.HTTPAddr = cfg.HTTPAddrs[i]
			}
			if len(cfg.RedisAddrs) > 0 {
				m.RedisAddr = cfg.RedisAddrs[i]
			}
			ms = append(ms, m)
		}
		return cluster.NewAttach(ms)
	case "netns":
		if err := cluster.NetnsAvailable(); err != nil {
			return nil, fmt.Errorf("target netns: %w (use --target local)", err)
		}
	case "docker":
		if err := cluster.DockerAvailable(); err != nil {
			return nil, fmt.Errorf("target docker: %w (use --target local)", err)
		}
		return cluster.NewDocker(cluster.DockerConfig{Image: cfg.Image, Nodes: cfg.Nodes, ServerFlags: cfg.ServerFlags, Logger: log})
	}
	return cluster.NewLocal(cluster.LocalConfig{Binary: cfg.Binary, Nodes: cfg.Nodes, Dir: filepath.Join(cfg.OutDir, "cluster"),
		KeepDir: true, ServerFlags: cfg.ServerFlags, Netns: cfg.Target == "netns", Logger: log})
}

// removeDataDirs deletes the members' data dirs, keeping their logs.
func removeDataDirs(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.data"))
	for _, m := range matches {
		_ = os.RemoveAll(m)
	}
}

// recovery checks that the cluster was healed and serves a write.
func recovery(ctx context.Context, c cluster.Cluster, healErr error, timeout time.Duration) check.Result {
	const name = "recovery after heal"
	start := time.Now()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err == nil {
		defer cli.Close()
		deadline := time.Now().Add(timeout)
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = cli.Put(cctx, "verify/recovery", start.String())
			cancel()
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	switch {
	case healErr != nil:
		return check.Result{Checker: name, Verdict: check.Fail, Summary: "healing the cluster failed", Details: []string{healErr.Error()}}
	case err != nil:
		return check.Result{Checker: name, Verdict: check.Fail, Summary: fmt.Sprintf("no write succeeded within %v of the heal: %v", timeout, err)}
	}
	return check.Result{Checker: name, Verdict: check.Pass,
		Summary: fmt.Sprintf("every member ready, a write acknowledged %v after the heal", time.Since(start).Round(time.Millisecond))}
}

// hashes asks every member for HashKV at one revision, waiting until
// each has applied it.
func hashes(ctx context.Context, c cluster.Cluster, timeout time.Duration) check.Result {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return check.Result{Checker: "replica hashes (HashKV)", Verdict: check.Fail, Summary: err.Error()}
	}
	defer cli.Close()
	var rev int64
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cli.Get(cctx, "verify/recovery")
		cancel()
		if err == nil {
			rev = resp.Header.Revision
			break
		}
		if time.Now().After(deadline) {
			return check.Result{Checker: "replica hashes (HashKV)", Verdict: check.Fail, Summary: "no revision to hash at: " + err.Error()}
		}
		time.Sleep(200 * time.Millisecond)
	}
	var hs []check.MemberHash
	for i := range c.Size() {
		m := c.Member(i)
		h := check.MemberHash{Member: m.Name}
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := cli.HashKV(cctx, m.Endpoint(), rev)
			cancel()
			if err == nil && resp.Header.Revision >= rev {
				h.Revision, h.CompactRevision, h.Hash = rev, resp.CompactRevision, resp.Hash
				h.Err = ""
				break
			}
			if err == nil {
				err = fmt.Errorf("member at revision %d, behind %d", resp.Header.Revision, rev)
			}
			h.Err = err.Error()
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		hs = append(hs, h)
	}
	return check.CheckHashes(hs)
}

// annotations turns the fault timeline into Porcupine annotations, so
// that a linearizability failure's visualization shows what the nemesis
// was doing.
func annotations(events []nemesis.Event) []porcupine.Annotation {
	colors := map[nemesis.Kind]string{nemesis.Kill: "#ffcdd2", nemesis.Pause: "#e1bee7", nemesis.Partition: "#bbdefb",
		nemesis.Loss: "#ffe0b2", nemesis.Delay: "#fff9c4", nemesis.Member: "#b2ebf2"}
	var out []porcupine.Annotation
	for _, e := range events {
		end := e.End
		if end == 0 {
			end = e.Start
		}
		out = append(out, porcupine.Annotation{Tag: "nemesis", Start: int64(e.Start), End: int64(end),
			Description: e.Kind.String(), Details: e.Desc, BackgroundColor: colors[e.Kind]})
	}
	return out
}
