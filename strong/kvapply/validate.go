package kvapply

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Validation at the edge, before a request is proposed, with etcd's
// checks and errors (its v3rpc key.go), so a request that etcd refuses
// never reaches the log. Beyond etcd: key and value sizes are checked
// against the store's limits (ErrGRPCRequestTooLarge, which etcd's gRPC
// size limit gives for the same requests), and unknown sort enums are
// refused (ErrGRPCInvalidSortOption) where etcd would panic.

// ValidateRange checks a RangeRequest.
func (a *Applier) ValidateRange(r *pb.RangeRequest) error {
	if len(r.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if _, ok := pb.RangeRequest_SortOrder_name[int32(r.GetSortOrder())]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(r.GetSortTarget())]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	return nil
}

// ValidatePut checks a PutRequest.
func (a *Applier) ValidatePut(r *pb.PutRequest) error {
	switch {
	case len(r.GetKey()) == 0:
		return rpctypes.ErrGRPCEmptyKey
	case r.GetIgnoreValue() && len(r.GetValue()) != 0:
		return rpctypes.ErrGRPCValueProvided
	case r.GetIgnoreLease() && r.GetLease() != 0:
		return rpctypes.ErrGRPCLeaseProvided
	case len(r.GetKey()) > a.maxKeySize || len(r.GetValue()) > a.maxValueSize:
		return rpctypes.ErrGRPCRequestTooLarge
	}
	return nil
}

// ValidateDeleteRange checks a DeleteRangeRequest.
func (a *Applier) ValidateDeleteRange(r *pb.DeleteRangeRequest) error {
	if len(r.GetKey()) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

// ValidateTxn checks a TxnRequest: the operation counts (each of compares,
// success and failure at most MaxTxnOps; a nested txn gets what its
// parent's largest list leaves), every op, and then, as etcd does after
// the cheap checks, that no branch puts a key twice or puts a key it
// deletes (rpctypes.ErrGRPCDuplicateKey).
func (a *Applier) ValidateTxn(r *pb.TxnRequest) error {
	if err := a.checkTxnRequest(r, a.opts.MaxTxnOps); err != nil {
		return err
	}
	if _, _, err := checkIntervals(r.GetSuccess()); err != nil {
		return err
	}
	_, _, err := checkIntervals(r.GetFailure())
	return err
}

func (a *Applier) checkTxnRequest(r *pb.TxnRequest, maxTxnOps int) error {
	opc := max(len(r.GetCompare()), len(r.GetSuccess()), len(r.GetFailure()))
	if opc > maxTxnOps {
		return rpctypes.ErrGRPCTooManyOps
	}
	for _, c := range r.GetCompare() {
		if len(c.GetKey()) == 0 {
			return rpctypes.ErrGRPCEmptyKey
		}
	}
	for _, ops := range [][]*pb.RequestOp{r.GetSuccess(), r.GetFailure()} {
		for _, op := range ops {
			if err := a.checkRequestOp(op, maxTxnOps-opc); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *Applier) checkRequestOp(op *pb.RequestOp, maxTxnOps int) error {
	switch {
	case op.GetRequestRange() != nil:
		return a.ValidateRange(op.GetRequestRange())
	case op.GetRequestPut() != nil:
		return a.ValidatePut(op.GetRequestPut())
	case op.GetRequestDeleteRange() != nil:
		return a.ValidateDeleteRange(op.GetRequestDeleteRange())
	case op.GetRequestTxn() != nil:
		return a.checkTxnRequest(op.GetRequestTxn(), maxTxnOps)
	default:
		// An empty op, as etcd answers it.
		return rpctypes.ErrGRPCKeyNotFound
	}
}
