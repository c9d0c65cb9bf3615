package concurrency

import (
	"context"

	etcdconc "go.etcd.io/etcd/client/v3/concurrency"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3election/v3electionpb"
)

// electionService serves v3electionpb.Election.
type electionService struct {
	*core
	// reader is the session of Leader and Observe (see readerLease).
	reader *etcdconc.Session
	// Fail to compile if etcd's service grows a method.
	v3electionpb.UnsafeElectionServer
}

// Campaign enters the caller's lease as a candidate and waits until it
// leads (every older candidate resigned or lost its lease).
func (s *electionService) Campaign(ctx context.Context, req *v3electionpb.CampaignRequest) (_ *v3electionpb.CampaignResponse, err error) {
	const method = "Campaign"
	defer func() { err = s.finish(ctx, method, err) }()
	if !s.gate.enter(method) {
		return nil, ErrTooManyWaiting
	}
	defer s.gate.leave(method)
	sess, err := s.session(ctx, req.Lease)
	if err != nil {
		return nil, err
	}
	e := etcdconc.NewElection(sess, string(req.Name))
	// On a cancelled ctx Campaign deletes the candidate key itself.
	if err := e.Campaign(ctx, string(req.Value)); err != nil {
		return nil, err
	}
	return &v3electionpb.CampaignResponse{
		Header: e.Header(),
		Leader: &v3electionpb.LeaderKey{Name: req.Name, Key: []byte(e.Key()), Rev: e.Rev(), Lease: int64(sess.Lease())},
	}, nil
}

// Proclaim sets the leader's value, if req.Leader still leads.
func (s *electionService) Proclaim(ctx context.Context, req *v3electionpb.ProclaimRequest) (_ *v3electionpb.ProclaimResponse, err error) {
	defer func() { err = s.finish(ctx, "Proclaim", err) }()
	e, err := s.resume(ctx, req.Leader)
	if err != nil {
		return nil, err
	}
	if err := e.Proclaim(ctx, string(req.Value)); err != nil {
		return nil, err
	}
	return &v3electionpb.ProclaimResponse{Header: e.Header()}, nil
}

// Resign deletes req.Leader's key if it still exists with its revision;
// a stale LeaderKey resigns nothing and is no error.
func (s *electionService) Resign(ctx context.Context, req *v3electionpb.ResignRequest) (_ *v3electionpb.ResignResponse, err error) {
	defer func() { err = s.finish(ctx, "Resign", err) }()
	e, err := s.resume(ctx, req.Leader)
	if err != nil {
		return nil, err
	}
	if err := e.Resign(ctx); err != nil {
		return nil, err
	}
	return &v3electionpb.ResignResponse{Header: e.Header()}, nil
}

// Leader returns the current leader's key-value.
func (s *electionService) Leader(ctx context.Context, req *v3electionpb.LeaderRequest) (_ *v3electionpb.LeaderResponse, err error) {
	defer func() { err = s.finish(ctx, "Leader", err) }()
	resp, err := etcdconc.NewElection(s.reader, string(req.Name)).Leader(ctx)
	if err != nil {
		return nil, err
	}
	return &v3electionpb.LeaderResponse{Header: resp.Header, Kv: resp.Kvs[0]}, nil
}

// Observe streams the current leader's key-value (once there is one),
// then each new value and each new leader, until the caller leaves.
func (s *electionService) Observe(req *v3electionpb.LeaderRequest, stream v3electionpb.Election_ObserveServer) (err error) {
	const method = "Observe"
	ctx := stream.Context()
	defer func() { err = s.finish(ctx, method, err) }()
	if !s.gate.enter(method) {
		return ErrTooManyWaiting
	}
	defer s.gate.leave(method)
	// The channel closes when ctx ends or the observer's watch is cut.
	// Returning early is safe: the observer's goroutine leaves when the
	// stream's context ends with this handler.
	for resp := range etcdconc.NewElection(s.reader, string(req.Name)).Observe(ctx) {
		if err := stream.Send(&v3electionpb.LeaderResponse{Header: resp.Header, Kv: resp.Kvs[0]}); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ErrObserveInterrupted
}

// resume is the election req.Leader leads, with a session on its lease.
func (s *electionService) resume(ctx context.Context, leader *v3electionpb.LeaderKey) (*etcdconc.Election, error) {
	if leader == nil {
		return nil, ErrMissingLeaderKey
	}
	sess, err := s.session(ctx, leader.Lease)
	if err != nil {
		return nil, err
	}
	return etcdconc.ResumeElection(sess, string(leader.Name), string(leader.Key), leader.Rev), nil
}
