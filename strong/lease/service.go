package lease

import (
	"context"
	"log/slog"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// ServiceBackend is what the Lease service needs from the node. Errors may
// be the lessor's (ErrLeaseNotFound, ...), context errors, or gRPC status
// errors (rpctypes.ErrGRPCNoLeader, ...); the service maps them with
// ToGRPCError.
type ServiceBackend interface {
	// Grant proposes a LeaseGrant through Raft and returns the lease as
	// applied (its TTL raised to MinTTL). id is NoLease when the client
	// leaves the choice to the server: the backend then picks a positive
	// ID before proposing, so that every member applies the same one.
	Grant(ctx context.Context, id ID, ttl int64) (Lease, error)
	// Revoke proposes a LeaseRevoke through Raft and waits for its apply
	// (which deletes the attached keys).
	Revoke(ctx context.Context, id ID) error
	// KeepAlive renews a lease and returns its TTL. On the leader this is
	// Lessor.Renew; a follower forwards it or fails, as the node decides.
	KeepAlive(ctx context.Context, id ID) (int64, error)
	// TimeToLive reports a lease's remaining and granted TTL (and keys if
	// withKeys), as the leader's Lessor.TimeToLive computes it.
	TimeToLive(ctx context.Context, id ID, withKeys bool) (Status, error)
	// Leases lists the lease table.
	Leases(ctx context.Context) ([]Lease, error)
	// Header returns the response header for this member now: cluster
	// and member IDs, the store's current revision and the Raft term.
	Header() *pb.ResponseHeader
}

// Service is etcd's Lease gRPC service on a ServiceBackend. Register it
// with etcdserverpb.RegisterLeaseServer.
type Service struct {
	pb.UnimplementedLeaseServer
	backend ServiceBackend
	log     *slog.Logger
}

var _ pb.LeaseServer = (*Service)(nil)

// NewService returns the Lease service over backend; a nil logger means
// slog.Default().
func NewService(backend ServiceBackend, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{backend: backend, log: logger.With("component", "lease-service")}
}

// LeaseGrant grants a lease. A TTL above MaxTTL is refused here, before
// it costs a Raft round; the apply would refuse it the same way.
func (s *Service) LeaseGrant(ctx context.Context, req *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if req.TTL > MaxTTL {
		return nil, rpctypes.ErrGRPCLeaseTTLTooLarge
	}
	granted, err := s.backend.Grant(ctx, ID(req.ID), req.TTL)
	if err != nil {
		return nil, ToGRPCError(err)
	}
	return &pb.LeaseGrantResponse{Header: s.header(), ID: int64(granted.ID), TTL: granted.TTL}, nil
}

// LeaseRevoke revokes a lease and deletes its keys.
func (s *Service) LeaseRevoke(ctx context.Context, req *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	if err := s.backend.Revoke(ctx, ID(req.ID)); err != nil {
		return nil, ToGRPCError(err)
	}
	return &pb.LeaseRevokeResponse{Header: s.header()}, nil
}

// LeaseTimeToLive reports a lease's TTLs; an unknown lease answers TTL -1
// with no error, as etcd does (etcdctl prints "already expired").
func (s *Service) LeaseTimeToLive(ctx context.Context, req *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	st, err := s.backend.TimeToLive(ctx, ID(req.ID), req.Keys)
	if isLeaseNotFound(err) {
		return &pb.LeaseTimeToLiveResponse{Header: s.header(), ID: req.ID, TTL: -1}, nil
	}
	if err != nil {
		return nil, ToGRPCError(err)
	}
	resp := &pb.LeaseTimeToLiveResponse{Header: s.header(), ID: int64(st.ID), TTL: st.TTL, GrantedTTL: st.GrantedTTL}
	if req.Keys {
		resp.Keys = make([][]byte, len(st.Keys))
		for i, k := range st.Keys {
			resp.Keys[i] = []byte(k)
		}
	}
	return resp, nil
}

// LeaseLeases lists every lease's ID.
func (s *Service) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	leases, err := s.backend.Leases(ctx)
	if err != nil && !isLeaseNotFound(err) {
		return nil, ToGRPCError(err)
	}
	out := make([]*pb.LeaseStatus, len(leases))
	for i, l := range leases {
		out[i] = &pb.LeaseStatus{ID: int64(l.ID)}
	}
	return &pb.LeaseLeasesResponse{Header: s.header(), Leases: out}, nil
}

// header returns the backend's header, never nil.
func (s *Service) header() *pb.ResponseHeader {
	if h := s.backend.Header(); h != nil {
		return h
	}
	return &pb.ResponseHeader{}
}
