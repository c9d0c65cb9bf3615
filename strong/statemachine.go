package strong

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/storage/mvcc"
	"github.com/cairndb/cairn/strong/kvapply"
	"github.com/cairndb/cairn/strong/lease"
)

// Meta record kinds.
const (
	kindMember  = "member"
	kindCluster = "cluster"
	kindAlarm   = "alarm"
)

// stateMachine is the strong tier's replicated state: the MVCC key space
// (package mvcc), leases, members and alarms. Apply and ApplyConfChange
// run on the Raft loop; reads run anywhere.
type stateMachine struct {
	srv  *Server
	cfg  Config
	log  *slog.Logger
	db   *pebble.DB
	kv   *mvcc.Store
	meta metaStore
	// base is the member's logger for the packages below.
	base *slog.Logger
	// lessor is the lease table (replicated) and, on the leader, the
	// expiry clock.
	lessor *lease.Lessor
	// kvApply applies etcd's KV requests to kv.
	kvApply *kvapply.Applier
	// alarmCache holds the raised alarms (nil: reload from the store).
	alarmCache atomic.Pointer[[]*etcdserverpb.AlarmMember]
	// size is the store's size on disk, refreshed in the background.
	size atomic.Int64
	// applyMu is held while an entry is applied, so that a snapshot takes
	// a consistent cut of the MVCC store and the meta records.
	applyMu sync.Mutex
}

// newStateMachine opens the state machine; base is the member's logger
// without a component (the packages under it add their own).
func newStateMachine(cfg Config, base *slog.Logger) (*stateMachine, error) {
	sm := &stateMachine{cfg: cfg, log: base.With("component", "strong"), db: cfg.DB, meta: metaStore{db: cfg.DB}, base: base}
	opts := mvcc.DefaultOptions()
	opts.MaxKeySize = cfg.MaxRequestBytes
	opts.MaxValueSize = cfg.MaxRequestBytes
	opts.Registerer = cfg.Registerer
	opts.Logger = base
	opts.OnCommit = sm.onCommit
	kv, err := mvcc.Open(cfg.DB, opts)
	if err != nil {
		return nil, fmt.Errorf("strong: open mvcc store: %w", err)
	}
	sm.kv = kv
	sm.refreshSize()
	if err := sm.openLessor(); err != nil {
		return nil, err
	}
	ko := kvapply.DefaultOptions()
	ko.MaxTxnOps = cfg.MaxTxnOps
	ko.LeaseExists = func(id int64) bool {
		_, ok := sm.lessor.Lookup(lease.ID(id))
		return ok
	}
	if sm.kvApply, err = kvapply.New(kv, ko); err != nil {
		return nil, err
	}
	return sm, nil
}

func (sm *stateMachine) close() { _ = sm.kv.Close() }

// ConsistentIndex implements StateMachine.
func (sm *stateMachine) ConsistentIndex() uint64 { return sm.kv.ConsistentIndex() }

// Sync implements StateMachine: a synced write to the shared store's WAL
// makes every earlier write durable.
func (sm *stateMachine) Sync() error { return sm.db.LogData(nil, pebble.Sync) }

// onCommit receives each MVCC transaction's events for the watchers.
func (sm *stateMachine) onCommit(rev int64, events []*mvccpb.Event) {
	if sm.lessor != nil {
		sm.trackLeases(events)
	}
	if sm.srv != nil && sm.srv.watchHub != nil {
		sm.srv.watchHub.Notify(rev, events)
	}
}

