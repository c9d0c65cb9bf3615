package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// etcd's Lock and Election services (v3lockpb, v3electionpb) have their
// generated code in etcd's server module, which cairn does not import.
// The test speaks them with hand-encoded messages, field numbers taken
// from etcd's v3lock.proto and v3election.proto, through a gRPC codec
// that passes bytes as they are.

// rawCodec sends and receives *[]byte messages unchanged. Its name is
// "proto" so that the server decodes them with its protobuf codec.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = slices.Clone(data)
	return nil
}
func (rawCodec) Name() string { return "proto" }

const (
	methodLock     = "/v3lockpb.Lock/Lock"
	methodUnlock   = "/v3lockpb.Lock/Unlock"
	methodCampaign = "/v3electionpb.Election/Campaign"
	methodProclaim = "/v3electionpb.Election/Proclaim"
	methodLeader   = "/v3electionpb.Election/Leader"
	methodObserve  = "/v3electionpb.Election/Observe"
	methodResign   = "/v3electionpb.Election/Resign"
)

// rawConn calls methods with hand-encoded messages.
type rawConn struct{ cc *grpc.ClientConn }

func (r rawConn) call(ctx context.Context, method string, req []byte) ([]byte, error) {
	var resp []byte
	err := r.cc.Invoke(ctx, method, &req, &resp, grpc.ForceCodec(rawCodec{}))
	return resp, err
}

// pbFields is one decoded message level: the last value of each field,
// as proto3 reads it.
type pbFields struct {
	bytes   map[protowire.Number][]byte
	varints map[protowire.Number]uint64
}

func decodeFields(b []byte) (pbFields, error) {
	f := pbFields{bytes: map[protowire.Number][]byte{}, varints: map[protowire.Number]uint64{}}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return f, protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			f.varints[num], b = v, b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			f.bytes[num], b = v, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return f, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return f, nil
}

// pbMessage builds a message from fields in order; a []byte or string is
// a bytes field, an int64 a varint, and a zero value is left out as
// proto3 does.
func pbMessage(fields ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(fields); i += 2 {
		num := protowire.Number(fields[i].(int))
		switch v := fields[i+1].(type) {
		case string:
			if v != "" {
				b = protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), []byte(v))
			}
		case []byte:
			if len(v) > 0 {
				b = protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
			}
		case int64:
			if v != 0 {
				b = protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(v))
			}
		default:
			panic(fmt.Sprintf("pbMessage: field %d has type %T", num, v))
		}
	}
	return b
}

// leaderKey is v3electionpb.LeaderKey.
type leaderKey struct {
	name, key  string
	rev, lease int64
}

func (k leaderKey) encode() []byte {
	return pbMessage(1, k.name, 2, k.key, 3, k.rev, 4, k.lease)
}

func decodeLeaderKey(b []byte) (leaderKey, error) {
	f, err := decodeFields(b)
	return leaderKey{name: string(f.bytes[1]), key: string(f.bytes[2]), rev: int64(f.varints[3]), lease: int64(f.varints[4])}, err
}

// probeService skips the test if the member does not serve method.
func probeService(t *testing.T, r rawConn, service, method string, req []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.call(ctx, method, req); status.Code(err) == codes.Unimplemented {
		t.Skipf("the member does not serve etcd's %s service yet (%s: %v)", service, method, err)
	}
}

// TestLockAndElectionServices calls etcd's server-side lock and election
// recipes (what etcd's gRPC gateway and non-Go clients use), when the
// member serves them.
func TestLockAndElectionServices(t *testing.T) {
	c := startCluster(t, 1)
	cli := newClient(t, c.endpoints())
	cc, err := grpc.NewClient(c.procs[0].endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	r := rawConn{cc}
	t.Run("v3lock", func(t *testing.T) {
		probeService(t, r, "v3lock", methodUnlock, pbMessage(1, "e2e-probe/none"))
		testLockService(t, r, cli)
	})
	t.Run("v3election", func(t *testing.T) {
		probeService(t, r, "v3election", methodLeader, pbMessage(1, "e2e-probe"))
		testElectionService(t, r, cli)
	})
}

func grantLease(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	return int64(resp.ID)
}

// callResult is the outcome of a call made in the background.
type callResult struct {
	resp []byte
	err  error
}

func callInBackground(r rawConn, method string, req []byte) <-chan callResult {
	done := make(chan callResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := r.call(ctx, method, req)
		done <- callResult{resp, err}
	}()
	return done
}

// waitCall waits for a background call and fails the test on its error.
func waitCall(t *testing.T, what string, done <-chan callResult) []byte {
	t.Helper()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("%s: %v", what, res.err)
		}
		return res.resp
	case <-time.After(bgOutputWithin):
		t.Fatalf("%s did not return within %v", what, bgOutputWithin)
		return nil
	}
}

// stillBlocked fails the test if the background call returns within
// contended.
func stillBlocked(t *testing.T, what string, done <-chan callResult) {
	t.Helper()
	select {
	case res := <-done:
		t.Fatalf("%s returned while it should wait: %v", what, res.err)
	case <-time.After(contended):
	}
}

