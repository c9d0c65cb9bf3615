package concurrency

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	etcdconc "go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unreachableClient is a local client of a port nothing listens on (the
// dial is lazy, so making it needs no server).
func unreachableClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := NewLocalClient("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestToGRPCErrorKeepsEtcdTextsWithMeaningfulCodes(t *testing.T) {
	cli := unreachableClient(t)
	live := context.Background()
	cases := []struct {
		err  error
		code codes.Code
		text string
	}{
		{etcdconc.ErrElectionNoLeader, codes.NotFound, "election: no leader"},
		{etcdconc.ErrElectionNotLeader, codes.FailedPrecondition, "election: not leader"},
		{etcdconc.ErrSessionExpired, codes.FailedPrecondition, "mutex: session is expired"},
		// clientv3 hands the node's errors back as EtcdError values.
		{rpctypes.ErrLeaseNotFound, codes.NotFound, "etcdserver: requested lease not found"},
		{rpctypes.ErrTimeout, codes.Unavailable, "etcdserver: request timed out"},
		{ErrMissingLeaderKey, codes.InvalidArgument, `"leader" field must be provided`},
		{context.DeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded.Error()},
		{errors.New("lost watcher waiting for delete"), codes.Unknown, "lost watcher waiting for delete"},
	}
	for _, tc := range cases {
		got := status.Convert(toGRPCError(live, cli, tc.err))
		if got.Code() != tc.code || got.Message() != tc.text {
			t.Errorf("toGRPCError(%v) = %v %q, want %v %q", tc.err, got.Code(), got.Message(), tc.code, tc.text)
		}
	}
	if err := toGRPCError(live, cli, nil); err != nil {
		t.Errorf("toGRPCError(nil) = %v", err)
	}

	// The caller's own cancellation wins over whatever it caused.
	gone, cancel := context.WithCancel(live)
	cancel()
	if got := status.Code(toGRPCError(gone, cli, etcdconc.ErrSessionExpired)); got != codes.Canceled {
		t.Errorf("error of a cancelled call has code %v, want Canceled", got)
	}
	// A closed local client means the node stops.
	cli.Close()
	if got := toGRPCError(live, cli, context.Canceled); !errors.Is(got, ErrStopping) {
		t.Errorf("error after the client closed = %v, want %v", got, ErrStopping)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err == nil {
		t.Error("a config without Client is valid")
	}
	cfg.Client = unreachableClient(t)
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config with a client: %v", err)
	}
	for _, bad := range []int{0, -1, maxWaitingCallsLimit + 1} {
		cfg.MaxWaitingCalls = bad
		if err := cfg.Validate(); err == nil {
			t.Errorf("MaxWaitingCalls %d is valid", bad)
		}
	}
}

func TestNewLocalClientReachesUnspecifiedAddressesOverLoopback(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:2379":   "127.0.0.1:2379",
		"[::]:2379":      "[::1]:2379",
		"10.1.2.3:2379":  "10.1.2.3:2379",
		"localhost:2379": "localhost:2379",
	} {
		cli, err := NewLocalClient(addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if eps := cli.Endpoints(); len(eps) != 1 || eps[0] != want {
			t.Errorf("NewLocalClient(%s) endpoints %v, want %s", addr, eps, want)
		}
		cli.Close()
	}
	if _, err := NewLocalClient("no-port"); err == nil {
		t.Error("an address without a port is accepted")
	}
}
