package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3election/v3electionpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3lock/v3lockpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// These tests call cairn's Election and Lock services through etcd's
// generated gRPC clients, as a program written for etcd's services does.

// grantLease returns a lease of ttl seconds granted through cli.
func grantLease(t *testing.T, cli *clientv3.Client, ttl int64) clientv3.LeaseID {
	t.Helper()
	resp, err := cli.Grant(ctx(t), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

// wantGRPCCode fails the test unless err carries code and, if text is not
// empty, etcd's error text.
func wantGRPCCode(t *testing.T, err error, code codes.Code, text string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || (text != "" && st.Message() != text) {
		t.Fatalf("error %v, want code %v with %q", err, code, text)
	}
}

type callResult[T any] struct {
	resp T
	err  error
}

func TestElectionServiceAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	clis := []*clientv3.Client{c.client(0), c.client(1), c.client(2)}
	var ec []v3electionpb.ElectionClient
	for _, cli := range clis {
		ec = append(ec, v3electionpb.NewElectionClient(cli.ActiveConnection()))
	}
	name := []byte("svc/election")
	leaseA, leaseB := grantLease(t, clis[0], 30), grantLease(t, clis[1], 30)

	observe, err := ec[2].Observe(cx, &v3electionpb.LeaderRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	nextObserved := func(wantKey []byte, wantValue string) {
		t.Helper()
		resp, err := observe.Recv()
		if err != nil {
			t.Fatalf("observe while waiting for %q: %v", wantValue, err)
		}
		if string(resp.Kv.Key) != string(wantKey) || string(resp.Kv.Value) != wantValue || resp.Header == nil {
			t.Fatalf("observed %s=%q, want %s=%q", resp.Kv.Key, resp.Kv.Value, wantKey, wantValue)
		}
	}

	campA, err := ec[0].Campaign(cx, &v3electionpb.CampaignRequest{Name: name, Lease: int64(leaseA), Value: []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	a := campA.Leader
	if string(a.Name) != string(name) || string(a.Key) != fmt.Sprintf("%s/%x", name, leaseA) || a.Lease != int64(leaseA) ||
		a.Rev != campA.Header.Revision {
		t.Fatalf("campaign leader key %+v (header revision %d)", a, campA.Header.Revision)
	}
	if got, err := clis[1].Get(cx, string(a.Key)); err != nil || len(got.Kvs) != 1 ||
		got.Kvs[0].CreateRevision != a.Rev || got.Kvs[0].Lease != int64(leaseA) {
		t.Fatalf("leader key in the store: %v, %v", got, err)
	}
	nextObserved(a.Key, "a")

	campB := make(chan callResult[*v3electionpb.CampaignResponse], 1)
	go func() {
		resp, err := ec[1].Campaign(cx, &v3electionpb.CampaignRequest{Name: name, Lease: int64(leaseB), Value: []byte("b")})
		campB <- callResult[*v3electionpb.CampaignResponse]{resp, err}
	}()
	blocksFor(t, campB, 300*time.Millisecond, "the second Campaign")

	leader, err := ec[2].Leader(cx, &v3electionpb.LeaderRequest{Name: name})
	if err != nil || string(leader.Kv.Value) != "a" {
		t.Fatalf("leader: %v, %v", leader, err)
	}
	// Any member may proclaim for the leader: the LeaderKey is the
	// capability.
	if _, err := ec[1].Proclaim(cx, &v3electionpb.ProclaimRequest{Leader: a, Value: []byte("a2")}); err != nil {
		t.Fatal(err)
	}
	nextObserved(a.Key, "a2")
	if leader, err := ec[0].Leader(cx, &v3electionpb.LeaderRequest{Name: name}); err != nil || string(leader.Kv.Value) != "a2" {
		t.Fatalf("leader after proclaim: %v, %v", leader, err)
	}
	stale := &v3electionpb.LeaderKey{Name: a.Name, Key: a.Key, Rev: a.Rev - 1, Lease: a.Lease}
	_, err = ec[0].Proclaim(cx, &v3electionpb.ProclaimRequest{Leader: stale, Value: []byte("x")})
	wantGRPCCode(t, err, codes.FailedPrecondition, "election: not leader")
	_, err = ec[0].Proclaim(cx, &v3electionpb.ProclaimRequest{Value: []byte("x")})
	wantGRPCCode(t, err, codes.InvalidArgument, `"leader" field must be provided`)
	_, err = ec[0].Resign(cx, &v3electionpb.ResignRequest{})
	wantGRPCCode(t, err, codes.InvalidArgument, `"leader" field must be provided`)

	if _, err := ec[2].Resign(cx, &v3electionpb.ResignRequest{Leader: a}); err != nil {
		t.Fatal(err)
	}
	won := returnsWithin(t, campB, 5*time.Second, "the second Campaign after Resign")
	if won.err != nil {
		t.Fatal(won.err)
	}
	b := won.resp.Leader
	if string(b.Key) != fmt.Sprintf("%s/%x", name, leaseB) || b.Rev <= a.Rev || b.Lease != int64(leaseB) {
		t.Fatalf("second leader key %+v (first %+v)", b, a)
	}
	nextObserved(b.Key, "b")
	// Resigning with the old key again touches nothing.
	if _, err := ec[0].Resign(cx, &v3electionpb.ResignRequest{Leader: a}); err != nil {
		t.Fatalf("resign with a stale key: %v", err)
	}
	if leader, err := ec[0].Leader(cx, &v3electionpb.LeaderRequest{Name: name}); err != nil || string(leader.Kv.Key) != string(b.Key) {
		t.Fatalf("leader after a stale resign: %v, %v", leader, err)
	}
	// The leader's lease is its lifeline: revoking it ends the leadership.
	if _, err := clis[0].Revoke(cx, leaseB); err != nil {
		t.Fatal(err)
	}
	_, err = ec[1].Leader(cx, &v3electionpb.LeaderRequest{Name: name})
	wantGRPCCode(t, err, codes.NotFound, "election: no leader")
	_, err = ec[0].Campaign(cx, &v3electionpb.CampaignRequest{Name: name, Lease: 0x7eadbeef, Value: []byte("c")})
	wantGRPCCode(t, err, codes.NotFound, "etcdserver: requested lease not found")
}

func TestLockServiceAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	clis := []*clientv3.Client{c.client(0), c.client(1), c.client(2)}
	var lc []v3lockpb.LockClient
	for _, cli := range clis {
		lc = append(lc, v3lockpb.NewLockClient(cli.ActiveConnection()))
	}
	name := []byte("svc/lock")
	lock := func(node int, lease clientv3.LeaseID) <-chan callResult[*v3lockpb.LockResponse] {
		ch := make(chan callResult[*v3lockpb.LockResponse], 1)
		go func() {
			resp, err := lc[node].Lock(cx, &v3lockpb.LockRequest{Name: name, Lease: int64(lease)})
			ch <- callResult[*v3lockpb.LockResponse]{resp, err}
		}()
		return ch
	}
	acquired := func(ch <-chan callResult[*v3lockpb.LockResponse], who string) *v3lockpb.LockResponse {
		t.Helper()
		r := returnsWithin(t, ch, 5*time.Second, who)
		if r.err != nil {
			t.Fatalf("%s: %v", who, r.err)
		}
		return r.resp
	}
	createRevision := func(key []byte) int64 {
		t.Helper()
		got, err := clis[0].Get(cx, string(key))
		if err != nil || len(got.Kvs) != 1 {
			t.Fatalf("lock key %s: %v, %v", key, got, err)
		}
		return got.Kvs[0].CreateRevision
	}
	leaseA, leaseB, leaseC, leaseD := grantLease(t, clis[0], 30), grantLease(t, clis[1], 30), grantLease(t, clis[2], 30), grantLease(t, clis[2], 30)

	a := acquired(lock(0, leaseA), "the first Lock")
	aRev := createRevision(a.Key)
	if string(a.Key) != fmt.Sprintf("%s/%x", name, leaseA) || aRev != a.Header.Revision {
		t.Fatalf("uncontended lock key %s created at %d, header revision %d", a.Key, aRev, a.Header.Revision)
	}
	waitB := lock(1, leaseB)
	blocksFor(t, waitB, 300*time.Millisecond, "Lock while held")
	// Unlock from another member: the key is the capability.
	if _, err := lc[2].Unlock(cx, &v3lockpb.UnlockRequest{Key: a.Key}); err != nil {
		t.Fatal(err)
	}
	b := acquired(waitB, "Lock after Unlock")
	bRev := createRevision(b.Key)
	if bRev <= aRev || b.Header.Revision <= a.Header.Revision {
		t.Fatalf("fencing: second holder %s created at %d (header %d), first at %d (header %d)",
			b.Key, bRev, b.Header.Revision, aRev, a.Header.Revision)
	}

	// A holder whose lease is revoked loses the lock to the next waiter.
	waitC := lock(2, leaseC)
	blocksFor(t, waitC, 300*time.Millisecond, "Lock while held by b")
	if _, err := clis[0].Revoke(cx, leaseB); err != nil {
		t.Fatal(err)
	}
	cResp := acquired(waitC, "Lock after the holder's lease was revoked")
	if cRev := createRevision(cResp.Key); cRev <= bRev || cResp.Header.Revision <= b.Header.Revision {
		t.Fatalf("fencing: third holder created at %d (header %d), second at %d (header %d)",
			cRev, cResp.Header.Revision, bRev, b.Header.Revision)
	}

	// A waiter whose lease ends while it waits gets etcd's "session is
	// expired" once its turn comes, not the lock.
	waitD := lock(0, leaseD)
	blocksFor(t, waitD, 300*time.Millisecond, "Lock while held by c")
	if _, err := clis[1].Revoke(cx, leaseD); err != nil {
		t.Fatal(err)
	}
	if _, err := lc[1].Unlock(cx, &v3lockpb.UnlockRequest{Key: cResp.Key}); err != nil {
		t.Fatal(err)
	}
	d := returnsWithin(t, waitD, 5*time.Second, "Lock of an ended lease")
	wantGRPCCode(t, d.err, codes.FailedPrecondition, "mutex: session is expired")

	// A waiter that gives up leaves no key behind.
	leaseE, leaseF := grantLease(t, clis[0], 30), grantLease(t, clis[1], 30)
	e := acquired(lock(0, leaseE), "Lock of a free lock")
	short, cancel := context.WithTimeout(cx, 300*time.Millisecond)
	_, err := lc[1].Lock(short, &v3lockpb.LockRequest{Name: name, Lease: int64(leaseF)})
	cancel()
	wantGRPCCode(t, err, codes.DeadlineExceeded, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := clis[2].Get(cx, string(name)+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Kvs) == 1 && string(got.Kvs[0].Key) == string(e.Key) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock keys after a waiter gave up: %v", got.Kvs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	_, err = lc[0].Lock(cx, &v3lockpb.LockRequest{Name: []byte("svc/other"), Lease: 0x7eadbeef})
	wantGRPCCode(t, err, codes.NotFound, "etcdserver: requested lease not found")
}

// TestStoppingNodeEndsBlockedCalls checks that a node's Close ends the
// Lock and Observe calls blocked on it at once, with codes.Unavailable.
func TestStoppingNodeEndsBlockedCalls(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	stopping := 2
	for stopping == c.leader() {
		stopping-- // keep the cluster's leader: the test is about the node
	}
	cli, victim := c.client(0), c.client(stopping)
	holder := grantLease(t, cli, 30)
	if _, err := v3lockpb.NewLockClient(cli.ActiveConnection()).Lock(cx, &v3lockpb.LockRequest{Name: []byte("stop/lock"), Lease: int64(holder)}); err != nil {
		t.Fatal(err)
	}
	waiter := grantLease(t, cli, 30)
	blocked := make(chan error, 1)
	go func() {
		_, err := v3lockpb.NewLockClient(victim.ActiveConnection()).Lock(cx, &v3lockpb.LockRequest{Name: []byte("stop/lock"), Lease: int64(waiter)})
		blocked <- err
	}()
	observe, err := v3electionpb.NewElectionClient(victim.ActiveConnection()).Observe(cx, &v3electionpb.LeaderRequest{Name: []byte("stop/none")})
	if err != nil {
		t.Fatal(err)
	}
	observed := make(chan error, 1)
	go func() {
		_, err := observe.Recv()
		observed <- err
	}()
	blocksFor(t, blocked, 300*time.Millisecond, "Lock while held")

	start := time.Now()
	c.stop(stopping)
	wantGRPCCode(t, returnsWithin(t, blocked, 5*time.Second, "blocked Lock on a stopped node"), codes.Unavailable, "")
	wantGRPCCode(t, returnsWithin(t, observed, 5*time.Second, "Observe on a stopped node"), codes.Unavailable, "")
	// The graceful stop gives up on stuck calls after 2s; these ended.
	if took := time.Since(start); took >= 2*time.Second {
		t.Fatalf("stopping the node took %v: the blocked calls held it up", took)
	}
}
