package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
	"github.com/cairndb/cairn/server"
)

// startNode starts a 1-node cairn in this process on free loopback ports
// and returns it with its etcd v3 endpoint.
func startNode(t *testing.T) (*server.Node, string) {
	t.Helper()
	ports := testutil.FreePorts(t, 4)
	at := func(p int) url.URL {
		u, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", p))
		return *u
	}
	cfg := server.DefaultConfig()
	cfg.Name = "b1"
	cfg.DataDir = filepath.Join(t.TempDir(), "b1")
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{at(ports[0])}, []url.URL{at(ports[0])}
	cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = []url.URL{at(ports[1])}, []url.URL{at(ports[1])}
	cfg.InitialCluster = map[string][]url.URL{"b1": {at(ports[1])}}
	cfg.ListenHTTP = fmt.Sprintf("127.0.0.1:%d", ports[2])
	cfg.ListenRedis = fmt.Sprintf("127.0.0.1:%d", ports[3])
	cfg.EventualReplicas = 1
	cfg.TickInterval, cfg.ElectionTicks = 20*time.Millisecond, 10
	n, err := server.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	ep := fmt.Sprintf("127.0.0.1:%d", ports[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if l, _ := n.Strong().Leader(); l != 0 {
			return n, ep
		}
		if time.Now().After(deadline) {
			t.Fatal("no leader within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countKeys counts the keys in [from, to) on the node.
func countKeys(t *testing.T, ep, from, to string) int64 {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, from, clientv3.WithRange(to), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// TestStrongWorkloadsAgainstOneNode runs put, range and watch against a
// real node and checks that the counts add up: every put the runner
// counts is in the store, every answered request is in the histogram and
// the series, and every watcher sees every put. No timing is asserted.
func TestStrongWorkloadsAgainstOneNode(t *testing.T) {
	_, ep := startNode(t)
	target := Target{Name: "cairn", Endpoints: []string{ep}}
	ctx := context.Background()

	// Total mode, sequential keys over a space larger than the total: each
	// put writes a new key, so the store holds exactly as many keys.
	put := DefaultSpec(KindPut)
	put.Clients, put.Conns, put.Total, put.Sequential = 8, 2, 400, true
	res, err := Run(ctx, put, target, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 400 || res.Errors != 0 {
		t.Fatalf("put: answered %d, failed %d (%v); want 400, 0", res.Requests, res.Errors, res.ErrorKinds)
	}
	checkCounts(t, res)
	if n := countKeys(t, ep, "00000000", "99999999"); n != 400 {
		t.Fatalf("the store holds %d keys after 400 puts of distinct keys", n)
	}

	// Duration mode, random keys: the store count can only be checked as
	// an upper bound, the runner's own counts exactly.
	put.Total, put.Duration, put.Sequential = 0, Secs(time.Second), false
	if res, err = Run(ctx, put, target, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("put for 1s: answered %d, failed %d (%v)", res.Requests, res.Errors, res.ErrorKinds)
	}
	checkCounts(t, res)

	for _, serializable := range []bool{false, true} {
		rng := DefaultSpec(KindRange)
		rng.Clients, rng.Conns, rng.Duration, rng.Serializable = 8, 2, Secs(time.Second), serializable
		res, err := Run(ctx, rng, target, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests == 0 || res.Errors != 0 {
			t.Fatalf("range (serializable %v): answered %d, failed %d (%v)", serializable, res.Requests, res.Errors, res.ErrorKinds)
		}
		checkCounts(t, res)
	}

	txn := DefaultSpec(KindTxn)
	txn.Clients, txn.Total, txn.TxnOps, txn.Sequential, txn.KeySpace = 4, 100, 3, true, 10_000
	if res, err = Run(ctx, txn, target, RunOptions{}); err != nil || res.Requests != 100 {
		t.Fatalf("txn: %v, answered %d", err, res.Requests)
	}
	if n := countKeys(t, ep, "t0000000", "t9999999"); n != 300 {
		t.Fatalf("the store holds %d txn keys after 100 txns of 3 distinct puts", n)
	}

	w := DefaultSpec(KindWatch)
	w.Watchers, w.Clients, w.Conns, w.Rate, w.Total = 5, 2, 2, 200, 100
	if res, err = Run(ctx, w, target, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.Events == nil || res.Events.Expected != 500 || res.Events.Received != 500 {
		t.Fatalf("watch: %d puts, events %+v; want every one of 5 watchers to see all 100", res.Requests, res.Events)
	}
	if res.Events.Histogram.Count() != 500 {
		t.Fatalf("watch: %d event latencies recorded for 500 events", res.Events.Histogram.Count())
	}
}

// TestRESPWorkloadsAgainstOneNode runs the eventual tier's workloads
// through go-redis against the node's RESP port.
func TestRESPWorkloadsAgainstOneNode(t *testing.T) {
	n, _ := startNode(t)
	target := Target{Name: "cairn", Redis: []string{n.RedisAddr}}
	for _, k := range []Kind{KindSet, KindGet, KindIncr, KindSAdd, KindMixed} {
		s := DefaultSpec(k)
		s.Clients, s.Total, s.KeySpace, s.Consistency = 4, 200, 1000, "ONE"
		if k == KindGet {
			s.Pipeline = 8
		}
		res, err := Run(context.Background(), s, target, RunOptions{})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if res.Requests != 200 || res.Errors != 0 {
			t.Fatalf("%s: answered %d, failed %d (%v)", k, res.Requests, res.Errors, res.ErrorKinds)
		}
		checkCounts(t, res)
	}
}
