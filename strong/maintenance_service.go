package strong

import (
	"context"
	"crypto/sha256"
	"io"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EtcdVersion is the etcd server version cairn reports (Status), the
// version of the API it implements.
const EtcdVersion = "3.7.3"

// maintenanceService is etcd's Maintenance API.
type maintenanceService struct {
	etcdserverpb.UnimplementedMaintenanceServer
	s *Server
}

func (m *maintenanceService) Status(context.Context, *etcdserverpb.StatusRequest) (*etcdserverpb.StatusResponse, error) {
	s := m.s
	lead, term := s.Leader()
	st := s.node.status()
	size := s.sm.sizeBytes()
	resp := &etcdserverpb.StatusResponse{
		Header:           s.header(s.sm.kv.Rev()),
		Version:          EtcdVersion,
		DbSize:           size,
		DbSizeInUse:      size,
		Leader:           lead,
		RaftIndex:        st.commit,
		RaftTerm:         term,
		RaftAppliedIndex: s.node.applied.get(),
		IsLearner:        st.learner,
		StorageVersion:   "3.6.0",
		DbSizeQuota:      s.cfg.QuotaBackendBytes,
	}
	for _, a := range s.sm.alarms() {
		resp.Errors = append(resp.Errors, "memberID:"+hexID(a.MemberID)+" alarm:"+a.Alarm.String())
	}
	return resp, nil
}

func (m *maintenanceService) HashKV(ctx context.Context, req *etcdserverpb.HashKVRequest) (*etcdserverpb.HashKVResponse, error) {
	h, err := m.s.sm.kv.HashKV(req.Revision)
	if err != nil {
		return nil, mvccError(err)
	}
	return &etcdserverpb.HashKVResponse{
		Header: m.s.header(m.s.sm.kv.Rev()), Hash: h.Hash, CompactRevision: h.CompactRevision, HashRevision: h.Revision,
	}, nil
}

func (m *maintenanceService) Hash(ctx context.Context, _ *etcdserverpb.HashRequest) (*etcdserverpb.HashResponse, error) {
	h, err := m.s.sm.kv.HashKV(0)
	if err != nil {
		return nil, mvccError(err)
	}
	return &etcdserverpb.HashResponse{Header: m.s.header(m.s.sm.kv.Rev()), Hash: h.Hash}, nil
}

func (m *maintenanceService) Alarm(ctx context.Context, req *etcdserverpb.AlarmRequest) (*etcdserverpb.AlarmResponse, error) {
	if req.Action == etcdserverpb.AlarmRequest_GET {
		return &etcdserverpb.AlarmResponse{Header: m.s.header(m.s.sm.kv.Rev()), Alarms: m.s.sm.alarms()}, nil
	}
	resp, err := m.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{Alarm: req})
	if err != nil {
		return nil, err
	}
	if r, ok := resp.(*etcdserverpb.AlarmResponse); ok {
		return r, nil
	}
	return &etcdserverpb.AlarmResponse{Header: m.s.header(m.s.sm.kv.Rev()), Alarms: m.s.sm.alarms()}, nil
}

// Defragment succeeds at once: Pebble reclaims space by compaction in the
// background, so there is no stop-the-world defragmentation to run.
func (m *maintenanceService) Defragment(context.Context, *etcdserverpb.DefragmentRequest) (*etcdserverpb.DefragmentResponse, error) {
	return &etcdserverpb.DefragmentResponse{Header: m.s.header(m.s.sm.kv.Rev())}, nil
}

// Snapshot streams this member's state machine in cairn's snapshot
// format, followed (as etcd does) by the SHA-256 of the stream. It is a
// cairn backup, not a bbolt file: etcdutl cannot restore it.
func (m *maintenanceService) Snapshot(_ *etcdserverpb.SnapshotRequest, srv etcdserverpb.Maintenance_SnapshotServer) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(m.s.sm.WriteSnapshot(pw)) }()
	defer pr.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(pr, buf)
		if n > 0 {
			h.Write(buf[:n])
			if serr := srv.Send(&etcdserverpb.SnapshotResponse{
				Header: m.s.header(m.s.sm.kv.Rev()), RemainingBytes: 1, Blob: buf[:n], Version: EtcdVersion,
			}); serr != nil {
				return serr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
	}
	return srv.Send(&etcdserverpb.SnapshotResponse{Header: m.s.header(m.s.sm.kv.Rev()), Blob: h.Sum(nil), Version: EtcdVersion})
}

func (m *maintenanceService) MoveLeader(ctx context.Context, req *etcdserverpb.MoveLeaderRequest) (*etcdserverpb.MoveLeaderResponse, error) {
	s := m.s
	if lead, _ := s.Leader(); lead != s.cfg.MemberID {
		return nil, rpctypes.ErrGRPCNotLeader
	}
	if _, ok, _ := s.sm.member(req.TargetID); !ok {
		return nil, rpctypes.ErrGRPCBadLeaderTransferee
	}
	select {
	case s.node.transfc <- req.TargetID:
	case <-ctx.Done():
		return nil, contextError(ctx)
	}
	deadline := time.Now().Add(s.timeout)
	for time.Now().Before(deadline) {
		if lead, _ := s.Leader(); lead == req.TargetID {
			return &etcdserverpb.MoveLeaderResponse{Header: s.header(s.sm.kv.Rev())}, nil
		}
		select {
		case <-ctx.Done():
			return nil, contextError(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil, rpctypes.ErrGRPCTimeout
}