func testLockService(t *testing.T, r rawConn, cli *clientv3.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lockKeyOf := func(resp []byte) string {
		t.Helper()
		f, err := decodeFields(resp)
		if err != nil || !strings.HasPrefix(string(f.bytes[2]), "glk/") {
			t.Fatalf("LockResponse %x (%v): want a key under glk/", resp, err)
		}
		return string(f.bytes[2])
	}
	first := lockKeyOf(waitCall(t, "Lock", callInBackground(r, methodLock, pbMessage(1, "glk", 2, grantLease(t, cli)))))
	second := callInBackground(r, methodLock, pbMessage(1, "glk", 2, grantLease(t, cli)))
	stillBlocked(t, "Lock of a held lock", second)
	if _, err := r.call(ctx, methodUnlock, pbMessage(1, first)); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	next := lockKeyOf(waitCall(t, "Lock after the Unlock", second))
	if next == first {
		t.Fatalf("two holders got the same lock key %q", next)
	}
	// A lock dies with its holder's lease.
	lease := grantLease(t, cli)
	if _, err := r.call(ctx, methodUnlock, pbMessage(1, next)); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	held := lockKeyOf(waitCall(t, "Lock", callInBackground(r, methodLock, pbMessage(1, "glk", 2, lease))))
	third := callInBackground(r, methodLock, pbMessage(1, "glk", 2, grantLease(t, cli)))
	stillBlocked(t, "Lock of a held lock", third)
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	if got := lockKeyOf(waitCall(t, "Lock after the holder's lease was revoked", third)); got == held {
		t.Fatalf("the lock key %q outlived its lease", held)
	}
}

func testElectionService(t *testing.T, r rawConn, cli *clientv3.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	campaign := func(done <-chan callResult) leaderKey {
		t.Helper()
		f, err := decodeFields(waitCall(t, "Campaign", done))
		if err != nil {
			t.Fatal(err)
		}
		k, err := decodeLeaderKey(f.bytes[2])
		if err != nil || k.name != "gel" || !strings.HasPrefix(k.key, "gel/") || k.rev == 0 || k.lease == 0 {
			t.Fatalf("CampaignResponse leader %+v (%v)", k, err)
		}
		return k
	}
	leaderValue := func(resp []byte) string {
		t.Helper()
		f, err := decodeFields(resp)
		if err != nil {
			t.Fatal(err)
		}
		var kv mvccpb.KeyValue
		if err := proto.Unmarshal(f.bytes[2], &kv); err != nil {
			t.Fatal(err)
		}
		return string(kv.Value)
	}
	leader := func() string {
		t.Helper()
		resp, err := r.call(ctx, methodLeader, pbMessage(1, "gel"))
		if err != nil {
			t.Fatalf("Leader: %v", err)
		}
		return leaderValue(resp)
	}

	alice := campaign(callInBackground(r, methodCampaign, pbMessage(1, "gel", 2, grantLease(t, cli), 3, "alice")))
	if got := leader(); got != "alice" {
		t.Fatalf("Leader = %q, want alice", got)
	}
	if _, err := r.call(ctx, methodProclaim, pbMessage(1, alice.encode(), 2, "alice again")); err != nil {
		t.Fatalf("Proclaim: %v", err)
	}
	if got := leader(); got != "alice again" {
		t.Fatalf("Leader after Proclaim = %q", got)
	}

	obsCtx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	observe, err := r.cc.NewStream(obsCtx, &grpc.StreamDesc{ServerStreams: true}, methodObserve, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	req := pbMessage(1, "gel")
	if err := observe.SendMsg(&req); err != nil {
		t.Fatal(err)
	}
	if err := observe.CloseSend(); err != nil {
		t.Fatal(err)
	}
	observed := func() string {
		t.Helper()
		var resp []byte
		if err := observe.RecvMsg(&resp); err != nil {
			t.Fatalf("Observe: %v", err)
		}
		return leaderValue(resp)
	}
	if got := observed(); got != "alice again" {
		t.Fatalf("Observe first saw %q", got)
	}

	bobDone := callInBackground(r, methodCampaign, pbMessage(1, "gel", 2, grantLease(t, cli), 3, "bob"))
	stillBlocked(t, "Campaign while another leads", bobDone)
	if _, err := r.call(ctx, methodResign, pbMessage(1, alice.encode())); err != nil {
		t.Fatalf("Resign: %v", err)
	}
	bob := campaign(bobDone)
	if got := leader(); got != "bob" {
		t.Fatalf("Leader after the resignation = %q, want bob", got)
	}
	if got := observed(); got != "bob" {
		t.Fatalf("Observe saw %q after the resignation, want bob", got)
	}
	if _, err := r.call(ctx, methodResign, pbMessage(1, bob.encode())); err != nil {
		t.Fatalf("Resign: %v", err)
	}
	if _, err := r.call(ctx, methodLeader, pbMessage(1, "gel")); err == nil || !strings.Contains(err.Error(), "election: no leader") {
		t.Fatalf("Leader with nobody campaigning: %v, want etcd's \"election: no leader\"", err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the election test ran out of time")
	}
}
