package lease

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeNode is a single-member node: the backend applies at once to its
// lessor and keeps a key -> lease map as its "store".
type fakeNode struct {
	l *Lessor

	mu     sync.Mutex
	nextID ID
	kv     map[string]ID
	rev    int64
}

var _ ServiceBackend = (*fakeNode)(nil)

func (n *fakeNode) Grant(_ context.Context, id ID, ttl int64) (Lease, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id == NoLease {
		n.nextID++
		id = 0x7e570000 + n.nextID
	}
	return n.l.Grant(id, ttl)
}

func (n *fakeNode) Revoke(_ context.Context, id ID) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	keys, err := n.l.Revoke(id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		delete(n.kv, k)
	}
	if len(keys) > 0 {
		n.rev++
	}
	return nil
}

func (n *fakeNode) KeepAlive(ctx context.Context, id ID) (int64, error) { return n.l.Renew(ctx, id) }

func (n *fakeNode) TimeToLive(_ context.Context, id ID, withKeys bool) (Status, error) {
	return n.l.TimeToLive(id, withKeys)
}

func (n *fakeNode) Leases(context.Context) ([]Lease, error) { return n.l.Leases(), nil }

func (n *fakeNode) Header() *pb.ResponseHeader {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &pb.ResponseHeader{ClusterId: 0xc1, MemberId: 0x3e, Revision: n.rev, RaftTerm: 4}
}

// put stands for a KV put with a lease.
func (n *fakeNode) put(t *testing.T, key string, id ID) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.l.Attach(id, key); err != nil {
		t.Fatal(err)
	}
	n.kv[key] = id
	n.rev++
}

// serve runs the Lease service for backend on a real gRPC server on
// loopback and returns a real etcd client connected to it.
func serve(t *testing.T, backend ServiceBackend) *clientv3.Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterLeaseServer(srv, NewService(backend, slog.New(slog.DiscardHandler)))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{lis.Addr().String()},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func newFakeNode(t *testing.T, minTTL int64) (*fakeNode, *ManualClock) {
	t.Helper()
	clock := NewManualClock(epoch)
	cfg := testConfig(clock, NewMemBackend())
	cfg.MinTTL = minTTL
	l, err := NewLessor(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Promote(0)
	return &fakeNode{l: l, kv: map[string]ID{}}, clock
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServiceWithClientV3(t *testing.T) {
	node, clock := newFakeNode(t, 2)
	cli := serve(t, node)
	ctx := testCtx(t)

	// Grant: the server picks the ID; a short TTL is raised to the minimum.
	short, err := cli.Grant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if short.ID == 0 || short.TTL != 2 {
		t.Fatalf("Grant(1) = ID %x TTL %d, want a server-picked ID and TTL 2", short.ID, short.TTL)
	}
	if short.ClusterId != 0xc1 || short.MemberId != 0x3e || short.RaftTerm != 4 {
		t.Fatalf("header = %+v", short.ResponseHeader)
	}
	if _, err := cli.Grant(ctx, MaxTTL+1); !errors.Is(err, rpctypes.ErrLeaseTTLTooLarge) {
		t.Fatalf("Grant(too large) error = %v, want %v", err, rpctypes.ErrLeaseTTLTooLarge)
	}
	g, err := cli.Grant(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	id := ID(g.ID)
	node.put(t, "/svc/b", id)
	node.put(t, "/svc/a", id)

	// TimeToLive with keys, after 1.5s of the leader's clock.
	clock.Advance(1500 * time.Millisecond)
	ttl, err := cli.TimeToLive(ctx, g.ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.ID != g.ID || ttl.TTL != 8 || ttl.GrantedTTL != 10 {
		t.Fatalf("TimeToLive = ID %x TTL %d granted %d, want TTL 8 granted 10", ttl.ID, ttl.TTL, ttl.GrantedTTL)
	}
	if got := keysOf(ttl.Keys); !reflect.DeepEqual(got, []string{"/svc/a", "/svc/b"}) {
		t.Fatalf("TimeToLive keys = %q", got)
	}
	if plain, err := cli.TimeToLive(ctx, g.ID); err != nil || len(plain.Keys) != 0 {
		t.Fatalf("TimeToLive without keys = %v, %v", plain, err)
	}
	unknown, err := cli.TimeToLive(ctx, 0xdead)
	if err != nil || unknown.TTL != -1 || unknown.ID != 0xdead {
		t.Fatalf("TimeToLive(unknown) = %+v, %v; want TTL -1 and no error", unknown, err)
	}

	// Leases lists both.
	ls, err := cli.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []clientv3.LeaseID
	for _, s := range ls.Leases {
		listed = append(listed, s.ID)
	}
	if want := []clientv3.LeaseID{short.ID, g.ID}; !reflect.DeepEqual(listed, want) {
		t.Fatalf("Leases = %v, want %v", listed, want)
	}

	// KeepAliveOnce renews to the full TTL.
	ka, err := cli.KeepAliveOnce(ctx, g.ID)
	if err != nil || ka.ID != g.ID || ka.TTL != 10 {
		t.Fatalf("KeepAliveOnce = %+v, %v", ka, err)
	}
	if rem, _ := node.l.Remaining(id); rem != 10*time.Second {
		t.Fatalf("Remaining after keepalive = %v", rem)
	}
	if _, err := cli.KeepAliveOnce(ctx, 0xdead); !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		t.Fatalf("KeepAliveOnce(unknown) error = %v, want %v", err, rpctypes.ErrLeaseNotFound)
	}

	// Revoke deletes the keys; a second revoke finds nothing.
	rv, err := cli.Revoke(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Header.Revision != 3 || len(node.kv) != 0 {
		t.Fatalf("after revoke: revision %d, keys %v", rv.Header.Revision, node.kv)
	}
	if _, err := cli.Revoke(ctx, g.ID); !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		t.Fatalf("second Revoke error = %v, want %v", err, rpctypes.ErrLeaseNotFound)
	}
	if ttl, err := cli.TimeToLive(ctx, g.ID); err != nil || ttl.TTL != -1 {
		t.Fatalf("TimeToLive after revoke = %+v, %v", ttl, err)
	}
}

// TestServiceKeepAliveChannel runs clientv3's keepalive loop: it sees the
// renewed TTL, and its channel closes once the lease is revoked.
func TestServiceKeepAliveChannel(t *testing.T) {
	node, _ := newFakeNode(t, 1)
	cli := serve(t, node)
	ctx := testCtx(t)

	g, err := cli.Grant(ctx, 3) // clientv3 sends a keepalive every TTL/3 = 1s
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-ch:
		if resp == nil || resp.ID != g.ID || resp.TTL != 3 {
			t.Fatalf("first keepalive response = %+v", resp)
		}
	case <-ctx.Done():
		t.Fatal("no keepalive response")
	}
	if _, err := cli.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return // closed: clientv3 saw TTL 0
			}
			if resp.TTL != 3 {
				t.Fatalf("keepalive response %+v", resp)
			}
		case <-ctx.Done():
			t.Fatal("keepalive channel never closed after revoke")
		}
	}
}

