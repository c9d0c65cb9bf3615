package saga

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/internal/testutil"
	"github.com/cairndb/cairn/server"
)

// testCluster is a cairn cluster of in-process nodes on loopback ports,
// started through server.Start as `cairn server` would start each node.
type testCluster struct {
	cfgs  []server.Config
	nodes []*server.Node
}

// startCluster starts size nodes with their data under dir and waits for
// a leader. Short ticks (20 ms, election after 10) keep the cluster's
// minimum lease TTL at 1 s.
func startCluster(tb testing.TB, size int, dir string) *testCluster {
	tb.Helper()
	ports := testutil.FreePorts(tb, 3*size)
	peers := map[string][]url.URL{}
	for i := range size {
		peers[fmt.Sprintf("n%d", i+1)] = []url.URL{mustURL(tb, fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+1]))}
	}
	c := &testCluster{}
	for i := range size {
		cfg := server.DefaultConfig()
		cfg.Name = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = filepath.Join(dir, cfg.Name)
		client := mustURL(tb, fmt.Sprintf("http://127.0.0.1:%d", ports[3*i]))
		cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{client}, []url.URL{client}
		cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = peers[cfg.Name], peers[cfg.Name]
		cfg.InitialCluster = peers
		cfg.ListenHTTP = fmt.Sprintf("127.0.0.1:%d", ports[3*i+2])
		cfg.ListenRedis = "127.0.0.1:0" // the eventual tier is not used here; any free port
		cfg.TickInterval = 20 * time.Millisecond
		cfg.ElectionTicks = 10
		cfg.UnsafeNoFsync = true // durability is the strong tier's own tests' business
		c.cfgs = append(c.cfgs, cfg)
	}
	for _, cfg := range c.cfgs {
		n, err := server.Start(cfg, nodeLogger())
		if err != nil {
			c.close()
			tb.Fatalf("start %s: %v", cfg.Name, err)
		}
		c.nodes = append(c.nodes, n)
	}
	c.waitLeader(tb)
	return c
}

func mustURL(tb testing.TB, s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return *u
}

func (c *testCluster) waitLeader(tb testing.TB) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var lead uint64
		agree := true
		for _, n := range c.nodes {
			l, _ := n.Strong().Leader()
			if l == 0 || (lead != 0 && l != lead) {
				agree = false
				break
			}
			lead = l
		}
		if agree {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatal("no agreed leader within 30s")
}

func (c *testCluster) endpoints() []string {
	var eps []string
	for _, cfg := range c.cfgs {
		eps = append(eps, strings.TrimPrefix(cfg.ListenClientURLs[0].String(), "http://"))
	}
	return eps
}

func (c *testCluster) close() {
	for _, n := range c.nodes {
		n.Close()
	}
	c.nodes = nil
}

// newEtcdClient returns a client of the cluster, closed at the test's end.
func newEtcdClient(tb testing.TB, eps []string) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// shared is the one-node cluster most tests share; each test works under
// its own key prefix. TestMain stops it.
var shared struct {
	once sync.Once
	dir  string
	c    *testCluster
	err  error
}

func sharedCluster(t *testing.T) *testCluster {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "saga-test-")
		if shared.err == nil {
			shared.c = startCluster(t, 1, shared.dir)
		}
	})
	if shared.err != nil || shared.c == nil {
		t.Fatalf("shared cluster: %v", shared.err)
	}
	return shared.c
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// testLogOut receives logs: CAIRN_TEST_LOG=1 shows them.
var testLogOut = func() io.Writer {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()

func nodeLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testPrefix is a key prefix no other test uses.
func testPrefix(t *testing.T) string {
	return "/t/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "/"
}

// testConfig is an executor configuration with short waits: a 2 s lease
// (the cluster's minimum is 1 s) and fast retries.
func testConfig(t *testing.T, id string) ExecutorConfig {
	cfg := DefaultExecutorConfig()
	cfg.Prefix = testPrefix(t)
	cfg.ID = id
	cfg.LeaseTTL = 2 * time.Second
	cfg.ScanInterval = 500 * time.Millisecond
	cfg.StepTimeout = 10 * time.Second
	cfg.RequestTimeout = 10 * time.Second
	cfg.ActionRetry = RetryPolicy{MaxAttempts: 4, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	cfg.CompensationRetry = RetryPolicy{MaxAttempts: 4, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	cfg.Registerer = prometheus.NewRegistry()
	cfg.Logger = testLogger()
	return cfg
}

// startExecutor builds, registers and starts an executor, closed at the
// test's end.
func startExecutor(t *testing.T, cli *clientv3.Client, cfg ExecutorConfig, defs ...Definition) *Executor {
	t.Helper()
	e, err := NewExecutor(cli, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		if err := e.Register(d); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
