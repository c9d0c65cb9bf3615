package kvapply

import (
	"errors"
	"strconv"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

func TestValidateSimpleRequests(t *testing.T) {
	a := newApplier(t)
	maxKey, maxValue := a.store.Limits()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"range empty key", a.ValidateRange(&pb.RangeRequest{}), rpctypes.ErrGRPCEmptyKey},
		{"range ok", a.ValidateRange(&pb.RangeRequest{Key: []byte("a"), SortTarget: pb.RangeRequest_VALUE}), nil},
		{"range bad sort order", a.ValidateRange(&pb.RangeRequest{Key: []byte("a"), SortOrder: 7}), rpctypes.ErrGRPCInvalidSortOption},
		{"range bad sort target", a.ValidateRange(&pb.RangeRequest{Key: []byte("a"), SortTarget: 9}), rpctypes.ErrGRPCInvalidSortOption},
		{"put empty key", a.ValidatePut(&pb.PutRequest{Value: []byte("v")}), rpctypes.ErrGRPCEmptyKey},
		{"put ignore_value with a value", a.ValidatePut(&pb.PutRequest{Key: []byte("a"), Value: []byte("v"), IgnoreValue: true}), rpctypes.ErrGRPCValueProvided},
		{"put ignore_lease with a lease", a.ValidatePut(&pb.PutRequest{Key: []byte("a"), Lease: 5, IgnoreLease: true}), rpctypes.ErrGRPCLeaseProvided},
		{"put ignore both", a.ValidatePut(&pb.PutRequest{Key: []byte("a"), IgnoreValue: true, IgnoreLease: true}), nil},
		{"put key too large", a.ValidatePut(&pb.PutRequest{Key: make([]byte, maxKey+1)}), rpctypes.ErrGRPCRequestTooLarge},
		{"put value too large", a.ValidatePut(&pb.PutRequest{Key: []byte("a"), Value: make([]byte, maxValue+1)}), rpctypes.ErrGRPCRequestTooLarge},
		{"put largest", a.ValidatePut(&pb.PutRequest{Key: []byte("a"), Value: make([]byte, maxValue)}), nil},
		{"delete empty key", a.ValidateDeleteRange(&pb.DeleteRangeRequest{RangeEnd: []byte("z")}), rpctypes.ErrGRPCEmptyKey},
		{"delete ok", a.ValidateDeleteRange(&pb.DeleteRangeRequest{Key: []byte("a")}), nil},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) || (tc.want == nil && tc.err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

// puts returns n put ops on distinct keys.
func puts(n int) []*pb.RequestOp {
	ops := make([]*pb.RequestOp, n)
	for i := range ops {
		ops[i] = opPut("k"+strconv.Itoa(i), "v")
	}
	return ops
}

func compares(n int) []*pb.Compare {
	cs := make([]*pb.Compare, n)
	for i := range cs {
		cs[i] = &pb.Compare{Key: []byte("k"), Target: pb.Compare_VERSION}
	}
	return cs
}

func TestValidateTxnOpCounts(t *testing.T) {
	a := newApplier(t)
	tests := []struct {
		name string
		txn  *pb.TxnRequest
		want error
	}{
		{"128 puts", &pb.TxnRequest{Success: puts(128)}, nil},
		{"129 puts", &pb.TxnRequest{Success: puts(129)}, rpctypes.ErrGRPCTooManyOps},
		{"129 failure puts", &pb.TxnRequest{Failure: puts(129)}, rpctypes.ErrGRPCTooManyOps},
		{"129 compares", &pb.TxnRequest{Compare: compares(129)}, rpctypes.ErrGRPCTooManyOps},
		{"128 of each", &pb.TxnRequest{Compare: compares(128), Success: puts(128), Failure: puts(128)}, nil},
		// A nested txn may use what its parent's largest list leaves.
		{"nested 127", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{Success: puts(127)})}}, nil},
		{"nested 128", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{Success: puts(128)})}}, rpctypes.ErrGRPCTooManyOps},
		{"nested under 3 compares", &pb.TxnRequest{Compare: compares(3),
			Failure: []*pb.RequestOp{opTxn(&pb.TxnRequest{Success: puts(126)})}}, rpctypes.ErrGRPCTooManyOps},
		{"compare without key", &pb.TxnRequest{Compare: []*pb.Compare{{Target: pb.Compare_VALUE}}}, rpctypes.ErrGRPCEmptyKey},
		{"empty op", &pb.TxnRequest{Success: []*pb.RequestOp{{}}}, rpctypes.ErrGRPCKeyNotFound},
		{"op with an empty put", &pb.TxnRequest{Failure: []*pb.RequestOp{opPut("", "v")}}, rpctypes.ErrGRPCEmptyKey},
		{"nested range without key", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{
			Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{})}})}}, rpctypes.ErrGRPCEmptyKey},
		{"nested put ignore_value with value", &pb.TxnRequest{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{
			Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{
				Key: []byte("a"), Value: []byte("v"), IgnoreValue: true}}}}})}}, rpctypes.ErrGRPCValueProvided},
	}
	for _, tc := range tests {
		if err := a.ValidateTxn(tc.txn); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestValidateTxnDuplicateKeys follows etcd's checkIntervals case by case,
// including its order dependence and its blind spot for from-key deletes.
func TestValidateTxnDuplicateKeys(t *testing.T) {
	a := newApplier(t)
	dup := rpctypes.ErrGRPCDuplicateKey
	then := func(ops ...*pb.RequestOp) *pb.RequestOp { return opTxn(&pb.TxnRequest{Success: ops}) }
	thenElse := func(s, f []*pb.RequestOp) *pb.RequestOp { return opTxn(&pb.TxnRequest{Success: s, Failure: f}) }
	tests := []struct {
		name string
		ops  []*pb.RequestOp
		want error
	}{
		{"two puts of one key", []*pb.RequestOp{opPut("x", "1"), opPut("x", "2")}, dup},
		{"puts of two keys", []*pb.RequestOp{opPut("x", "1"), opPut("y", "2")}, nil},
		{"put then delete of the key", []*pb.RequestOp{opPut("x", "1"), opDel("x", "")}, dup},
		{"delete then put of the key", []*pb.RequestOp{opDel("x", ""), opPut("x", "1")}, dup},
		{"put inside a deleted range", []*pb.RequestOp{opDel("a", "c"), opPut("b", "1")}, dup},
		{"put at a range's end", []*pb.RequestOp{opDel("a", "c"), opPut("c", "1")}, nil},
		{"put after a from-key delete (etcd does not see it)", []*pb.RequestOp{opDel("a", "\x00"), opPut("b", "1")}, nil},
		{"two deletes of one key", []*pb.RequestOp{opDel("x", ""), opDel("x", "")}, nil},
		{"range and put of one key", []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("x")}), opPut("x", "1")}, nil},
		{"then and else put one key", []*pb.RequestOp{thenElse([]*pb.RequestOp{opPut("x", "1")}, []*pb.RequestOp{opPut("x", "2")})}, nil},
		{"nested put and outer put", []*pb.RequestOp{then(opPut("x", "1")), opPut("x", "2")}, dup},
		{"nested else put and outer put", []*pb.RequestOp{thenElse(nil, []*pb.RequestOp{opPut("x", "1")}), opPut("x", "2")}, dup},
		{"nested put under an outer delete", []*pb.RequestOp{opDel("a", "z"), then(opPut("x", "1"))}, dup},
		{"nested delete under an outer put", []*pb.RequestOp{opPut("x", "1"), then(opDel("x", ""))}, dup},
		{"sibling txns: delete then put", []*pb.RequestOp{then(opDel("x", "")), then(opPut("x", "1"))}, dup},
		{"sibling txns: put then delete (etcd allows)", []*pb.RequestOp{then(opPut("x", "1")), then(opDel("x", ""))}, nil},
		{"sibling txns put one key", []*pb.RequestOp{then(opPut("x", "1")), then(opPut("x", "2"))}, dup},
		{"then of one, else of another", []*pb.RequestOp{then(opPut("x", "1")), thenElse(nil, []*pb.RequestOp{opPut("x", "2")})}, dup},
		{"deep nesting", []*pb.RequestOp{then(then(then(opPut("x", "1")))), opPut("x", "2")}, dup},
		{"duplicate deep inside", []*pb.RequestOp{then(then(opPut("x", "1"), opPut("x", "2")))}, dup},
	}
	for _, tc := range tests {
		for _, txn := range []*pb.TxnRequest{{Success: tc.ops}, {Failure: tc.ops}} {
			if err := a.ValidateTxn(txn); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
	}
	// Success and failure are checked apart: the same put in both is fine.
	if err := a.ValidateTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("x", "1")}, Failure: []*pb.RequestOp{opPut("x", "2")}}); err != nil {
		t.Errorf("put in both branches: %v", err)
	}
}

func TestIntervalSetMatchesLinearScan(t *testing.T) {
	ivs := []interval{{[]byte("b"), []byte("d")}, {[]byte("a"), []byte("a\x00")}, {[]byte("m"), []byte("c")}, {[]byte("c"), []byte("k")}}
	var s intervalSet
	for _, iv := range ivs {
		s.add(iv)
	}
	for _, k := range []string{"", "a", "a\x00", "b", "c", "cz", "d", "j", "k", "l", "m", "z"} {
		want := false
		for _, iv := range ivs {
			want = want || (string(iv.begin) <= k && k < string(iv.end))
		}
		if got := s.contains([]byte(k)); got != want {
			t.Errorf("contains(%q) = %v, want %v", k, got, want)
		}
	}
}
