package kvapply

import (
	"fmt"

	"github.com/cairndb/cairn/storage/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Applier applies etcd KV requests to a Store. Its apply methods run in the
// Raft apply loop, one committed entry at a time; each takes the entry's
// raft index and records it in the store whether or not the request
// succeeds, so every entry is applied exactly once.
//
// Errors: an etcd gRPC error (IsRequestError) is the request's answer, and
// the index was recorded; any other error is an internal failure that the
// apply loop must treat as fatal.
type Applier struct {
	store        *mvcc.Store
	opts         Options
	maxKeySize   int
	maxValueSize int
}

// New returns an Applier for store.
func New(store *mvcc.Store, opts Options) (*Applier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOptions)
	}
	a := &Applier{store: store, opts: opts}
	a.maxKeySize, a.maxValueSize = store.Limits()
	return a, nil
}

// Put applies a PutRequest as one write transaction at consistentIndex.
func (a *Applier) Put(r *pb.PutRequest, consistentIndex uint64) (*pb.PutResponse, error) {
	if !a.leaseExists(r.GetLease()) {
		return nil, a.failed(consistentIndex, rpctypes.ErrGRPCLeaseNotFound)
	}
	w := a.store.Write()
	resp, err := put(w, r)
	return commit(a, w, consistentIndex, resp, err)
}

// DeleteRange applies a DeleteRangeRequest as one write transaction at
// consistentIndex.
func (a *Applier) DeleteRange(r *pb.DeleteRangeRequest, consistentIndex uint64) (*pb.DeleteRangeResponse, error) {
	w := a.store.Write()
	resp, err := deleteRange(w, r)
	return commit(a, w, consistentIndex, resp, err)
}

// Txn applies a TxnRequest as one write transaction at consistentIndex:
// all its changes share one revision. The compares of the txn and of every
// nested txn are evaluated first, on the state before any change (as
// etcd); then the chosen ops are checked (ignore_value or ignore_lease on
// a missing key, an unknown lease, a range at a future or compacted
// revision) and only then executed, so a failing txn changes nothing.
func (a *Applier) Txn(r *pb.TxnRequest, consistentIndex uint64) (*pb.TxnResponse, error) {
	w := a.store.Write()
	resp, err := a.txn(w, w, r)
	return commit(a, w, consistentIndex, resp, err)
}

// Compact applies a CompactionRequest at consistentIndex. The returned
// channel is closed when the compacted records are physically deleted; a
// request with physical set waits on it (the caller's business).
func (a *Applier) Compact(r *pb.CompactionRequest, consistentIndex uint64) (*pb.CompactionResponse, <-chan struct{}, error) {
	done, err := a.store.Compact(r.GetRevision(), consistentIndex)
	if err != nil {
		return nil, nil, a.failed(consistentIndex, err)
	}
	return &pb.CompactionResponse{Header: &pb.ResponseHeader{Revision: a.store.Rev()}}, done, nil
}

// commit ends w at consistentIndex when the request succeeded, and
// otherwise discards it and records the index alone.
func commit[T any](a *Applier, w *mvcc.WriteTxn, consistentIndex uint64, resp T, err error) (T, error) {
	var zero T
	if err != nil {
		w.Abort()
		return zero, a.failed(consistentIndex, err)
	}
	if _, err := w.End(consistentIndex); err != nil {
		return zero, err
	}
	return resp, nil
}

// failed records consistentIndex for a request that failed with a request
// error and returns that error as etcd's gRPC error; an internal error is
// returned as is, recording nothing.
func (a *Applier) failed(consistentIndex uint64, err error) error {
	gerr := ToGRPCError(err)
	if !IsRequestError(gerr) {
		return err
	}
	if _, rerr := a.store.Write().End(consistentIndex); rerr != nil {
		return fmt.Errorf("kvapply: recording index %d after %v: %w", consistentIndex, gerr, rerr)
	}
	return gerr
}

func (a *Applier) leaseExists(id int64) bool {
	return id == 0 || a.opts.LeaseExists == nil || a.opts.LeaseExists(id)
}

// put executes a PutRequest inside w, as etcd's put.
func put(w *mvcc.WriteTxn, r *pb.PutRequest) (*pb.PutResponse, error) {
	value, lease := r.GetValue(), r.GetLease()
	if r.GetIgnoreValue() || r.GetIgnoreLease() {
		rr, err := w.Range(r.GetKey(), nil, mvcc.RangeOptions{})
		if err != nil {
			return nil, err
		}
		if len(rr.KVs) == 0 {
			// ignore_{value,lease} needs the previous key-value pair.
			return nil, rpctypes.ErrGRPCKeyNotFound
		}
		if r.GetIgnoreValue() {
			value = rr.KVs[0].GetValue()
		}
		if r.GetIgnoreLease() {
			lease = rr.KVs[0].GetLease()
		}
	}
	prev, err := w.Put(r.GetKey(), value, lease)
	if err != nil {
		return nil, err
	}
	resp := &pb.PutResponse{Header: &pb.ResponseHeader{Revision: w.BeginRev() + 1}}
	if r.GetPrevKv() {
		resp.PrevKv = prev
	}
	return resp, nil
}

// deleteRange executes a DeleteRangeRequest inside w, as etcd's: the
// header revision is the txn's new revision once anything in it changed,
// else the current one.
func deleteRange(w *mvcc.WriteTxn, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	deleted, err := w.DeleteRange(r.GetKey(), r.GetRangeEnd())
	if err != nil {
		return nil, err
	}
	resp := &pb.DeleteRangeResponse{Header: &pb.ResponseHeader{Revision: w.Rev()}, Deleted: int64(len(deleted))}
	if r.GetPrevKv() {
		resp.PrevKvs = deleted
	}
	return resp, nil
}
