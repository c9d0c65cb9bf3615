package kvapply

import (
	"errors"

	"github.com/cairndb/cairn/storage/mvcc"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/status"
)

// ToGRPCError maps the store's request errors to etcd's gRPC errors, so
// clients see exactly etcd's codes and messages; other errors are returned
// unchanged.
func ToGRPCError(err error) error {
	switch {
	case errors.Is(err, mvcc.ErrCompacted):
		return rpctypes.ErrGRPCCompacted
	case errors.Is(err, mvcc.ErrFutureRev):
		return rpctypes.ErrGRPCFutureRev
	case errors.Is(err, mvcc.ErrKeyTooLarge), errors.Is(err, mvcc.ErrValueTooLarge):
		return rpctypes.ErrGRPCRequestTooLarge
	case errors.Is(err, mvcc.ErrEmptyKey):
		return rpctypes.ErrGRPCEmptyKey
	}
	return err
}

// IsRequestError reports whether err (as returned by this package) is the
// request's fault, an etcd gRPC error for the client; anything else is an
// internal failure (storage, a stale consistent index) that the apply loop
// must not ignore.
func IsRequestError(err error) bool {
	_, ok := status.FromError(err)
	return ok && err != nil
}
