package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
)

// testCluster is a cluster of in-process nodes on loopback ports.
type testCluster struct {
	t     *testing.T
	cfgs  []Config
	nodes []*Node
}

func newTestCluster(t *testing.T, size int) *testCluster {
	t.Helper()
	return newTestClusterWith(t, size, nil)
}

// newTestClusterWith lets tweak change each node's config before start.
func newTestClusterWith(t *testing.T, size int, tweak func(i int, cfg *Config)) *testCluster {
	t.Helper()
	ports := testutil.FreePorts(t, 3*size)
	c := &testCluster{t: t}
	initial := map[string][]url.URL{}
	for i := range size {
		initial[fmt.Sprintf("n%d", i+1)] = []url.URL{mustURL(fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+1]))}
	}
	dir := t.TempDir()
	for i := range size {
		cfg := DefaultConfig()
		cfg.Name = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = filepath.Join(dir, cfg.Name)
		client := mustURL(fmt.Sprintf("http://127.0.0.1:%d", ports[3*i]))
		peer := initial[cfg.Name][0]
		cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{client}, []url.URL{client}
		cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = []url.URL{peer}, []url.URL{peer}
		cfg.InitialCluster = initial
		cfg.ListenHTTP = fmt.Sprintf("127.0.0.1:%d", ports[3*i+2])
		cfg.ListenRedis = "127.0.0.1:0"
		cfg.TickInterval = 20 * time.Millisecond
		cfg.ElectionTicks = 10
		cfg.SnapshotCount = 200
		if tweak != nil {
			tweak(i, &cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
	}
	c.nodes = make([]*Node, size)
	for i := range size {
		c.start(i)
	}
	t.Cleanup(c.closeAll)
	c.leader()
	return c
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogOut, nil))
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	n, err := Start(c.cfgs[i], testLogger())
	if err != nil {
		c.t.Fatalf("start %s: %v", c.cfgs[i].Name, err)
	}
	c.nodes[i] = n
}

func (c *testCluster) stop(i int) {
	if c.nodes[i] != nil {
		c.nodes[i].Close()
		c.nodes[i] = nil
	}
}

func (c *testCluster) closeAll() {
	for i := range c.nodes {
		c.stop(i)
	}
}

func (c *testCluster) endpoints(idx ...int) []string {
	if len(idx) == 0 {
		for i := range c.cfgs {
			idx = append(idx, i)
		}
	}
	var eps []string
	for _, i := range idx {
		eps = append(eps, strings.TrimPrefix(c.cfgs[i].ListenClientURLs[0].String(), "http://"))
	}
	return eps
}

func (c *testCluster) client(idx ...int) *clientv3.Client {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints(idx...), DialTimeout: 5 * time.Second, Logger: nil})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// leader waits until the running nodes agree on a leader and returns its
// index.
func (c *testCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var lead uint64
		agree := true
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			l, _ := n.Strong().Leader()
			if l == 0 || (lead != 0 && l != lead) {
				agree = false
				break
			}
			lead = l
		}
		if agree && lead != 0 {
			for i, cfg := range c.cfgs {
				if MemberID(cfg.InitialAdvertisePeerURLs, cfg.InitialClusterToken) == lead && c.nodes[i] != nil {
					return i
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no agreed leader within 10s")
	return -1
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}

// testLogOut receives the nodes' logs: CAIRN_TEST_LOG=1 shows them.
var testLogOut = func() io.Writer {
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()
