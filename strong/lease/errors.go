package lease

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The lessor's errors. ToGRPCError turns each into the gRPC error etcd
// sends for it.
var (
	// ErrLeaseNotFound: no lease has the ID (or the ID is NoLease).
	ErrLeaseNotFound = errors.New("lease: requested lease not found")
	// ErrLeaseExists: Grant of an ID that is already granted.
	ErrLeaseExists = errors.New("lease: lease already exists")
	// ErrTTLTooLarge: Grant of a TTL above MaxTTL.
	ErrTTLTooLarge = errors.New("lease: too large lease TTL")
	// ErrNotPrimary: a leader-only operation (Renew, Remaining,
	// TimeToLive) on a lessor that is not promoted, or that was demoted
	// while the operation waited.
	ErrNotPrimary = errors.New("lease: not the primary lessor")
)

// ToGRPCError returns the gRPC error etcd would send for err: the lessor's
// errors become rpctypes' lease errors ("etcdserver: requested lease not
// found", ...), ErrNotPrimary becomes the retryable "leader changed", a
// context error becomes codes.Canceled or codes.DeadlineExceeded, an error
// that already carries a gRPC status passes unchanged (so a node may return
// rpctypes.ErrGRPCNoLeader and the like), and anything else becomes
// codes.Unknown with its text, as etcd's togRPCError does. nil stays nil.
func ToGRPCError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrLeaseNotFound):
		return rpctypes.ErrGRPCLeaseNotFound
	case errors.Is(err, ErrLeaseExists):
		return rpctypes.ErrGRPCLeaseExist
	case errors.Is(err, ErrTTLTooLarge):
		return rpctypes.ErrGRPCLeaseTTLTooLarge
	case errors.Is(err, ErrNotPrimary):
		// etcd sends "leader changed" where a lessor lost its primacy
		// mid-request, because clients retry it (v3_server.go).
		return rpctypes.ErrGRPCLeaderChanged
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unknown, err.Error())
}

// isLeaseNotFound reports whether err means "no such lease", whether a
// backend returned the lessor's error or etcd's gRPC error.
func isLeaseNotFound(err error) bool {
	if errors.Is(err, ErrLeaseNotFound) {
		return true
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.NotFound && st.Message() == rpctypes.ErrorDesc(rpctypes.ErrGRPCLeaseNotFound)
}
