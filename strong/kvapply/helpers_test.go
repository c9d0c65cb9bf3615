package kvapply

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/cairndb/cairn/storage/mvcc"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// grantedLease is the only lease that exists in these tests.
const grantedLease = 100

// applier is an Applier on a fresh in-memory store, with the index of the
// next entry to apply.
type applier struct {
	*Applier
	t     testing.TB
	store *mvcc.Store
}

func newApplier(t testing.TB) *applier {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	mopts := mvcc.DefaultOptions()
	mopts.Logger = slog.New(slog.DiscardHandler)
	store, err := mvcc.Open(db, mopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	opts := DefaultOptions()
	opts.LeaseExists = func(id int64) bool { return id == grantedLease }
	a, err := New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{Applier: a, t: t, store: store}
}

func (a *applier) next() uint64 { return a.store.ConsistentIndex() + 1 }

// put validates and applies a PutRequest.
func (a *applier) put(r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := a.ValidatePut(r); err != nil {
		return nil, err
	}
	return a.Put(r, a.next())
}

func (a *applier) del(r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := a.ValidateDeleteRange(r); err != nil {
		return nil, err
	}
	return a.DeleteRange(r, a.next())
}

func (a *applier) txn(r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := a.ValidateTxn(r); err != nil {
		return nil, err
	}
	return a.Txn(r, a.next())
}

func (a *applier) rng(r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := a.ValidateRange(r); err != nil {
		return nil, err
	}
	return a.Range(r)
}

// mustPut puts key=value and fails the test on error.
func (a *applier) mustPut(key, value string, lease int64) {
	a.t.Helper()
	if _, err := a.put(&pb.PutRequest{Key: []byte(key), Value: []byte(value), Lease: lease}); err != nil {
		a.t.Fatal(err)
	}
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(string, ...any) {}

// kv builds a KeyValue.
func kv(key, value string, create, mod, version, lease int64) *mvccpb.KeyValue {
	k := &mvccpb.KeyValue{Key: []byte(key), CreateRevision: create, ModRevision: mod, Version: version, Lease: lease}
	if value != "" {
		k.Value = []byte(value)
	}
	return k
}

func hdr(rev int64) *pb.ResponseHeader { return &pb.ResponseHeader{Revision: rev} }

// Request op builders.
func opPut(key, value string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: []byte(value)}}}
}

func opDel(key, end string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte(key), RangeEnd: bytesOrNil(end)}}}
}

func opRange(r *pb.RangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

func opTxn(r *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: r}}
}

// Response op builders.
func respPut(r *pb.PutResponse) *pb.ResponseOp {
	return &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{ResponsePut: r}}
}

func respDel(r *pb.DeleteRangeResponse) *pb.ResponseOp {
	return &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: r}}
}

func respRange(r *pb.RangeResponse) *pb.ResponseOp {
	return &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: r}}
}

func respTxn(r *pb.TxnResponse) *pb.ResponseOp {
	return &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: r}}
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// checkResult compares a response and an error with the expected ones,
// field by field.
func checkResult(t testing.TB, name string, got proto.Message, err error, want proto.Message, wantErr error) {
	t.Helper()
	if wantErr != nil || err != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: error %v, want %v", name, err, wantErr)
		}
		return
	}
	if !proto.Equal(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", name, got, want)
	}
}
