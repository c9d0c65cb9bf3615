package kvapply

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"
)

// TestEtcdScript runs one scripted session and checks every response field
// by field against what etcd returns for it (from etcd's documented rules
// and its server code: revision 1 on a fresh store, one revision per
// changing request or txn, header revisions as described in doc.go, Count
// before revision filters, empty headers on nested txn responses).
// Cluster and member ids and the raft term are the caller's and stay 0.
func TestEtcdScript(t *testing.T) {
	a := newApplier(t)
	foo2 := kv("foo", "bar", 2, 2, 1, 0)
	foo4 := kv("foo", "baz", 2, 4, 3, grantedLease)
	foo5 := kv("foo", "qux", 2, 5, 4, grantedLease)
	steps := []struct {
		name    string
		run     func() (proto.Message, error)
		want    proto.Message
		wantErr error
		wantRev int64 // the store's revision afterwards
		// notLogged marks reads and requests refused at the edge.
		notLogged bool
	}{
		{
			name:      "range on a fresh store",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo")}) },
			want:      &pb.RangeResponse{Header: hdr(1)},
			notLogged: true,
			wantRev:   1,
		},
		{
			name:    "put foo",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("foo"), Value: []byte("bar")}) },
			want:    &pb.PutResponse{Header: hdr(2)},
			wantRev: 2,
		},
		{
			name: "put foo with prev_kv",
			run: func() (proto.Message, error) {
				return a.put(&pb.PutRequest{Key: []byte("foo"), Value: []byte("baz"), PrevKv: true})
			},
			want:    &pb.PutResponse{Header: hdr(3), PrevKv: foo2},
			wantRev: 3,
		},
		{
			name: "put foo ignore_value with a lease",
			run: func() (proto.Message, error) {
				return a.put(&pb.PutRequest{Key: []byte("foo"), IgnoreValue: true, Lease: grantedLease})
			},
			want:    &pb.PutResponse{Header: hdr(4)},
			wantRev: 4,
		},
		{
			name: "put foo ignore_lease with prev_kv",
			run: func() (proto.Message, error) {
				return a.put(&pb.PutRequest{Key: []byte("foo"), Value: []byte("qux"), IgnoreLease: true, PrevKv: true})
			},
			want:    &pb.PutResponse{Header: hdr(5), PrevKv: foo4},
			wantRev: 5,
		},
		{
			name:      "range foo",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo")}) },
			want:      &pb.RangeResponse{Header: hdr(5), Kvs: []*mvccpb.KeyValue{foo5}, Count: 1},
			notLogged: true,
			wantRev:   5,
		},
		{
			name: "ignore_value on a missing key",
			run: func() (proto.Message, error) {
				return a.put(&pb.PutRequest{Key: []byte("missing"), IgnoreValue: true})
			},
			wantErr: rpctypes.ErrGRPCKeyNotFound,
			wantRev: 5,
		},
		{
			name:    "put with an unknown lease",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("x"), Lease: 999}) },
			wantErr: rpctypes.ErrGRPCLeaseNotFound,
			wantRev: 5,
		},
		{
			name:    "put a",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("a"), Value: []byte("1")}) },
			want:    &pb.PutResponse{Header: hdr(6)},
			wantRev: 6,
		},
		{
			name:    "put b",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("b"), Value: []byte("2")}) },
			want:    &pb.PutResponse{Header: hdr(7)},
			wantRev: 7,
		},
		{
			name:    "put c",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("c"), Value: []byte("3")}) },
			want:    &pb.PutResponse{Header: hdr(8)},
			wantRev: 8,
		},
		{
			name: "delete [a, c) with prev_kv",
			run: func() (proto.Message, error) {
				return a.del(&pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c"), PrevKv: true})
			},
			want: &pb.DeleteRangeResponse{Header: hdr(9), Deleted: 2,
				PrevKvs: []*mvccpb.KeyValue{kv("a", "1", 6, 6, 1, 0), kv("b", "2", 7, 7, 1, 0)}},
			wantRev: 9,
		},
		{
			name:    "delete a missing key",
			run:     func() (proto.Message, error) { return a.del(&pb.DeleteRangeRequest{Key: []byte("zzz")}) },
			want:    &pb.DeleteRangeResponse{Header: hdr(9)},
			wantRev: 9,
		},
		{
			name: "txn: value compare holds, put and range see one revision",
			run: func() (proto.Message, error) {
				return a.txn(&pb.TxnRequest{
					Compare: []*pb.Compare{{Key: []byte("foo"), Target: pb.Compare_VALUE, Result: pb.Compare_EQUAL,
						TargetUnion: &pb.Compare_Value{Value: []byte("qux")}}},
					Success: []*pb.RequestOp{opPut("a", "10"), opRange(&pb.RangeRequest{Key: []byte("a")})},
					Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("foo")})},
				})
			},
			want: &pb.TxnResponse{Header: hdr(10), Succeeded: true, Responses: []*pb.ResponseOp{
				respPut(&pb.PutResponse{Header: hdr(10)}),
				respRange(&pb.RangeResponse{Header: hdr(10), Kvs: []*mvccpb.KeyValue{kv("a", "10", 10, 10, 1, 0)}, Count: 1}),
			}},
			wantRev: 10,
		},
		{
			name: "txn: version compare fails, failure branch reads",
			run: func() (proto.Message, error) {
				return a.txn(&pb.TxnRequest{
					Compare: []*pb.Compare{{Key: []byte("foo"), Target: pb.Compare_VERSION, Result: pb.Compare_GREATER,
						TargetUnion: &pb.Compare_Version{Version: 10}}},
					Success: []*pb.RequestOp{opPut("x", "1")},
					Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("foo")})},
				})
			},
			want: &pb.TxnResponse{Header: hdr(10), Responses: []*pb.ResponseOp{
				respRange(&pb.RangeResponse{Header: hdr(10), Kvs: []*mvccpb.KeyValue{foo5}, Count: 1}),
			}},
			wantRev: 10,
		},
		{
			name: "nested txn: nested header empty, one revision",
			run: func() (proto.Message, error) {
				return a.txn(&pb.TxnRequest{
					Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_CREATE, Result: pb.Compare_EQUAL,
						TargetUnion: &pb.Compare_CreateRevision{CreateRevision: 10}}},
					Success: []*pb.RequestOp{
						opTxn(&pb.TxnRequest{
							Compare: []*pb.Compare{{Key: []byte("c"), Target: pb.Compare_MOD, Result: pb.Compare_EQUAL,
								TargetUnion: &pb.Compare_ModRevision{ModRevision: 8}}},
							Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestDeleteRange{
								RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("c"), PrevKv: true}}}},
							Failure: []*pb.RequestOp{opPut("c", "x")},
						}),
						opPut("d", "1"),
					},
				})
			},
			want: &pb.TxnResponse{Header: hdr(11), Succeeded: true, Responses: []*pb.ResponseOp{
				respTxn(&pb.TxnResponse{Header: &pb.ResponseHeader{}, Succeeded: true, Responses: []*pb.ResponseOp{
					respDel(&pb.DeleteRangeResponse{Header: hdr(11), Deleted: 1, PrevKvs: []*mvccpb.KeyValue{kv("c", "3", 8, 8, 1, 0)}}),
				}}),
				respPut(&pb.PutResponse{Header: hdr(11)}),
			}},
			wantRev: 11,
		},
		{
			name: "txn putting one key twice",
			run: func() (proto.Message, error) {
				return a.txn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("k", "1"), opPut("k", "2")}})
			},
			wantErr:   rpctypes.ErrGRPCDuplicateKey,
			notLogged: true,
			wantRev:   11,
		},
		{
			name:    "empty txn",
			run:     func() (proto.Message, error) { return a.txn(&pb.TxnRequest{}) },
			want:    &pb.TxnResponse{Header: hdr(11), Succeeded: true, Responses: []*pb.ResponseOp{}},
			wantRev: 11,
		},
		{
			name: "read-only txn outside the log",
			run: func() (proto.Message, error) {
				return a.ReadTxn(&pb.TxnRequest{
					Compare: []*pb.Compare{{Key: []byte("d"), Target: pb.Compare_VERSION, Result: pb.Compare_EQUAL,
						TargetUnion: &pb.Compare_Version{Version: 1}}},
					Success: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true})},
				})
			},
			want: &pb.TxnResponse{Header: hdr(11), Succeeded: true, Responses: []*pb.ResponseOp{
				respRange(&pb.RangeResponse{Header: hdr(11), Count: 3}),
			}},
			notLogged: true,
			wantRev:   11,
		},
		{
			name: "compact 5",
			run: func() (proto.Message, error) {
				r, _, err := a.Compact(&pb.CompactionRequest{Revision: 5}, a.next())
				return r, err
			},
			want:    &pb.CompactionResponse{Header: hdr(11)},
			wantRev: 11,
		},
		{
			name:      "range below the compaction",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo"), Revision: 4}) },
			wantErr:   rpctypes.ErrGRPCCompacted,
			notLogged: true,
			wantRev:   11,
		},
		{
			name:      "range in the future",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo"), Revision: 12}) },
			wantErr:   rpctypes.ErrGRPCFutureRev,
			notLogged: true,
			wantRev:   11,
		},
		{
			name:      "range at the compaction revision",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo"), Revision: 5}) },
			want:      &pb.RangeResponse{Header: hdr(11), Kvs: []*mvccpb.KeyValue{foo5}, Count: 1},
			notLogged: true,
			wantRev:   11,
		},
		{
			name: "compact 5 again",
			run: func() (proto.Message, error) {
				r, _, err := a.Compact(&pb.CompactionRequest{Revision: 5}, a.next())
				return r, err
			},
			wantErr: rpctypes.ErrGRPCCompacted,
			wantRev: 11,
		},
		{
			name: "compact the future",
			run: func() (proto.Message, error) {
				r, _, err := a.Compact(&pb.CompactionRequest{Revision: 12}, a.next())
				return r, err
			},
			wantErr: rpctypes.ErrGRPCFutureRev,
			wantRev: 11,
		},
		{
			name: "range all with limit 2",
			run: func() (proto.Message, error) {
				return a.rng(&pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Limit: 2})
			},
			want: &pb.RangeResponse{Header: hdr(11), More: true, Count: 3,
				Kvs: []*mvccpb.KeyValue{kv("a", "10", 10, 10, 1, 0), kv("d", "1", 11, 11, 1, 0)}},
			notLogged: true,
			wantRev:   11,
		},
		{
			name: "range sorted by mod revision, descending, keys only",
			run: func() (proto.Message, error) {
				return a.rng(&pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, KeysOnly: true,
					SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_DESCEND})
			},
			want: &pb.RangeResponse{Header: hdr(11), Count: 3, Kvs: []*mvccpb.KeyValue{
				kv("d", "", 11, 11, 1, 0), kv("a", "", 10, 10, 1, 0), kv("foo", "", 2, 5, 4, grantedLease)}},
			notLogged: true,
			wantRev:   11,
		},
		{
			name: "min mod revision and limit: count before the filter",
			run: func() (proto.Message, error) {
				return a.rng(&pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, MinModRevision: 10, Limit: 1})
			},
			want:      &pb.RangeResponse{Header: hdr(11), More: true, Count: 3, Kvs: []*mvccpb.KeyValue{kv("a", "10", 10, 10, 1, 0)}},
			notLogged: true,
			wantRev:   11,
		},
		{
			name: "delete everything",
			run: func() (proto.Message, error) {
				return a.del(&pb.DeleteRangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
			},
			want:    &pb.DeleteRangeResponse{Header: hdr(12), Deleted: 3},
			wantRev: 12,
		},
		{
			name:    "put foo again: a new generation",
			run:     func() (proto.Message, error) { return a.put(&pb.PutRequest{Key: []byte("foo"), Value: []byte("new")}) },
			want:    &pb.PutResponse{Header: hdr(13)},
			wantRev: 13,
		},
		{
			name:      "range foo",
			run:       func() (proto.Message, error) { return a.rng(&pb.RangeRequest{Key: []byte("foo")}) },
			want:      &pb.RangeResponse{Header: hdr(13), Count: 1, Kvs: []*mvccpb.KeyValue{kv("foo", "new", 13, 13, 1, 0)}},
			notLogged: true,
			wantRev:   13,
		},
	}
	index := a.store.ConsistentIndex()
	for _, st := range steps {
		got, err := st.run()
		checkResult(t, st.name, got, err, st.want, st.wantErr)
		if a.store.Rev() != st.wantRev {
			t.Fatalf("%s: revision %d, want %d", st.name, a.store.Rev(), st.wantRev)
		}
		// Every request through the log records its index, failed or not;
		// reads and requests refused at the edge do not.
		if !st.notLogged {
			index++
		}
		if a.store.ConsistentIndex() != index {
			t.Fatalf("%s: consistent index %d, want %d", st.name, a.store.ConsistentIndex(), index)
		}
	}
}
