package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	// etcdMaxRequestBytes is etcd's default --max-request-bytes (1.5 MiB).
	etcdMaxRequestBytes = 1536 * 1024
	// etcdMaxTxnOps is etcd's default --max-txn-ops.
	etcdMaxTxnOps = 128
	// grpcOverheadBytes is what etcd (and cairn) let a gRPC message carry
	// beyond --max-request-bytes before gRPC itself refuses it.
	grpcOverheadBytes = 512 * 1024
	// clientSendLimit lifts clientv3's own 2 MiB send limit, so that the
	// server, not the client, judges the requests below.
	clientSendLimit = 16 << 20
)

func largeSends(cfg *clientv3.Config) { cfg.MaxCallSendMsgSize = clientSendLimit }

// wantEtcdError checks that err is etcd's error want, with etcd's exact
// message as clientv3 users see it.
func wantEtcdError(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || err.Error() != want.Error() {
		t.Errorf("%s: got error %v, want etcd's %q", what, err, want.Error())
	}
}

func putsTxn(n, valueBytes int) []clientv3.Op {
	ops := make([]clientv3.Op, n)
	for i := range ops {
		ops[i] = clientv3.OpPut(fmt.Sprintf("txn/%04d", i), strings.Repeat("t", valueBytes))
	}
	return ops
}

// TestBadInputGetsEtcdErrors sends what etcd refuses, through clientv3 to
// a real process with etcd's default limits.
func TestBadInputGetsEtcdErrors(t *testing.T) {
	c := startCluster(t, 1)
	cli := newClient(t, c.endpoints(), largeSends)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("value above max-request-bytes", func(t *testing.T) {
		_, err := cli.Put(ctx, "big", strings.Repeat("x", etcdMaxRequestBytes+1))
		wantEtcdError(t, "put of 1.5 MiB + 1", err, rpctypes.ErrRequestTooLarge)
	})
	t.Run("request at max-request-bytes with its framing", func(t *testing.T) {
		// etcd measures the whole marshalled request, not the value: a
		// value just under the limit plus key and framing is over it.
		_, err := cli.Put(ctx, "big", strings.Repeat("x", etcdMaxRequestBytes-8))
		wantEtcdError(t, "put of 1.5 MiB - 8", err, rpctypes.ErrRequestTooLarge)
	})
	t.Run("txn above max-request-bytes in total", func(t *testing.T) {
		// Three puts of 600 KiB: each alone is fine, together 1.8 MiB.
		_, err := cli.Txn(ctx).Then(putsTxn(3, 600*1024)...).Commit()
		wantEtcdError(t, "txn of 3 x 600 KiB", err, rpctypes.ErrRequestTooLarge)
	})
	t.Run("message above the gRPC limit", func(t *testing.T) {
		_, err := cli.Put(ctx, "big", strings.Repeat("x", etcdMaxRequestBytes+grpcOverheadBytes+1))
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("put of 2 MiB + 1: got %v, want gRPC's ResourceExhausted as etcd gives", err)
		}
	})
	t.Run("too many txn ops", func(t *testing.T) {
		_, err := cli.Txn(ctx).Then(putsTxn(etcdMaxTxnOps+1, 1)...).Commit()
		wantEtcdError(t, "txn of 129 puts", err, rpctypes.ErrTooManyOps)
		if _, err := cli.Txn(ctx).Then(putsTxn(etcdMaxTxnOps, 1)...).Commit(); err != nil {
			t.Errorf("txn of 128 puts: %v", err)
		}
	})
	t.Run("unknown lease", func(t *testing.T) {
		_, err := cli.Put(ctx, "leased", "v", clientv3.WithLease(0x1234abcd))
		wantEtcdError(t, "put with an unknown lease", err, rpctypes.ErrLeaseNotFound)
	})
	t.Run("empty key", func(t *testing.T) {
		_, err := cli.Put(ctx, "", "v")
		wantEtcdError(t, "put of an empty key", err, rpctypes.ErrEmptyKey)
		_, err = cli.Get(ctx, "")
		wantEtcdError(t, "get of an empty key", err, rpctypes.ErrEmptyKey)
		_, err = cli.Delete(ctx, "")
		wantEtcdError(t, "delete of an empty key", err, rpctypes.ErrEmptyKey)
	})
	t.Run("revisions", func(t *testing.T) {
		var rev int64
		for i := range 5 {
			resp, err := cli.Put(ctx, "rev", fmt.Sprint(i))
			if err != nil {
				t.Fatal(err)
			}
			rev = resp.Header.Revision
		}
		_, err := cli.Get(ctx, "rev", clientv3.WithRev(rev+100))
		wantEtcdError(t, "get at a future revision", err, rpctypes.ErrFutureRev)
		if _, err := cli.Compact(ctx, rev-1); err != nil {
			t.Fatal(err)
		}
		_, err = cli.Get(ctx, "rev", clientv3.WithRev(rev-2))
		wantEtcdError(t, "get below the compacted revision", err, rpctypes.ErrCompacted)
		_, err = cli.Compact(ctx, rev-2)
		wantEtcdError(t, "compact below the compacted revision", err, rpctypes.ErrCompacted)
		_, err = cli.Compact(ctx, rev+100)
		wantEtcdError(t, "compact at a future revision", err, rpctypes.ErrFutureRev)
		// The compacted revision itself is still readable.
		get, err := cli.Get(ctx, "rev", clientv3.WithRev(rev-1))
		if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "3" {
			t.Errorf("get at the compacted revision: %v, %v", get, err)
		}
	})
}

// TestRaisedLimitsAcceptWhatDefaultsRefuse runs a member with
// --max-request-bytes and --max-txn-ops raised and sends what the
// defaults refuse.
func TestRaisedLimitsAcceptWhatDefaultsRefuse(t *testing.T) {
	const (
		maxRequestBytes = 4 << 20
		maxTxnOps       = 256
	)
	c := startCluster(t, 1, "--max-request-bytes", fmt.Sprint(maxRequestBytes), "--max-txn-ops", fmt.Sprint(maxTxnOps))
	cli := newClient(t, c.endpoints(), largeSends)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	value := strings.Repeat("y", 2<<20)
	if _, err := cli.Put(ctx, "big", value); err != nil {
		t.Fatalf("put of 2 MiB under --max-request-bytes 4 MiB: %v", err)
	}
	get, err := cli.Get(ctx, "big")
	if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != value {
		t.Fatalf("get of the 2 MiB value: %d kvs, %v", len(get.Kvs), err)
	}
	_, err = cli.Put(ctx, "big", strings.Repeat("y", maxRequestBytes+1))
	wantEtcdError(t, "put of 4 MiB + 1", err, rpctypes.ErrRequestTooLarge)

	resp, err := cli.Txn(ctx).Then(putsTxn(200, 1)...).Commit()
	if err != nil || !resp.Succeeded || len(resp.Responses) != 200 {
		t.Fatalf("txn of 200 puts under --max-txn-ops 256: %v, %v", resp, err)
	}
	_, err = cli.Txn(ctx).Then(putsTxn(maxTxnOps+1, 1)...).Commit()
	wantEtcdError(t, "txn of 257 puts", err, rpctypes.ErrTooManyOps)
}