// Apply implements StateMachine.
func (sm *stateMachine) Apply(index uint64, req *etcdserverpb.InternalRaftRequest) (any, error) {
	sm.applyMu.Lock()
	defer sm.applyMu.Unlock()
	switch {
	case req.Put != nil, req.DeleteRange != nil, req.Txn != nil:
		return sm.applyKV(index, req)
	case req.Compaction != nil:
		resp, done, err := sm.kvApply.Compact(req.Compaction, index)
		if err != nil {
			return nil, requestError(err)
		}
		if req.Compaction.Physical {
			<-done
		}
		return resp, nil
	case req.LeaseGrant != nil:
		return sm.applyLeaseGrant(index, req.LeaseGrant)
	case req.LeaseRevoke != nil:
		return sm.applyLeaseRevoke(index, req.LeaseRevoke)
	case req.LeaseCheckpoint != nil:
		return sm.applyLeaseRenew(index, req.LeaseCheckpoint)
	case req.Alarm != nil:
		return sm.applyAlarm(index, req.Alarm)
	case req.ClusterMemberAttrSet != nil:
		a := req.ClusterMemberAttrSet
		m, ok, err := sm.member(a.Member_ID)
		if err == nil && ok && a.MemberAttributes != nil {
			m.Name, m.ClientURLs = a.MemberAttributes.Name, a.MemberAttributes.ClientUrls
			err = sm.putMember(m)
		}
		if err != nil {
			return nil, err
		}
		sm.recordIndex(index)
		return nil, nil
	}
	sm.recordIndex(index)
	return nil, errors.New("strong: unsupported request in the log")
}

// applyKV applies Put, DeleteRange and Txn; the applier records the
// index whether or not the request succeeds.
func (sm *stateMachine) applyKV(index uint64, req *etcdserverpb.InternalRaftRequest) (any, error) {
	var (
		resp any
		err  error
	)
	switch {
	case req.Put != nil:
		resp, err = sm.kvApply.Put(req.Put, index)
	case req.DeleteRange != nil:
		resp, err = sm.kvApply.DeleteRange(req.DeleteRange, index)
	default:
		resp, err = sm.kvApply.Txn(req.Txn, index)
	}
	if err != nil {
		return nil, requestError(err)
	}
	return resp, nil
}

// fatalError marks a failure of the store itself while applying: the
// member must stop rather than diverge from the others.
type fatalError struct{ err error }