// TestServiceKeepAliveStream drives the bidi stream by hand: one response
// per request, in order, TTL 0 for an unknown lease, and the stream goes on.
func TestServiceKeepAliveStream(t *testing.T) {
	node, _ := newFakeNode(t, 2)
	cli := serve(t, node)
	ctx := testCtx(t)
	mustGrant(t, node.l, 7, 5)
	mustGrant(t, node.l, 8, 9)

	stream, err := pb.NewLeaseClient(cli.ActiveConnection()).LeaseKeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{7, 404, 8, 7}
	for _, id := range ids {
		if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	wantTTL := []int64{5, 0, 9, 5}
	for i := range ids {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.ID != ids[i] || resp.TTL != wantTTL[i] || resp.Header == nil || resp.Header.MemberId != 0x3e {
			t.Fatalf("response %d = %+v, want ID %d TTL %d", i, resp, ids[i], wantTTL[i])
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
}

// TestServiceErrors checks the gRPC errors clients see.
func TestServiceErrors(t *testing.T) {
	t.Run("duplicate ID", func(t *testing.T) {
		node, _ := newFakeNode(t, 2)
		cli := serve(t, node)
		ctx := testCtx(t)
		raw := pb.NewLeaseClient(cli.ActiveConnection())
		if _, err := raw.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: 5, TTL: 10}); err != nil {
			t.Fatal(err)
		}
		_, err := raw.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: 5, TTL: 10})
		if rpctypes.Error(err) != rpctypes.ErrLeaseExist || status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("duplicate grant error = %v, want %v", err, rpctypes.ErrLeaseExist)
		}
		resp, err := raw.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: 6, TTL: 10})
		if err != nil || resp.ID != 6 {
			t.Fatalf("grant with a client ID = %+v, %v", resp, err)
		}
	})
	t.Run("keepalive on a follower ends the stream with leader changed", func(t *testing.T) {
		node, _ := newFakeNode(t, 2)
		mustGrant(t, node.l, 7, 5)
		node.l.Demote()
		cli := serve(t, node)
		stream, err := pb.NewLeaseClient(cli.ActiveConnection()).LeaseKeepAlive(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: 7}); err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		if rpctypes.Error(err) != rpctypes.ErrLeaderChanged {
			t.Fatalf("stream error = %v, want %v", err, rpctypes.ErrLeaderChanged)
		}
	})
}

func TestToGRPCError(t *testing.T) {
	tests := []struct {
		in   error
		want error
	}{
		{nil, nil},
		{ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
		{errors.Join(errors.New("ctx"), ErrLeaseNotFound), rpctypes.ErrGRPCLeaseNotFound},
		{ErrLeaseExists, rpctypes.ErrGRPCLeaseExist},
		{ErrTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge},
		{ErrNotPrimary, rpctypes.ErrGRPCLeaderChanged},
		{rpctypes.ErrGRPCNoLeader, rpctypes.ErrGRPCNoLeader},
	}
	for _, tt := range tests {
		if got := ToGRPCError(tt.in); got != tt.want {
			t.Errorf("ToGRPCError(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   error
		code codes.Code
	}{
		{context.Canceled, codes.Canceled},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{errors.New("something else"), codes.Unknown},
	} {
		if got := status.Code(ToGRPCError(tt.in)); got != tt.code {
			t.Errorf("ToGRPCError(%v) code = %v, want %v", tt.in, got, tt.code)
		}
	}
	if !isLeaseNotFound(status.Error(codes.NotFound, "etcdserver: requested lease not found")) {
		t.Error("a rebuilt lease-not-found status is not recognized")
	}
	if isLeaseNotFound(status.Error(codes.NotFound, "something else")) {
		t.Error("another NotFound is taken for lease-not-found")
	}
}

func keysOf(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
