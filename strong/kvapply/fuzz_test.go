package kvapply

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// FuzzTxn decodes arbitrary bytes as a TxnRequest: validation must not
// panic, and neither must applying it, validated or not (a corrupt entry
// must fail, not crash the apply loop); a failed apply changes nothing.
func FuzzTxn(f *testing.F) {
	seed := &pb.TxnRequest{
		Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_VALUE, TargetUnion: &pb.Compare_Value{Value: []byte("1")}}},
		Success: []*pb.RequestOp{opPut("a", "2"), opTxn(&pb.TxnRequest{Failure: []*pb.RequestOp{opDel("a", "c")}})},
		Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte{0}, SortTarget: pb.RangeRequest_VALUE})},
	}
	data, err := proto.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{0x12, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r pb.TxnRequest
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		a := newApplier(t)
		a.mustPut("a", "1", 0)
		a.mustPut("b", "2", grantedLease)
		_ = a.ValidateTxn(&r)
		rev := a.store.Rev()
		if _, err := a.Txn(&r, a.next()); err != nil && a.store.Rev() != rev {
			t.Fatalf("a failed txn moved the revision: %v", err)
		}
		if IsTxnReadOnly(&r) {
			_, _ = a.ReadTxn(&r)
		}
	})
}
