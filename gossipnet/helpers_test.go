package gossipnet

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// testPeriod is the probe period of the test clusters: 10 ms ticks, so
// that a suspicion (4 periods at least, 24 at most) fits a unit test, and
// loose enough for a loaded 2-core machine under -race.
const testPeriod = 100 * time.Millisecond

// within bounds every wait for the cluster to reach a state: generous,
// because the machine may be loaded; the tests never assert speed.
const within = 30 * time.Second

// testLog discards logs unless GOSSIPNET_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("GOSSIPNET_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// store is an in-memory incarnation store that can be made to fail.
type store struct {
	mu   sync.Mutex
	inc  uint64
	fail error
}

func (s *store) persist(inc uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if inc < s.inc {
		return fmt.Errorf("incarnation went down from %d to %d", s.inc, inc)
	}
	s.inc = inc
	return nil
}

func (s *store) last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inc
}

func (s *store) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// tnode is one member of a test cluster: a driver, the gRPC server of its
// "peer port" (TCP, same port number as its UDP socket), its store, its
// fault rules and its registry.
type tnode struct {
	id     gossip.NodeID
	addr   string
	d      *Driver
	srv    *grpc.Server
	store  *store
	faults *transport.Faults
	reg    *prometheus.Registry
	up     bool
}

// tcluster is n drivers on loopback.
type tcluster struct {
	t     *testing.T
	nodes []*tnode
	tune  func(*Config)
}

// newCluster starts n nodes that join through node 1. tune adjusts each
// node's config.
func newCluster(t *testing.T, n int, tune func(*Config)) *tcluster {
	t.Helper()
	c := &tcluster{t: t, tune: tune}
	for i := range n {
		c.nodes = append(c.nodes, &tnode{id: gossip.NodeID(i + 1), store: &store{}, faults: transport.NewFaults(uint64(i))})
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(c.stopAll)
	return c
}

// listen binds a TCP listener and the UDP port of the same number. A
// port taken for UDP by someone else is retried on another.
func listen(t *testing.T, addr string) (net.Listener, string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		probe, err := net.ListenPacket("udp", ln.Addr().String())
		if err == nil {
			probe.Close()
			return ln, ln.Addr().String()
		}
		ln.Close()
		if addr != "127.0.0.1:0" || attempt > 10 {
			t.Fatalf("udp port of %s: %v", ln.Addr(), err)
		}
	}
}

func (c *tcluster) config(i int) Config {
	n := c.nodes[i]
	cfg := DefaultConfig().WithProbeInterval(testPeriod)
	cfg.Core.ID = n.id
	cfg.Core.Addr = n.addr
	cfg.Core.Meta = []byte(fmt.Sprintf("node-%d", n.id))
	cfg.Core.LastIncarnation = n.store.last()
	cfg.Core.Rand = rand.New(rand.NewPCG(uint64(n.id), uint64(time.Now().UnixNano())))
	// A healed partition reconnects within 3 s instead of 30 periods.
	cfg.Core.ReconnectIntervalTicks = 30
	cfg.ListenAddr = n.addr
	cfg.Persist = n.store.persist
	cfg.Faults = n.faults
	cfg.Logger = testLog().With("node", n.id)
	cfg.MetricsInterval = 50 * time.Millisecond
	n.reg = prometheus.NewRegistry()
	cfg.Registerer = n.reg
	if i > 0 {
		cfg.Seeds = []gossip.Seed{{ID: c.nodes[0].id, Addr: c.nodes[0].addr}}
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	return cfg
}

// start (re)starts node i on its address (a new one the first time).
func (c *tcluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	addr := n.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, bound := listen(c.t, addr)
	n.addr = bound
	d, err := New(c.config(i))
	if err != nil {
		ln.Close()
		c.t.Fatalf("node %d: %v", n.id, err)
	}
	n.d = d
	n.srv = grpc.NewServer()
	d.Register(n.srv)
	go func() { _ = n.srv.Serve(ln) }()
	n.up = true
}

// crash stops node i without leaving: the others must detect it.
func (c *tcluster) crash(i int) {
	n := c.nodes[i]
	if !n.up {
		return
	}
	n.up = false
	n.srv.Stop()
	_ = n.d.Close()
}

func (c *tcluster) stopAll() {
	for i := range c.nodes {
		c.crash(i)
	}
}

// view returns node i's view of member id ("" if unknown).
func (c *tcluster) view(i int, id gossip.NodeID) (gossip.Member, bool) {
	m, ok, err := c.nodes[i].d.Member(id)
	if err != nil {
		c.t.Fatalf("node %d: %v", c.nodes[i].id, err)
	}
	return m, ok
}

// waitFor polls cond until it holds or within passes.
func (c *tcluster) waitFor(what string, cond func() (bool, string)) time.Duration {
	c.t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < within {
		ok, why := cond()
		if ok {
			return time.Since(start)
		}
		last = why
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("%s: not within %v: %s", what, within, last)
	return 0
}

// everyone holds, at every up node in observers, member id in state s.
func (c *tcluster) everyone(observers []int, id gossip.NodeID, s gossip.State) (bool, string) {
	for _, i := range observers {
		m, ok := c.view(i, id)
		if !ok || m.State != s {
			return false, fmt.Sprintf("node %d holds %d as %v (known %v)", c.nodes[i].id, id, m.State, ok)
		}
	}
	return true, ""
}

// converged: every up node holds every up node alive.
func (c *tcluster) converged() (bool, string) {
	up := c.upNodes()
	for _, j := range up {
		if ok, why := c.everyone(up, c.nodes[j].id, gossip.StateAlive); !ok {
			return false, why
		}
	}
	return true, ""
}

func (c *tcluster) upNodes() []int {
	var out []int
	for i, n := range c.nodes {
		if n.up {
			out = append(out, i)
		}
	}
	return out
}

// metric returns the value of one series of node i's registry, matched by
// name and label pairs ("k=v").
func (c *tcluster) metric(i int, name string, labels ...string) float64 {
	c.t.Helper()
	mfs, err := c.nodes[i].reg.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range labels {
				k, v, _ := strings.Cut(l, "=")
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	c.t.Fatalf("node %d: no metric %s%v", c.nodes[i].id, name, labels)
	return 0
}
