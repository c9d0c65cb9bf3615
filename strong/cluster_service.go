package strong

import (
	"context"
	"encoding/json"
	"net/url"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	if len(req.PeerURLs) == 0 {
		return nil, rpctypes.ErrGRPCMemberBadURLs
	}
	var urls []url.URL
	for _, s := range req.PeerURLs {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return nil, rpctypes.ErrGRPCMemberBadURLs
		}
		urls = append(urls, *u)
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
	m := Member{ID: c.s.ids.id(), PeerURLs: req.PeerURLs, IsLearner: req.IsLearner}
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

func (c *clusterService) MemberUpdate(context.Context, *etcdserverpb.MemberUpdateRequest) (*etcdserverpb.MemberUpdateResponse, error) {
	return nil, status.Error(codes.Unimplemented, "cairn: MemberUpdate (changing a member's peer URLs) is not supported yet; remove and add the member")
}

// changeMembership proposes a one-member configuration change carrying
// the member's record, and waits until it is applied here.
func (s *Server) changeMembership(ctx context.Context, typ raftpb.ConfChangeType, m Member) (raftpb.ConfState, error) {
	rec, err := json.Marshal(m)
	if err != nil {
		return raftpb.ConfState{}, err
	}
	cc := raftpb.ConfChange{Changes: []raftpb.ConfChangeSingle{{Type: typ, NodeID: m.ID}}, Context: rec}
	return s.node.proposeConfChange(ctx, cc, s.timeout)
}
