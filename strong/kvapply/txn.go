package kvapply

import (
	"bytes"
	"cmp"
	"errors"

	"github.com/cairndb/cairn/storage/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// errWriteInReadTxn is a programming error: ReadTxn given a txn with writes.
var errWriteInReadTxn = errors.New("kvapply: write op in a read-only txn")

// txn runs a TxnRequest on view v; w is the write transaction (v itself)
// or nil for a read-only txn. The path is the outcome of every compare,
// in the order the txns are met depth-first along the chosen branches,
// all evaluated on v before any op runs.
func (a *Applier) txn(v mvcc.ReadView, w *mvcc.WriteTxn, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	path := compareToPath(v, r)
	if _, err := a.checkTxn(v, r, path); err != nil {
		return nil, err
	}
	resp, _ := newTxnResp(r, path)
	if _, err := executeTxn(v, w, r, path, resp); err != nil {
		return nil, err
	}
	// The txn's revision: the new one when it changed something.
	resp.Header.Revision = v.Rev()
	return resp, nil
}

// branch returns the ops a txn runs given its compare outcome.
func branch(r *pb.TxnRequest, succeeded bool) []*pb.RequestOp {
	if succeeded {
		return r.GetSuccess()
	}
	return r.GetFailure()
}

func compareToPath(v mvcc.ReadView, r *pb.TxnRequest) []bool {
	path := []bool{applyCompares(v, r.GetCompare())}
	for _, op := range branch(r, path[0]) {
		if t := op.GetRequestTxn(); t != nil {
			path = append(path, compareToPath(v, t)...)
		}
	}
	return path
}

func applyCompares(v mvcc.ReadView, cmps []*pb.Compare) bool {
	for _, c := range cmps {
		if !applyCompare(v, c) {
			return false
		}
	}
	return true
}

// applyCompare holds when the compare holds for every key of its range. A
// range with no key compares a zero KeyValue, except for VALUE, which then
// always fails (a missing value cannot be told from an empty one).
func applyCompare(v mvcc.ReadView, c *pb.Compare) bool {
	rr, err := v.Range(c.GetKey(), c.GetRangeEnd(), mvcc.RangeOptions{})
	if err != nil {
		return false
	}
	if len(rr.KVs) == 0 {
		if c.GetTarget() == pb.Compare_VALUE {
			return false
		}
		return compareKV(c, &mvccpb.KeyValue{})
	}
	for _, kv := range rr.KVs {
		if !compareKV(c, kv) {
			return false
		}
	}
	return true
}

func compareKV(c *pb.Compare, kv *mvccpb.KeyValue) bool {
	var result int
	switch c.GetTarget() {
	case pb.Compare_VALUE:
		result = bytes.Compare(kv.GetValue(), c.GetValue())
	case pb.Compare_CREATE:
		result = cmp.Compare(kv.GetCreateRevision(), c.GetCreateRevision())
	case pb.Compare_MOD:
		result = cmp.Compare(kv.GetModRevision(), c.GetModRevision())
	case pb.Compare_VERSION:
		result = cmp.Compare(kv.GetVersion(), c.GetVersion())
	case pb.Compare_LEASE:
		result = cmp.Compare(kv.GetLease(), c.GetLease())
	}
	switch c.GetResult() {
	case pb.Compare_EQUAL:
		return result == 0
	case pb.Compare_NOT_EQUAL:
		return result != 0
	case pb.Compare_GREATER:
		return result > 0
	case pb.Compare_LESS:
		return result < 0
	}
	return true // an unknown result holds, as in etcd
}

// checkTxn checks the ops along the path before anything runs, as etcd:
// a put with ignore_value or ignore_lease needs its key, a put's lease
// must exist, a range's revision must be neither future nor compacted. It
// returns the number of nested txns it walked.
func (a *Applier) checkTxn(v mvcc.ReadView, r *pb.TxnRequest, path []bool) (int, error) {
	txns := 0
	for _, op := range branch(r, path[0]) {
		switch {
		case op.GetRequestRange() != nil:
			if err := checkRange(v, op.GetRequestRange()); err != nil {
				return 0, err
			}
		case op.GetRequestPut() != nil:
			if err := a.checkPut(v, op.GetRequestPut()); err != nil {
				return 0, err
			}
		case op.GetRequestTxn() != nil:
			n, err := a.checkTxn(v, op.GetRequestTxn(), path[1:])
			if err != nil {
				return 0, err
			}
			txns += n + 1
			path = path[n+1:]
		}
	}
	return txns, nil
}

func (a *Applier) checkPut(v mvcc.ReadView, r *pb.PutRequest) error {
	if r.GetIgnoreValue() || r.GetIgnoreLease() {
		rr, err := v.Range(r.GetKey(), nil, mvcc.RangeOptions{})
		if err != nil {
			return ToGRPCError(err)
		}
		if len(rr.KVs) == 0 {
			return rpctypes.ErrGRPCKeyNotFound
		}
	}
	if !a.leaseExists(r.GetLease()) {
		return rpctypes.ErrGRPCLeaseNotFound
	}
	return nil
}

func checkRange(v mvcc.ReadView, r *pb.RangeRequest) error {
	switch {
	case r.GetRevision() == 0:
		return nil
	case r.GetRevision() > v.Rev():
		return rpctypes.ErrGRPCFutureRev
	case r.GetRevision() < v.CompactRev():
		return rpctypes.ErrGRPCCompacted
	}
	return nil
}

// newTxnResp allocates the response tree along the path; nested txn
// responses get an empty header, as etcd's. It returns the number of
// nested txns it walked.
func newTxnResp(r *pb.TxnRequest, path []bool) (*pb.TxnResponse, int) {
	ops := branch(r, path[0])
	resp := &pb.TxnResponse{Header: &pb.ResponseHeader{}, Succeeded: path[0], Responses: make([]*pb.ResponseOp, len(ops))}
	txns := 0
	for i, op := range ops {
		switch {
		case op.GetRequestRange() != nil:
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{}}
		case op.GetRequestPut() != nil:
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{}}
		case op.GetRequestDeleteRange() != nil:
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{}}
		case op.GetRequestTxn() != nil:
			nested, n := newTxnResp(op.GetRequestTxn(), path[1:])
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: nested}}
			path = path[n+1:]
			txns += n + 1
		default:
			resp.Responses[i] = &pb.ResponseOp{} // an empty op (refused by ValidateTxn)
		}
	}
	return resp, txns
}

