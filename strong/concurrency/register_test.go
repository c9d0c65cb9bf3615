package concurrency

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3election/v3electionpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3lock/v3lockpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// serveUnreachable serves the services on a loopback port, on top of a
// local client whose node does not exist: every call that reaches the
// store blocks (gRPC waits for the connection) until its context ends.
// The end-to-end behaviour is tested against real clusters in package
// server; this checks what needs no store.
func serveUnreachable(t *testing.T, maxWaiting int) (*grpc.ClientConn, *prometheus.Registry, func()) {
	t.Helper()
	cli := unreachableClient(t)
	cfg := DefaultConfig()
	cfg.Client, cfg.MaxWaitingCalls = cli, maxWaiting
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	g := grpc.NewServer()
	if err := Register(g, cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, reg, func() { cli.Close() }
}

func TestWaitingCallsAreBounded(t *testing.T) {
	conn, reg, _ := serveUnreachable(t, 1)
	waiting := func(method string) float64 {
		return metricValue(t, reg, "cairn_concurrency_calls_waiting", map[string]string{"method": method})
	}
	locks := v3lockpb.NewLockClient(conn)
	blockedCtx, cancelBlocked := context.WithCancel(context.Background())
	blocked := make(chan error, 1)
	go func() {
		_, err := locks.Lock(blockedCtx, &v3lockpb.LockRequest{Name: []byte("l"), Lease: 5})
		blocked <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for waiting("Lock") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first Lock never started waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}

	cx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := locks.Lock(cx, &v3lockpb.LockRequest{Name: []byte("l"), Lease: 6})
	if status.Code(err) != codes.ResourceExhausted || status.Convert(err).Message() != status.Convert(ErrTooManyWaiting).Message() {
		t.Fatalf("Lock past the bound: %v, want %v", err, ErrTooManyWaiting)
	}
	stream, err := v3electionpb.NewElectionClient(conn).Observe(cx, &v3electionpb.LeaderRequest{Name: []byte("e")})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("Observe past the bound: %v, want ResourceExhausted", err)
	}

	cancelBlocked()
	if err := <-blocked; status.Code(err) != codes.Canceled {
		t.Fatalf("cancelled Lock: %v, want Canceled", err)
	}
	for waiting("Lock") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled Lock still counts as waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
	refused := map[string]string{"method": "Lock", "code": codes.ResourceExhausted.String()}
	if got := metricValue(t, reg, "cairn_concurrency_calls_total", refused); got != 1 {
		t.Errorf("refused Lock calls counted %v, want 1", got)
	}
}

func TestClosedClientMeansStopping(t *testing.T) {
	conn, _, closeClient := serveUnreachable(t, 10)
	closeClient()
	cx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := v3lockpb.NewLockClient(conn).Lock(cx, &v3lockpb.LockRequest{Name: []byte("l"), Lease: 5})
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != status.Convert(ErrStopping).Message() {
		t.Fatalf("Lock after the local client closed: %v, want %v", err, ErrStopping)
	}
	_, err = v3electionpb.NewElectionClient(conn).Resign(cx, &v3electionpb.ResignRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Resign without a leader key: %v, want InvalidArgument", err)
	}
}

// metricValue reads the gauge or counter name with labels from reg (0 if
// it was never set).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return 0
}
