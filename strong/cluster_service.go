package strong

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairndb/cairn/raft/raftpb"
)

// clusterService is etcd's Cluster API: membership through Raft
// configuration changes.
type clusterService struct {
	etcdserverpb.UnimplementedClusterServer
	s *Server
}

func (c *clusterService) MemberList(ctx context.Context, req *etcdserverpb.MemberListRequest) (*etcdserverpb.MemberListResponse, error) {
	if req.Linearizable {
		if err := c.s.reads.wait(ctx); err != nil {
			return nil, err
		}
	}
	ms, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	return &etcdserverpb.MemberListResponse{Header: c.s.header(c.s.sm.kv.Rev()), Members: toPBMembers(ms)}, nil
}

func toPBMembers(ms []Member) []*etcdserverpb.Member {
	out := make([]*etcdserverpb.Member, len(ms))
	for i, m := range ms {
		out[i] = &etcdserverpb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
	}
	return out
}

func (c *clusterService) MemberAdd(ctx context.Context, req *etcdserverpb.MemberAddRequest) (*etcdserverpb.MemberAddResponse, error) {
	if !validPeerURLs(req.PeerURLs) {
		return nil, rpctypes.ErrGRPCMemberBadURLs
	}
	existing, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	for _, m := range existing {
		for _, p := range m.PeerURLs {
			for _, q := range req.PeerURLs {
				if p == q {
					return nil, rpctypes.ErrGRPCPeerURLExist
				}
			}
		}
	}
	m := Member{ID: MemberID(req.PeerURLs, c.s.cfg.ClusterToken), PeerURLs: req.PeerURLs, IsLearner: req.IsLearner}
	if _, ok, _ := c.s.sm.member(m.ID); ok {
		return nil, rpctypes.ErrGRPCMemberExist
	}
	typ := raftpb.ConfChangeAddNode
	if req.IsLearner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	if _, err := c.s.changeMembership(ctx, typ, m); err != nil {
		return nil, err
	}
	ms, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	added := toPBMembers([]Member{m})[0]
	return &etcdserverpb.MemberAddResponse{Header: c.s.header(c.s.sm.kv.Rev()), Member: added, Members: toPBMembers(ms)}, nil
}

func (c *clusterService) MemberRemove(ctx context.Context, req *etcdserverpb.MemberRemoveRequest) (*etcdserverpb.MemberRemoveResponse, error) {
	m, ok, err := c.s.sm.member(req.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rpctypes.ErrGRPCMemberNotFound
	}
	if _, err := c.s.changeMembership(ctx, raftpb.ConfChangeRemoveNode, m); err != nil {
		return nil, err
	}
	ms, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	return &etcdserverpb.MemberRemoveResponse{Header: c.s.header(c.s.sm.kv.Rev()), Members: toPBMembers(ms)}, nil
}

func (c *clusterService) MemberPromote(ctx context.Context, req *etcdserverpb.MemberPromoteRequest) (*etcdserverpb.MemberPromoteResponse, error) {
	m, ok, err := c.s.sm.member(req.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rpctypes.ErrGRPCMemberNotFound
	}
	if !m.IsLearner {
		return nil, rpctypes.ErrGRPCMemberNotLearner
	}
	m.IsLearner = false
	if _, err := c.s.changeMembership(ctx, raftpb.ConfChangeAddNode, m); err != nil {
		return nil, err
	}
	ms, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	return &etcdserverpb.MemberPromoteResponse{Header: c.s.header(c.s.sm.kv.Rev()), Members: toPBMembers(ms)}, nil
}

// MemberUpdate changes a member's peer URLs. The change travels as a
// configuration entry that keeps the member's role (a no-op for Raft)
// and carries the new record, so every member applies it in log order.
func (c *clusterService) MemberUpdate(ctx context.Context, req *etcdserverpb.MemberUpdateRequest) (*etcdserverpb.MemberUpdateResponse, error) {
	if !validPeerURLs(req.PeerURLs) {
		return nil, rpctypes.ErrGRPCMemberBadURLs
	}
	m, ok, err := c.s.sm.member(req.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rpctypes.ErrGRPCMemberNotFound
	}
	m.PeerURLs = req.PeerURLs
	typ := raftpb.ConfChangeAddNode
	if m.IsLearner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	if _, err := c.s.changeMembership(ctx, typ, m); err != nil {
		return nil, err
	}
	// Raft shows no change for a role kept, so wait for the record.
	for {
		got, _, err := c.s.sm.member(req.ID)
		if err != nil {
			return nil, err
		}
		if slices.Equal(got.PeerURLs, req.PeerURLs) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, contextError(ctx)
		case <-time.After(10 * time.Millisecond):
		}
	}
	ms, err := c.s.sm.members()
	if err != nil {
		return nil, err
	}
	return &etcdserverpb.MemberUpdateResponse{Header: c.s.header(c.s.sm.kv.Rev()), Members: toPBMembers(ms)}, nil
}

// changeMembership proposes a one-member configuration change carrying
// the member's record, and waits until it is applied here.
func (s *Server) changeMembership(ctx context.Context, typ raftpb.ConfChangeType, m Member) (raftpb.ConfState, error) {
	rec, err := json.Marshal(m)
	if err != nil {
		return raftpb.ConfState{}, err
	}
	cc := raftpb.ConfChange{Transition: raftpb.TransitionAuto, Changes: []raftpb.ConfChangeSingle{{Type: typ, NodeID: m.ID}}, Context: rec}
	return s.node.proposeConfChange(ctx, cc, s.timeout)
}

// validPeerURLs reports whether urls is a non-empty list of
// scheme://host:port URLs (etcd's ErrGRPCMemberBadURLs otherwise).
func validPeerURLs(urls []string) bool {
	for _, s := range urls {
		if u, err := url.Parse(s); err != nil || u.Host == "" || u.Port() == "" {
			return false
		}
	}
	return len(urls) > 0
}