// executeTxn runs the ops along the path, filling resp; ops see the
// changes of the ops before them. It returns the number of nested txns.
func executeTxn(v mvcc.ReadView, w *mvcc.WriteTxn, r *pb.TxnRequest, path []bool, resp *pb.TxnResponse) (int, error) {
	txns := 0
	for i, op := range branch(r, path[0]) {
		out := resp.Responses[i]
		switch {
		case op.GetRequestRange() != nil:
			rr, err := executeRange(v, op.GetRequestRange())
			if err != nil {
				return 0, err
			}
			out.Response = &pb.ResponseOp_ResponseRange{ResponseRange: rr}
		case op.GetRequestPut() != nil:
			if w == nil {
				return 0, errWriteInReadTxn
			}
			pr, err := put(w, op.GetRequestPut())
			if err != nil {
				return 0, err
			}
			out.Response = &pb.ResponseOp_ResponsePut{ResponsePut: pr}
		case op.GetRequestDeleteRange() != nil:
			if w == nil {
				return 0, errWriteInReadTxn
			}
			dr, err := deleteRange(w, op.GetRequestDeleteRange())
			if err != nil {
				return 0, err
			}
			out.Response = &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: dr}
		case op.GetRequestTxn() != nil:
			nested := out.GetResponseTxn()
			n, err := executeTxn(v, w, op.GetRequestTxn(), path[1:], nested)
			if err != nil {
				return 0, err
			}
			txns += n + 1
			path = path[n+1:]
		}
	}
	return txns, nil
}

// IsTxnReadOnly reports whether every op of both branches is a range (a
// nested txn counts as a write, as in etcd): such a txn can be served from
// a read view with ReadTxn instead of going through the log.
func IsTxnReadOnly(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.GetSuccess(), r.GetFailure()} {
		for _, op := range ops {
			if op.GetRequestRange() == nil {
				return false
			}
		}
	}
	return true
}

// IsTxnSerializable reports whether every op of both branches is a
// serializable range, as etcd decides whether a txn may skip the
// linearizable read barrier.
func IsTxnSerializable(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.GetSuccess(), r.GetFailure()} {
		for _, op := range ops {
			if rr := op.GetRequestRange(); rr == nil || !rr.GetSerializable() {
				return false
			}
		}
	}
	return true
}
