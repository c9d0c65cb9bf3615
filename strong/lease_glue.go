package strong

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairndb/cairn/strong/lease"
)

const kindLease = "lease"

// leaseBackend keeps the lease table in the meta records. Its writes are
// not in the same batch as the MVCC effects of the entry, but they come
// first and are idempotent, so an entry replayed after a crash in between
// leaves the same state (a replayed grant fails as a duplicate, which no
// client waits for).
type leaseBackend struct{ meta metaStore }

func (b leaseBackend) SaveLease(id lease.ID, ttl int64) error {
	return b.meta.put(kindLease, uint64(id), ttl)
}

func (b leaseBackend) DeleteLease(id lease.ID) error { return b.meta.delete(kindLease, uint64(id)) }

func (b leaseBackend) ForEachLease(fn func(id lease.ID, ttl int64) error) error {
	return b.meta.list(kindLease, func(id uint64, raw []byte) error {
		var ttl int64
		if err := json.Unmarshal(raw, &ttl); err != nil {
			return err
		}
		return fn(lease.ID(id), ttl)
	})
}

func (sm *stateMachine) openLessor() error {
	lc := lease.DefaultConfig()
	lc.MinTTL = lease.MinTTLFor(sm.cfg.ElectionTicks, sm.cfg.TickInterval)
	lc.RevokeRetryInterval = 5*time.Second + 2*time.Duration(sm.cfg.ElectionTicks)*sm.cfg.TickInterval
	lc.Backend = leaseBackend{meta: sm.meta}
	lc.Logger = sm.base
	lc.Registerer = sm.cfg.Registerer
	l, err := lease.NewLessor(lc, sm.kv.ForEachLeasedKey)
	if err != nil {
		return fmt.Errorf("strong: lessor: %w", err)
	}
	sm.lessor = l
	return nil
}

// trackLeases keeps the lessor's key attachments in step with the MVCC
// store: called with every transaction's events.
func (sm *stateMachine) trackLeases(events []*mvccpb.Event) {
	for _, ev := range events {
		key := string(ev.Kv.Key)
		if ev.PrevKv != nil && ev.PrevKv.Lease != 0 && (ev.Type == mvccpb.DELETE || ev.Kv.Lease != ev.PrevKv.Lease) {
			sm.lessor.Detach(lease.ID(ev.PrevKv.Lease), key)
		}
		if ev.Type == mvccpb.PUT && ev.Kv.Lease != 0 {
			if err := sm.lessor.Attach(lease.ID(ev.Kv.Lease), key); err != nil {
				sm.log.Error("attaching a key to its lease", "lease", ev.Kv.Lease, "err", err)
			}
		}
	}
}

func (sm *stateMachine) applyLeaseGrant(index uint64, r *etcdserverpb.LeaseGrantRequest) (any, error) {
	defer sm.recordIndex(index)
	l, err := sm.lessor.Grant(lease.ID(r.ID), r.TTL)
	if err != nil {
		return nil, lease.ToGRPCError(err)
	}
	return &etcdserverpb.LeaseGrantResponse{Header: sm.srv.header(sm.kv.Rev()), ID: int64(l.ID), TTL: l.TTL}, nil
}

func (sm *stateMachine) applyLeaseRevoke(index uint64, r *etcdserverpb.LeaseRevokeRequest) (any, error) {
	// The keys go first, with the index, in one MVCC batch; the lease
	// record after. A crash in between leaves a lease without keys, which
	// expires and is revoked again, never keys of a forgotten lease.
	keys, err := sm.lessor.Keys(lease.ID(r.ID))
	if err != nil {
		sm.recordIndex(index)
		return nil, lease.ToGRPCError(err)
	}
	w := sm.kv.Write()
	for _, k := range keys {
		if _, err := w.DeleteRange([]byte(k), nil); err != nil {
			w.Abort()
			return nil, fatalError{err: err}
		}
	}
	if _, err := w.End(index); err != nil {
		return nil, fatalError{err: err}
	}
	if _, err := sm.lessor.Revoke(lease.ID(r.ID)); err != nil {
		return nil, fatalError{err: err}
	}
	return &etcdserverpb.LeaseRevokeResponse{Header: sm.srv.header(sm.kv.Rev())}, nil
}