func (e fatalError) Error() string { return "strong: apply failed: " + e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

// requestError passes a request's own error (etcd's gRPC errors) to its
// client and turns anything else into a fatalError.
func requestError(err error) error {
	if kvapply.IsRequestError(err) {
		return err
	}
	return fatalError{err: err}
}

// recordIndex records an entry with no MVCC effect as applied.
func (sm *stateMachine) recordIndex(index uint64) {
	w := sm.kv.Write()
	if _, err := w.End(index); err != nil {
		sm.log.Error("recording the applied index", "index", index, "err", err)
	}
}

// ApplyConfChange implements StateMachine.
func (sm *stateMachine) ApplyConfChange(index uint64, cc raftpb.ConfChange, _ raftpb.ConfState) error {
	sm.applyMu.Lock()
	defer sm.applyMu.Unlock()
	for _, ch := range cc.Changes {
		switch ch.Type {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			var m Member
			if len(cc.Context) > 0 {
				if err := json.Unmarshal(cc.Context, &m); err != nil {
					return fmt.Errorf("conf change at %d: member record: %w", index, err)
				}
			}
			if old, ok, err := sm.member(ch.NodeID); err != nil {
				return err
			} else if ok {
				// A promotion or an update: keep what the entry does not
				// change.
				if m.ID == 0 {
					m = old
				}
				if m.Name == "" {
					m.Name, m.ClientURLs = old.Name, old.ClientURLs
				}
			}
			m.ID = ch.NodeID
			m.IsLearner = ch.Type == raftpb.ConfChangeAddLearnerNode
			if err := sm.putMember(m); err != nil {
				return err
			}
			if sm.srv != nil && m.ID != sm.cfg.MemberID {
				if err := sm.srv.addPeer(m); err != nil {
					sm.log.Warn("member added but unreachable", "member", fmt.Sprintf("%x", m.ID), "err", err)
				}
			}
		case raftpb.ConfChangeRemoveNode:
			if err := sm.meta.delete(kindMember, ch.NodeID); err != nil {
				return err
			}
			if sm.srv != nil && ch.NodeID != sm.cfg.MemberID {
				_ = sm.cfg.Transport.RemovePeer(ch.NodeID)
			}
			if ch.NodeID == sm.cfg.MemberID {
				sm.log.Warn("this member was removed from the cluster")
			}
		}
	}
	return nil
}

func (sm *stateMachine) putMember(m Member) error { return sm.meta.put(kindMember, m.ID, m) }

func (sm *stateMachine) member(id uint64) (Member, bool, error) {
	var m Member
	ok, err := sm.meta.get(kindMember, id, &m)
	return m, ok, err
}

func (sm *stateMachine) members() ([]Member, error) {
	var out []Member
	err := sm.meta.list(kindMember, func(_ uint64, raw []byte) error {
		var m Member
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

func (sm *stateMachine) setClusterID(id uint64) error { return sm.meta.put(kindCluster, 0, id) }

func (sm *stateMachine) clusterID() uint64 {
	var id uint64
	if ok, err := sm.meta.get(kindCluster, 0, &id); !ok || err != nil {
		return 0
	}
	return id
}

// alarms returns the raised alarms. Every write checks them (the quota),
// so they are kept in memory and reloaded when they change.
func (sm *stateMachine) alarms() []*etcdserverpb.AlarmMember {
	if a := sm.alarmCache.Load(); a != nil {
		return *a
	}
	a := sm.loadAlarms()
	sm.alarmCache.Store(&a)
	return a
}

func (sm *stateMachine) loadAlarms() []*etcdserverpb.AlarmMember {
	var out []*etcdserverpb.AlarmMember
	_ = sm.meta.list(kindAlarm, func(_ uint64, raw []byte) error {
		var a struct {
			Member uint64
			Alarm  int32
		}
		if json.Unmarshal(raw, &a) == nil {
			out = append(out, &etcdserverpb.AlarmMember{MemberID: a.Member, Alarm: etcdserverpb.AlarmType(a.Alarm)})
		}
		return nil
	})
	return out
}

func (sm *stateMachine) applyAlarm(index uint64, r *etcdserverpb.AlarmRequest) (any, error) {
	defer sm.recordIndex(index)
	defer sm.alarmCache.Store(nil)
	key := r.MemberID<<8 | uint64(r.Alarm)&0xff
	switch r.Action {
	case etcdserverpb.AlarmRequest_ACTIVATE:
		if r.Alarm == etcdserverpb.AlarmType_NONE {
			return nil, nil
		}
		err := sm.meta.put(kindAlarm, key, struct {
			Member uint64
			Alarm  int32
		}{r.MemberID, int32(r.Alarm)})
		if err == nil {
			sm.log.Warn("alarm raised", "member", fmt.Sprintf("%x", r.MemberID), "alarm", r.Alarm.String())
		}
		return &etcdserverpb.AlarmResponse{Header: sm.srv.header(sm.kv.Rev()), Alarms: sm.alarms()}, err
	case etcdserverpb.AlarmRequest_DEACTIVATE:
		var err error
		if r.Alarm == etcdserverpb.AlarmType_NONE {
			for _, a := range sm.alarms() {
				if a.MemberID == r.MemberID || r.MemberID == 0 {
					err = errors.Join(err, sm.meta.delete(kindAlarm, a.MemberID<<8|uint64(a.Alarm)&0xff))
				}
			}
		} else {
			err = sm.meta.delete(kindAlarm, key)
		}
		return &etcdserverpb.AlarmResponse{Header: sm.srv.header(sm.kv.Rev()), Alarms: sm.alarms()}, err
	}
	return &etcdserverpb.AlarmResponse{Header: sm.srv.header(sm.kv.Rev()), Alarms: sm.alarms()}, nil
}

// The snapshot stream of the strong tier: a magic string, the meta
// section (members, leases, alarms) with its length in front, then the
// MVCC store's own stream (with the consistent index and a checksum) to
// the end.
const snapshotMagic = "cairnst1"

// WriteSnapshot implements StateMachine. The meta records and the MVCC
// store are read at the same point: the MVCC iterator is taken, and the
// Pebble snapshot of the meta records, while no entry is being applied.
func (sm *stateMachine) WriteSnapshot(w io.Writer) error {
	pr, pw := io.Pipe()
	defer pr.Close()
	sm.applyMu.Lock()
	metaSnap := sm.db.NewSnapshot()
	go func() {
		_, err := sm.kv.Snapshot(pw)
		pw.CloseWithError(err)
	}()
	// The first bytes of the MVCC stream arrive after its iterator exists.
	first := make([]byte, 64<<10)
	n, err := pr.Read(first)
	sm.applyMu.Unlock()
	defer metaSnap.Close()
	if err != nil && err != io.EOF {
		return err
	}
	var meta bytes.Buffer
	if err := sm.meta.writeSnapshot(&meta, metaSnap); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(snapshotMagic)
	bw.Write(binary.AppendUvarint(nil, uint64(meta.Len())))
	bw.Write(meta.Bytes())
	bw.Write(first[:n])
	if _, err := io.Copy(bw, pr); err != nil {
		return err
	}
	return bw.Flush()
}

// maxMetaSection bounds the meta section of a received snapshot.
const maxMetaSection = 1 << 30

// RestoreSnapshot implements StateMachine.
func (sm *stateMachine) RestoreSnapshot(r io.Reader) error {
	sm.applyMu.Lock()
	defer sm.applyMu.Unlock()
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return fmt.Errorf("strong: not a cairn snapshot (magic %q)", magic)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxMetaSection {
		return fmt.Errorf("strong: snapshot meta section length %d: %v", n, err)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(br, meta); err != nil {
		return fmt.Errorf("strong: snapshot meta section: %w", err)
	}
	// The MVCC stream is checked whole before anything changes; the meta
	// records are replaced after it, so a corrupt stream changes nothing.
	if _, err := sm.kv.Restore(br); err != nil {
		return err
	}
	if err := sm.meta.restoreSnapshot(bufio.NewReader(bytes.NewReader(meta))); err != nil {
		return err
	}
	sm.alarmCache.Store(nil)
	return sm.rebuildAfterRestore()
}

// rebuildAfterRestore reloads what lives in memory from a restored state:
// the watchers' view, the lease table, and connections to the members the
// snapshot names (a member that just joined knows only its flags).
func (sm *stateMachine) rebuildAfterRestore() error {
	if sm.srv != nil {
		sm.srv.watchHub.Resync()
		members, err := sm.members()
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.ID != sm.cfg.MemberID {
				if err := sm.srv.addPeer(m); err != nil {
					sm.log.Warn("cannot reach a member from the snapshot", "member", hexID(m.ID), "err", err)
				}
			}
		}
	}
	return sm.lessor.Recover(sm.kv.ForEachLeasedKey)
}

// mvccError maps an MVCC error to etcd's.
func mvccError(err error) error {
	switch {
	case errors.Is(err, mvcc.ErrCompacted):
		return rpctypes.ErrGRPCCompacted
	case errors.Is(err, mvcc.ErrFutureRev):
		return rpctypes.ErrGRPCFutureRev
	}
	return err
}

// sizeBytes is the store's size on disk (the Raft log included), the
// figure etcd reports as DbSize and checks against the quota. Computing
// it walks Pebble's metrics, too slow for every write, so it is refreshed
// every sizeRefresh (refreshSize) and read from memory.
func (sm *stateMachine) sizeBytes() int64 { return sm.size.Load() }

// sizeRefresh is how stale the size the quota check sees may be.
const sizeRefresh = time.Second

func (sm *stateMachine) refreshSize() { sm.size.Store(int64(sm.db.Metrics().DiskSpaceUsage())) }
