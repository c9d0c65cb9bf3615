package kvapply

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Range answers a RangeRequest from the store's current state (whether
// that state is linearizable or merely serializable is the caller's
// business: a ReadIndex barrier before calling, or not).
func (a *Applier) Range(r *pb.RangeRequest) (*pb.RangeResponse, error) {
	v, err := a.store.Read()
	if err != nil {
		return nil, err
	}
	defer v.End()
	return executeRange(v, r)
}

// ReadTxn answers a read-only TxnRequest (IsTxnReadOnly) from one point in
// time of the store, without the log: its compares and ranges all see the
// same revision, which is the response's header revision.
func (a *Applier) ReadTxn(r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if !IsTxnReadOnly(r) {
		return nil, errWriteInReadTxn
	}
	v, err := a.store.Read()
	if err != nil {
		return nil, err
	}
	defer v.End()
	return a.txn(v, nil, r)
}
