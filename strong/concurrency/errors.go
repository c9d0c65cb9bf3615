package concurrency

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	etcdconc "go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The services' own errors; ErrMissingLeaderKey has etcd's text.
var (
	// ErrMissingLeaderKey: a Proclaim or Resign without its LeaderKey.
	ErrMissingLeaderKey = status.Error(codes.InvalidArgument, `"leader" field must be provided`)
	// ErrTooManyWaiting: Config.MaxWaitingCalls calls already run.
	ErrTooManyWaiting = status.Error(codes.ResourceExhausted, "concurrency: too many waiting calls on this node")
	// ErrStopping: the node's local client is closed, the node stops.
	ErrStopping = status.Error(codes.Unavailable, "concurrency: the node is stopping")
	// ErrObserveInterrupted: an Observe stream lost its watch (the node
	// lost its leader, or the watched revision was compacted); the
	// caller observes again.
	ErrObserveInterrupted = status.Error(codes.Unavailable, "election: observation interrupted")
)

// toGRPCError returns the gRPC error for err, which a service method got
// while serving a request with context reqCtx through cli. It keeps
// etcd's texts and picks the codes that tell a caller what to do (see the
// package doc). nil stays nil.
func toGRPCError(reqCtx context.Context, cli *clientv3.Client, err error) error {
	var etcdErr rpctypes.EtcdError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrMissingLeaderKey), errors.Is(err, ErrTooManyWaiting):
		// The services' own verdicts on the request, made before any work.
		return err
	case reqCtx.Err() != nil:
		// Whatever failed, it failed because the caller gave up.
		return status.FromContextError(reqCtx.Err()).Err()
	case cli.Ctx().Err() != nil:
		return ErrStopping
	case errors.Is(err, etcdconc.ErrElectionNoLeader):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, etcdconc.ErrElectionNotLeader), errors.Is(err, etcdconc.ErrSessionExpired):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.As(err, &etcdErr):
		// clientv3 turned the node's gRPC error into an EtcdError; give
		// it back its code, so the caller's client sees what the KV or
		// Lease service itself would have sent.
		return status.Error(etcdErr.Code(), etcdErr.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.FromContextError(err).Err()
}
