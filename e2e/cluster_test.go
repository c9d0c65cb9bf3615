package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/internal/testutil"
)

// Timing of every test cluster: etcd's flags, short so that elections
// and failovers take a fraction of a second.
var fastRaftFlags = []string{"--heartbeat-interval", "50", "--election-timeout", "500"}

const (
	// clusterUpWithin bounds a cold start or a restart of members.
	clusterUpWithin = 30 * time.Second
	// stopGrace is how long a member may take to stop after SIGTERM.
	stopGrace = 10 * time.Second
	// logTailLines of each member are printed when a test fails.
	logTailLines = 40
)

// procCluster is a cluster of real `cairn server` processes on loopback.
type procCluster struct {
	t     *testing.T
	procs []*serverProc

	mu      sync.Mutex
	clients map[int]*clientv3.Client // single-endpoint clients, by member
}

// startCluster plans n members on free ports, with extra flags appended
// to every member's command line, starts them and waits until every one
// is ready.
func startCluster(t *testing.T, n int, extra ...string) *procCluster {
	t.Helper()
	dir := t.TempDir()
	ports := testutil.FreePorts(t, 4*n)
	c := &procCluster{t: t, clients: map[int]*clientv3.Client{}}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i+1, ports[4*i+1]))
	}
	for i := range n {
		name := fmt.Sprintf("m%d", i+1)
		client := fmt.Sprintf("http://127.0.0.1:%d", ports[4*i])
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[4*i+1])
		p := &serverProc{
			t: t, name: name, clientURL: client,
			httpAddr:  fmt.Sprintf("127.0.0.1:%d", ports[4*i+2]),
			redisAddr: fmt.Sprintf("127.0.0.1:%d", ports[4*i+3]),
			logPath:   filepath.Join(dir, name+".log"),
		}
		p.args = append([]string{
			"--name", name,
			"--data-dir", filepath.Join(dir, name+".data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--listen-http", p.httpAddr,
			"--listen-redis", p.redisAddr,
		}, fastRaftFlags...)
		p.args = append(p.args, extra...)
		c.procs = append(c.procs, p)
	}
	t.Cleanup(c.shutdown)
	for _, p := range c.procs {
		p.start()
	}
	c.waitReady(c.all()...)
	return c
}

// all returns the indexes of every member.
func (c *procCluster) all() []int {
	idx := make([]int, len(c.procs))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// running returns the indexes of the members that run.
func (c *procCluster) running() []int {
	var idx []int
	for i, p := range c.procs {
		if p.running() {
			idx = append(idx, i)
		}
	}
	return idx
}

// shutdown closes the clients, stops every member (SIGTERM, then SIGKILL)
// and prints the members' logs if the test failed.
func (c *procCluster) shutdown() {
	c.mu.Lock()
	for _, cli := range c.clients {
		cli.Close()
	}
	c.clients = map[int]*clientv3.Client{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range c.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.terminate(stopGrace)
		}()
	}
	wg.Wait()
	if c.t.Failed() {
		for _, p := range c.procs {
			c.t.Logf("---- last %d log lines of %s (%s)\n%s", logTailLines, p.name, p.logPath, p.logTail(logTailLines))
		}
	}
}

// waitReady waits until each given member answers /readyz with 200: it
// knows a leader and has applied what the leader had committed.
func (c *procCluster) waitReady(idx ...int) {
	c.t.Helper()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(clusterUpWithin)
	for _, i := range idx {
		p := c.procs[i]
		for {
			if p.exitedEarly() {
				c.t.Fatalf("%s exited while starting:\n%s", p.name, p.logTail(logTailLines))
			}
			resp, err := hc.Get("http://" + p.httpAddr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s not ready within %v (last: %v)", p.name, clusterUpWithin, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// newClient connects a clientv3 client that the test closes at its end.
func newClient(t testing.TB, endpoints []string, tune ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	for _, f := range tune {
		f(&cfg)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// endpoints returns the client endpoints of the given members, or of
// all of them.
func (c *procCluster) endpoints(idx ...int) []string {
	if len(idx) == 0 {
		idx = c.all()
	}
	eps := make([]string, 0, len(idx))
	for _, i := range idx {
		eps = append(eps, c.procs[i].endpoint())
	}
	return eps
}

// memberClient returns a client bound to member i alone (it survives the
// member's restarts: gRPC reconnects).
func (c *procCluster) memberClient(i int) *clientv3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cli, ok := c.clients[i]; ok {
		return cli
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{c.procs[i].endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.clients[i] = cli
	return cli
}

// status asks member i for its etcd Status.
func (c *procCluster) status(i int) (*clientv3.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.memberClient(i).Status(ctx, c.procs[i].endpoint())
}

// leader waits until every running member names the same leader, one of
// them, and returns its index.
func (c *procCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(clusterUpWithin)
	for {
		lead, err := c.agreedLeader()
		if err == nil {
			return lead
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no agreed leader within %v: %v", clusterUpWithin, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *procCluster) agreedLeader() (int, error) {
	byID := map[uint64]int{}
	var lead uint64
	for _, i := range c.running() {
		st, err := c.status(i)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", c.procs[i].name, err)
		}
		byID[st.Header.MemberId] = i
		switch {
		case st.Leader == 0:
			return -1, fmt.Errorf("%s knows no leader", c.procs[i].name)
		case lead != 0 && st.Leader != lead:
			return -1, fmt.Errorf("members name leaders %x and %x", lead, st.Leader)
		}
		lead = st.Leader
	}
	i, ok := byID[lead]
	if !ok {
		return -1, fmt.Errorf("leader %x is not a running member", lead)
	}
	return i, nil
}

// follower returns the index of a running member that is not lead.
func (c *procCluster) follower(lead int) int {
	for _, i := range c.running() {
		if i != lead {
			return i
		}
	}
	c.t.Fatal("no running follower")
	return -1
}
