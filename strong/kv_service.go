package strong

import (
	"context"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairndb/cairn/strong/kvapply"
)

// kvService is etcd's KV API.
type kvService struct {
	etcdserverpb.UnimplementedKVServer
	s *Server
}

func (k *kvService) Range(ctx context.Context, req *etcdserverpb.RangeRequest) (*etcdserverpb.RangeResponse, error) {
	if err := k.s.sm.kvApply.ValidateRange(req); err != nil {
		return nil, err
	}
	if !req.Serializable {
		if err := k.s.reads.wait(ctx); err != nil {
			return nil, err
		}
	}
	resp, err := k.s.sm.kvApply.Range(req)
	if err != nil {
		return nil, err
	}
	resp.Header = k.s.header(resp.Header.GetRevision())
	return resp, nil
}

func (k *kvService) Put(ctx context.Context, req *etcdserverpb.PutRequest) (*etcdserverpb.PutResponse, error) {
	if err := k.s.sm.kvApply.ValidatePut(req); err != nil {
		return nil, err
	}
	if err := k.s.checkQuota(); err != nil {
		return nil, err
	}
	resp, err := k.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{Put: req})
	if err != nil {
		return nil, err
	}
	r := resp.(*etcdserverpb.PutResponse)
	r.Header = k.s.header(r.Header.GetRevision())
	return r, nil
}

func (k *kvService) DeleteRange(ctx context.Context, req *etcdserverpb.DeleteRangeRequest) (*etcdserverpb.DeleteRangeResponse, error) {
	if err := k.s.sm.kvApply.ValidateDeleteRange(req); err != nil {
		return nil, err
	}
	resp, err := k.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{DeleteRange: req})
	if err != nil {
		return nil, err
	}
	r := resp.(*etcdserverpb.DeleteRangeResponse)
	r.Header = k.s.header(r.Header.GetRevision())
	return r, nil
}

func (k *kvService) Txn(ctx context.Context, req *etcdserverpb.TxnRequest) (*etcdserverpb.TxnResponse, error) {
	if err := k.s.sm.kvApply.ValidateTxn(req); err != nil {
		return nil, err
	}
	// A transaction that only reads is served like a read: through a
	// ReadIndex round, not the log (as etcd does).
	if kvapply.IsTxnReadOnly(req) {
		if !kvapply.IsTxnSerializable(req) {
			if err := k.s.reads.wait(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := k.s.sm.kvApply.ReadTxn(req)
		if err != nil {
			return nil, err
		}
		resp.Header = k.s.header(resp.Header.GetRevision())
		return resp, nil
	}
	if err := k.s.checkQuota(); err != nil {
		return nil, err
	}
	resp, err := k.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{Txn: req})
	if err != nil {
		return nil, err
	}
	r := resp.(*etcdserverpb.TxnResponse)
	r.Header = k.s.header(r.Header.GetRevision())
	return r, nil
}

func (k *kvService) Compact(ctx context.Context, req *etcdserverpb.CompactionRequest) (*etcdserverpb.CompactionResponse, error) {
	resp, err := k.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{Compaction: req})
	if err != nil {
		return nil, err
	}
	r := resp.(*etcdserverpb.CompactionResponse)
	r.Header = k.s.header(r.Header.GetRevision())
	return r, nil
}

// checkQuota refuses writes while the NOSPACE alarm is raised, and raises
// it when the store has grown past the quota (etcd's behaviour: deletes
// and compactions still pass, so an operator can recover).
func (s *Server) checkQuota() error {
	for _, a := range s.sm.alarms() {
		if a.Alarm == etcdserverpb.AlarmType_NOSPACE {
			return rpctypes.ErrGRPCNoSpace
		}
	}
	if s.cfg.QuotaBackendBytes > 0 && s.sm.sizeBytes() > s.cfg.QuotaBackendBytes {
		go s.raiseAlarm(etcdserverpb.AlarmType_NOSPACE)
		return rpctypes.ErrGRPCNoSpace
	}
	return nil
}

func (s *Server) raiseAlarm(a etcdserverpb.AlarmType) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	_, err := s.replicate(ctx, &etcdserverpb.InternalRaftRequest{Alarm: &etcdserverpb.AlarmRequest{
		Action: etcdserverpb.AlarmRequest_ACTIVATE, MemberID: s.cfg.MemberID, Alarm: a,
	}})
	if err != nil {
		s.log.Warn("raising alarm failed", "alarm", a.String(), "err", err)
	}
}
