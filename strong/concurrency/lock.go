package concurrency

import (
	"context"

	etcdconc "go.etcd.io/etcd/client/v3/concurrency"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3lock/v3lockpb"
)

// lockService serves v3lockpb.Lock.
type lockService struct {
	*core
	// Fail to compile if etcd's service grows a method.
	v3lockpb.UnsafeLockServer
}

// Lock waits until the caller's lease holds the lock req.Name (every
// older waiter unlocked or lost its lease) and returns the lock's key.
// The lock is held until Unlock of that key or the lease's end.
func (s *lockService) Lock(ctx context.Context, req *v3lockpb.LockRequest) (_ *v3lockpb.LockResponse, err error) {
	const method = "Lock"
	defer func() { err = s.finish(ctx, method, err) }()
	if !s.gate.enter(method) {
		return nil, ErrTooManyWaiting
	}
	defer s.gate.leave(method)
	sess, err := s.session(ctx, req.Lease)
	if err != nil {
		return nil, err
	}
	mu := etcdconc.NewMutex(sess, string(req.Name))
	// On a failed wait Lock deletes the waiter key itself; if the lease
	// ended while waiting it reports ErrSessionExpired.
	if err := mu.Lock(ctx); err != nil {
		return nil, err
	}
	return &v3lockpb.LockResponse{Header: mu.Header(), Key: []byte(mu.Key())}, nil
}

// Unlock deletes the key a Lock returned, releasing the lock.
func (s *lockService) Unlock(ctx context.Context, req *v3lockpb.UnlockRequest) (_ *v3lockpb.UnlockResponse, err error) {
	defer func() { err = s.finish(ctx, "Unlock", err) }()
	resp, err := s.cli.Delete(ctx, string(req.Key))
	if err != nil {
		return nil, err
	}
	return &v3lockpb.UnlockResponse{Header: resp.Header}, nil
}
