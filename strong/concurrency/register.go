package concurrency

import (
	"context"
	"fmt"
	"log/slog"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdconc "go.etcd.io/etcd/client/v3/concurrency"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3election/v3electionpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3lock/v3lockpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Register serves etcd's Election and Lock services on g, on top of
// cfg.Client. Call it before g serves.
func Register(g grpc.ServiceRegistrar, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := newMetrics(cfg.Registerer)
	c := &core{
		cli:  cfg.Client,
		log:  cfg.Logger,
		m:    m,
		gate: &waitGate{limit: int64(cfg.MaxWaitingCalls), m: m},
	}
	reader, err := c.session(cfg.Client.Ctx(), readerLease)
	if err != nil {
		return fmt.Errorf("concurrency: reader session: %w", err)
	}
	v3electionpb.RegisterElectionServer(g, &electionService{core: c, reader: reader})
	v3lockpb.RegisterLockServer(g, &lockService{core: c})
	return nil
}

// readerLease is the lease of the session that Leader and Observe hand to
// clientv3's Election, which wants a session even to read. They never
// write, so the lease is one no lease can have (IDs are positive); the
// session is only a handle to the client.
const readerLease = -1

// core is what both services share.
type core struct {
	cli  *clientv3.Client
	log  *slog.Logger
	m    *metrics
	gate *waitGate
}

// session returns a session on the caller's lease, orphaned at once: the
// caller, not this node, keeps the lease alive. Lease 0 grants a new lease
// of clientv3's default TTL (60s), as etcd does.
func (c *core) session(ctx context.Context, lease int64) (*etcdconc.Session, error) {
	s, err := etcdconc.NewSession(c.cli, etcdconc.WithLease(clientv3.LeaseID(lease)), etcdconc.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	s.Orphan()
	return s, nil
}

// finish turns the error of a call of method into its gRPC error and
// counts the call.
func (c *core) finish(ctx context.Context, method string, err error) error {
	err = toGRPCError(ctx, c.cli, err)
	c.m.done(method, err)
	if status.Code(err) == codes.Unknown {
		c.log.Warn("concurrency call failed", "method", method, "err", err)
	}
	return err
}