// applyLeaseRenew is a keepalive that a follower sent through the log:
// the leader renews the lease when it applies it.
func (sm *stateMachine) applyLeaseRenew(index uint64, r *etcdserverpb.LeaseCheckpointRequest) (any, error) {
	defer sm.recordIndex(index)
	var ttl int64
	for _, c := range r.Checkpoints {
		l, ok := sm.lessor.Lookup(lease.ID(c.ID))
		if !ok {
			return nil, rpctypes.ErrGRPCLeaseNotFound
		}
		ttl = l.TTL
		if sm.lessor.IsPrimary() {
			// Never wait here for an expired lease's revoke: the revoke is
			// an entry this very goroutine would have to apply.
			if _, err := sm.lessor.RenewIfLive(lease.ID(c.ID)); err != nil {
				return nil, lease.ToGRPCError(err)
			}
		}
	}
	return ttl, nil
}

// leaseServiceBackend implements lease.ServiceBackend for the gRPC service.
type leaseServiceBackend struct{ s *Server }

func (b leaseServiceBackend) Grant(ctx context.Context, id lease.ID, ttl int64) (lease.Lease, error) {
	if id == lease.NoLease {
		// A positive ID unique across members and time (etcd's scheme).
		id = lease.ID(b.s.ids.id() & (1<<63 - 1))
	}
	resp, err := b.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{LeaseGrant: &etcdserverpb.LeaseGrantRequest{ID: int64(id), TTL: ttl}})
	if err != nil {
		return lease.Lease{}, err
	}
	r := resp.(*etcdserverpb.LeaseGrantResponse)
	return lease.Lease{ID: lease.ID(r.ID), TTL: r.TTL}, nil
}

func (b leaseServiceBackend) Revoke(ctx context.Context, id lease.ID) error {
	_, err := b.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{LeaseRevoke: &etcdserverpb.LeaseRevokeRequest{ID: int64(id)}})
	return err
}

// KeepAlive renews in memory on the leader; a follower sends the renewal
// through the log, so it reaches whoever leads when it commits.
func (b leaseServiceBackend) KeepAlive(ctx context.Context, id lease.ID) (int64, error) {
	if b.s.sm.lessor.IsPrimary() {
		return b.s.sm.lessor.Renew(ctx, id)
	}
	resp, err := b.s.replicate(ctx, &etcdserverpb.InternalRaftRequest{LeaseCheckpoint: &etcdserverpb.LeaseCheckpointRequest{
		Checkpoints: []*etcdserverpb.LeaseCheckpoint{{ID: int64(id)}},
	}})
	if err != nil {
		return 0, err
	}
	return resp.(int64), nil
}

// TimeToLive: the leader knows the remaining time; a follower reports the
// granted TTL as the remaining time (an upper bound).
func (b leaseServiceBackend) TimeToLive(ctx context.Context, id lease.ID, withKeys bool) (lease.Status, error) {
	if b.s.sm.lessor.IsPrimary() {
		return b.s.sm.lessor.TimeToLive(id, withKeys)
	}
	if err := b.s.reads.wait(ctx); err != nil {
		return lease.Status{}, err
	}
	l, ok := b.s.sm.lessor.Lookup(id)
	if !ok {
		return lease.Status{}, lease.ErrLeaseNotFound
	}
	st := lease.Status{ID: id, TTL: l.TTL, GrantedTTL: l.TTL}
	if withKeys {
		keys, err := b.s.sm.lessor.Keys(id)
		if err != nil {
			return lease.Status{}, err
		}
		st.Keys = keys
	}
	return st, nil
}

func (b leaseServiceBackend) Leases(ctx context.Context) ([]lease.Lease, error) {
	if err := b.s.reads.wait(ctx); err != nil {
		return nil, err
	}
	return b.s.sm.lessor.Leases(), nil
}

func (b leaseServiceBackend) Header() *etcdserverpb.ResponseHeader {
	return b.s.header(b.s.sm.kv.Rev())
}

// expireLeases is the leader's loop: revoke what expired, through the log.
func (s *Server) expireLeases() {
	t := time.NewTicker(lease.DefaultExpiryCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-t.C:
		}
		s.sm.refreshSize()
		for _, id := range s.sm.lessor.Expired() {
			go func(id lease.ID) {
				ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
				defer cancel()
				_, err := s.replicate(ctx, &etcdserverpb.InternalRaftRequest{LeaseRevoke: &etcdserverpb.LeaseRevokeRequest{ID: int64(id)}})
				if err != nil && err != rpctypes.ErrGRPCLeaseNotFound {
					s.log.Warn("revoking an expired lease failed; retrying later", "lease", int64(id), "err", err)
				}
			}(id)
		}
	}
}
