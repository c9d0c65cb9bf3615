package kvapply

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// TestCompareSemantics checks every target and result, on a key, a missing
// key and a range. State: k1 = "v1" (create 2, mod 2, version 1, no
// lease); k2 = "v2" (create 3, mod 4, version 2, lease 100).
func TestCompareSemantics(t *testing.T) {
	a := newApplier(t)
	a.mustPut("k1", "v1", 0)
	a.mustPut("k2", "v0", grantedLease)
	a.mustPut("k2", "v2", grantedLease)
	value := func(key, end string, r pb.Compare_CompareResult, v string) *pb.Compare {
		return &pb.Compare{Key: []byte(key), RangeEnd: bytesOrNil(end), Target: pb.Compare_VALUE, Result: r,
			TargetUnion: &pb.Compare_Value{Value: []byte(v)}}
	}
	num := func(key, end string, target pb.Compare_CompareTarget, r pb.Compare_CompareResult, n int64) *pb.Compare {
		c := &pb.Compare{Key: []byte(key), RangeEnd: bytesOrNil(end), Target: target, Result: r}
		switch target {
		case pb.Compare_VERSION:
			c.TargetUnion = &pb.Compare_Version{Version: n}
		case pb.Compare_CREATE:
			c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: n}
		case pb.Compare_MOD:
			c.TargetUnion = &pb.Compare_ModRevision{ModRevision: n}
		case pb.Compare_LEASE:
			c.TargetUnion = &pb.Compare_Lease{Lease: n}
		}
		return c
	}
	const (
		eq, ne, gt, lt = pb.Compare_EQUAL, pb.Compare_NOT_EQUAL, pb.Compare_GREATER, pb.Compare_LESS
		ver, create    = pb.Compare_VERSION, pb.Compare_CREATE
		mod, lease     = pb.Compare_MOD, pb.Compare_LEASE
	)
	tests := []struct {
		name string
		cmp  []*pb.Compare
		want bool
	}{
		{"value equal", []*pb.Compare{value("k1", "", eq, "v1")}, true},
		{"value not equal", []*pb.Compare{value("k1", "", ne, "v1")}, false},
		{"value greater", []*pb.Compare{value("k1", "", gt, "v0")}, true},
		{"value less", []*pb.Compare{value("k1", "", lt, "v0")}, false},
		{"value on a missing key always fails", []*pb.Compare{value("nope", "", ne, "x")}, false},
		{"value empty on a missing key fails", []*pb.Compare{value("nope", "", eq, "")}, false},
		{"version equal", []*pb.Compare{num("k2", "", ver, eq, 2)}, true},
		{"version greater", []*pb.Compare{num("k2", "", ver, gt, 2)}, false},
		{"version of a missing key is 0", []*pb.Compare{num("nope", "", ver, eq, 0)}, true},
		{"create equal", []*pb.Compare{num("k2", "", create, eq, 3)}, true},
		{"create less", []*pb.Compare{num("k2", "", create, lt, 3)}, false},
		{"create of a missing key is 0", []*pb.Compare{num("nope", "", create, eq, 0)}, true},
		{"mod equal", []*pb.Compare{num("k2", "", mod, eq, 4)}, true},
		{"mod not equal", []*pb.Compare{num("k2", "", mod, ne, 4)}, false},
		{"mod greater", []*pb.Compare{num("k1", "", mod, gt, 1)}, true},
		{"lease equal", []*pb.Compare{num("k2", "", lease, eq, grantedLease)}, true},
		{"no lease is 0", []*pb.Compare{num("k1", "", lease, eq, 0)}, true},
		{"lease less", []*pb.Compare{num("k2", "", lease, lt, grantedLease)}, false},
		{"range: every key must hold", []*pb.Compare{num("k", "l", ver, eq, 1)}, false},
		{"range: holds for all", []*pb.Compare{num("k", "l", ver, gt, 0)}, true},
		{"range: from-key end", []*pb.Compare{num("k1", "\x00", mod, lt, 5)}, true},
		{"range: value over two keys", []*pb.Compare{value("k", "l", gt, "v")}, true},
		{"range: empty range compares a zero KV", []*pb.Compare{num("x", "y", create, eq, 0)}, true},
		{"all compares must hold", []*pb.Compare{value("k1", "", eq, "v1"), num("k2", "", ver, eq, 1)}, false},
		{"no compares hold", nil, true},
	}
	for _, tc := range tests {
		resp, err := a.txn(&pb.TxnRequest{Compare: tc.cmp})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Succeeded != tc.want {
			t.Errorf("%s: succeeded %v, want %v", tc.name, resp.Succeeded, tc.want)
		}
		if ro, err := a.ReadTxn(&pb.TxnRequest{Compare: tc.cmp}); err != nil || ro.Succeeded != tc.want {
			t.Errorf("%s (read-only): succeeded %v, %v", tc.name, ro.GetSucceeded(), err)
		}
	}
	if a.store.Rev() != 4 {
		t.Fatalf("compares changed the revision to %d", a.store.Rev())
	}
}

// TestTxnChecksBeforeChanges: a txn whose chosen ops fail a check changes
// nothing, and its index is recorded.
func TestTxnChecksBeforeChanges(t *testing.T) {
	a := newApplier(t)
	a.mustPut("a", "1", 0)
	a.mustPut("b", "2", 0)
	a.mustPut("c", "3", 0)
	if _, _, err := a.Compact(&pb.CompactionRequest{Revision: 3}, a.next()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ops  []*pb.RequestOp
		want error
	}{
		{"ignore_value on a missing key", []*pb.RequestOp{opPut("x", "1"), {Request: &pb.RequestOp_RequestPut{
			RequestPut: &pb.PutRequest{Key: []byte("missing"), IgnoreValue: true}}}}, rpctypes.ErrGRPCKeyNotFound},
		{"ignore_lease on a missing key, nested", []*pb.RequestOp{opPut("x", "1"), opTxn(&pb.TxnRequest{
			Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{
				RequestPut: &pb.PutRequest{Key: []byte("missing"), IgnoreLease: true}}}}})}, rpctypes.ErrGRPCKeyNotFound},
		{"unknown lease", []*pb.RequestOp{opDel("a", ""), {Request: &pb.RequestOp_RequestPut{
			RequestPut: &pb.PutRequest{Key: []byte("x"), Lease: 5}}}}, rpctypes.ErrGRPCLeaseNotFound},
		{"range in the future", []*pb.RequestOp{opPut("x", "1"), opRange(&pb.RangeRequest{Key: []byte("a"), Revision: 5})},
			rpctypes.ErrGRPCFutureRev},
		{"range below the compaction", []*pb.RequestOp{opPut("x", "1"), opRange(&pb.RangeRequest{Key: []byte("a"), Revision: 2})},
			rpctypes.ErrGRPCCompacted},
	}
	for _, tc := range tests {
		index := a.store.ConsistentIndex()
		_, err := a.txn(&pb.TxnRequest{Success: tc.ops})
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if a.store.Rev() != 4 || a.store.ConsistentIndex() != index+1 {
			t.Fatalf("%s: revision %d, index %d (was %d)", tc.name, a.store.Rev(), a.store.ConsistentIndex(), index)
		}
	}
	// The same op on the branch not taken is not checked.
	resp, err := a.txn(&pb.TxnRequest{Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_VERSION, Result: pb.Compare_GREATER}},
		Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("a"), Revision: 99})}})
	if err != nil || !resp.Succeeded {
		t.Fatalf("check on the branch not taken: %v %v", resp, err)
	}
	// A range at the current revision inside a changing txn reads the
	// txn's own writes; at an explicit revision, the past.
	resp, err = a.txn(&pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("a", "new"),
		opRange(&pb.RangeRequest{Key: []byte("a")}),
		opRange(&pb.RangeRequest{Key: []byte("a"), Revision: 4}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	now, past := resp.Responses[1].GetResponseRange(), resp.Responses[2].GetResponseRange()
	if string(now.Kvs[0].Value) != "new" || now.Header.Revision != 5 || string(past.Kvs[0].Value) != "1" || past.Header.Revision != 5 {
		t.Fatalf("ranges in a txn: %v / %v", now, past)
	}
}

// TestNestedComparesSeeTheStateBeforeTheTxn: as in etcd, every compare is
// evaluated before any op runs.
func TestNestedComparesSeeTheStateBeforeTheTxn(t *testing.T) {
	a := newApplier(t)
	resp, err := a.txn(&pb.TxnRequest{Success: []*pb.RequestOp{
		opPut("a", "1"),
		opTxn(&pb.TxnRequest{
			Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_VERSION, Result: pb.Compare_EQUAL,
				TargetUnion: &pb.Compare_Version{Version: 0}}},
			Success: []*pb.RequestOp{opPut("seen-before", "1")},
			Failure: []*pb.RequestOp{opPut("seen-after", "1")},
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Responses[1].GetResponseTxn().Succeeded {
		t.Fatal("the nested compare saw the outer txn's put")
	}
	if r, _ := a.rng(&pb.RangeRequest{Key: []byte("seen-before")}); r.Count != 1 {
		t.Fatal("the nested success branch did not run")
	}
}

func TestRangeOptions(t *testing.T) {
	a := newApplier(t)
	// key:    a  b  c  d  e
	// value:  5  3  5  1  4
	// create: 2  3  4  5  6; then b and d are put again (mod 7, 8; version 2).
	for i, v := range []string{"5", "3", "5", "1", "4"} {
		a.mustPut(string(rune('a'+i)), v, 0)
	}
	a.mustPut("b", "3", 0)
	a.mustPut("d", "1", 0)
	keys := func(r *pb.RangeResponse) string {
		var s []string
		for _, kv := range r.Kvs {
			s = append(s, string(kv.Key))
		}
		return fmt.Sprint(s)
	}
	all := func(r *pb.RangeRequest) *pb.RangeRequest {
		r.Key, r.RangeEnd = []byte("a"), []byte("z")
		return r
	}
	tests := []struct {
		name        string
		req         *pb.RangeRequest
		keys        string
		count       int64
		more        bool
		valuesGone  bool
		wantErr     error
		wantVersion []int64
	}{
		{name: "all", req: all(&pb.RangeRequest{}), keys: "[a b c d e]", count: 5},
		{name: "limit", req: all(&pb.RangeRequest{Limit: 2}), keys: "[a b]", count: 5, more: true},
		{name: "limit equal to count", req: all(&pb.RangeRequest{Limit: 5}), keys: "[a b c d e]", count: 5},
		{name: "count only", req: all(&pb.RangeRequest{CountOnly: true, Limit: 1}), keys: "[]", count: 5},
		{name: "keys only", req: all(&pb.RangeRequest{KeysOnly: true}), keys: "[a b c d e]", count: 5, valuesGone: true},
		{name: "key descend", req: all(&pb.RangeRequest{SortOrder: pb.RangeRequest_DESCEND}), keys: "[e d c b a]", count: 5},
		{name: "key ascend", req: all(&pb.RangeRequest{SortOrder: pb.RangeRequest_ASCEND, Limit: 1}), keys: "[a]", count: 5, more: true},
		{name: "value, order none means ascend", req: all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE}), keys: "[d b e a c]", count: 5},
		{name: "value descend keys only", req: all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND, KeysOnly: true, Limit: 3}),
			keys: "[a c e]", count: 5, more: true, valuesGone: true},
		{name: "version descend", req: all(&pb.RangeRequest{SortTarget: pb.RangeRequest_VERSION, SortOrder: pb.RangeRequest_DESCEND, Limit: 2}),
			count: 5, more: true, wantVersion: []int64{2, 2}},
		{name: "create descend", req: all(&pb.RangeRequest{SortTarget: pb.RangeRequest_CREATE, SortOrder: pb.RangeRequest_DESCEND}), keys: "[e d c b a]", count: 5},
		{name: "mod ascend", req: all(&pb.RangeRequest{SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_ASCEND}), keys: "[a c e b d]", count: 5},
		{name: "min mod", req: all(&pb.RangeRequest{MinModRevision: 6}), keys: "[b d e]", count: 5},
		{name: "max mod", req: all(&pb.RangeRequest{MaxModRevision: 6}), keys: "[a c e]", count: 5},
		{name: "min create", req: all(&pb.RangeRequest{MinCreateRevision: 4}), keys: "[c d e]", count: 5},
		{name: "max create and limit", req: all(&pb.RangeRequest{MaxCreateRevision: 4, Limit: 2}), keys: "[a b]", count: 5, more: true},
		{name: "filters combined", req: all(&pb.RangeRequest{MinCreateRevision: 3, MaxModRevision: 7, SortOrder: pb.RangeRequest_DESCEND}), keys: "[e c b]", count: 5},
		{name: "at a past revision", req: all(&pb.RangeRequest{Revision: 4}), keys: "[a b c]", count: 3},
		{name: "single key", req: &pb.RangeRequest{Key: []byte("c")}, keys: "[c]", count: 1},
		{name: "from key", req: &pb.RangeRequest{Key: []byte("c"), RangeEnd: []byte{0}}, keys: "[c d e]", count: 3},
		{name: "future revision", req: all(&pb.RangeRequest{Revision: 9}), wantErr: rpctypes.ErrGRPCFutureRev},
	}
	for _, tc := range tests {
		resp, err := a.rng(tc.req)
		if tc.wantErr != nil || err != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if tc.keys != "" && keys(resp) != tc.keys {
			t.Errorf("%s: keys %s, want %s", tc.name, keys(resp), tc.keys)
		}
		if resp.Count != tc.count || resp.More != tc.more || resp.Header.Revision != 8 {
			t.Errorf("%s: count %d more %v rev %d, want count %d more %v rev 8", tc.name, resp.Count, resp.More, resp.Header.Revision, tc.count, tc.more)
		}
		for _, kv := range resp.Kvs {
			if (kv.Value == nil) != tc.valuesGone {
				t.Errorf("%s: value %q", tc.name, kv.Value)
			}
		}
		if tc.wantVersion != nil {
			var got []int64
			for _, kv := range resp.Kvs {
				got = append(got, kv.Version)
			}
			if !slices.Equal(got, tc.wantVersion) {
				t.Errorf("%s: versions %v", tc.name, got)
			}
		}
	}
}

func TestReadTxnRefusesWrites(t *testing.T) {
	a := newApplier(t)
	for _, r := range []*pb.TxnRequest{
		{Success: []*pb.RequestOp{opPut("a", "1")}},
		{Failure: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("a")}), opDel("a", "")}},
		{Success: []*pb.RequestOp{opTxn(&pb.TxnRequest{})}},
	} {
		if IsTxnReadOnly(r) {
			t.Errorf("%v counted as read-only", r)
		}
		if _, err := a.ReadTxn(r); err == nil || IsRequestError(err) {
			t.Errorf("ReadTxn(%v): %v", r, err)
		}
	}
	ro := &pb.TxnRequest{Success: []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("a"), Serializable: true})}}
	if !IsTxnReadOnly(ro) || !IsTxnSerializable(ro) {
		t.Error("a serializable range txn not recognized")
	}
	ro.Failure = []*pb.RequestOp{opRange(&pb.RangeRequest{Key: []byte("a")})}
	if IsTxnSerializable(ro) {
		t.Error("a linearizable range counted as serializable")
	}
}

func TestInternalErrorsAreNotRequestErrors(t *testing.T) {
	a := newApplier(t)
	a.mustPut("a", "1", 0)
	// Replaying an applied index is the caller's bug, not the client's.
	_, err := a.Put(&pb.PutRequest{Key: []byte("a"), Value: []byte("2")}, a.store.ConsistentIndex())
	if err == nil || IsRequestError(err) {
		t.Fatalf("stale index: %v", err)
	}
	if IsRequestError(nil) || !IsRequestError(rpctypes.ErrGRPCEmptyKey) {
		t.Fatal("IsRequestError")
	}
	if ToGRPCError(fmt.Errorf("wrapped: %w", errors.New("x"))) == nil {
		t.Fatal("ToGRPCError dropped an error")
	}
	if _, err := New(a.store, Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("zero options accepted: %v", err)
	}
}

// TestPutKeepsLeaseAndValue covers ignore_value and ignore_lease together
// and the events the store hands to watchers.
func TestPutKeepsLeaseAndValue(t *testing.T) {
	a := newApplier(t)
	a.mustPut("k", "v", grantedLease)
	resp, err := a.put(&pb.PutRequest{Key: []byte("k"), IgnoreValue: true, IgnoreLease: true, PrevKv: true})
	if err != nil {
		t.Fatal(err)
	}
	want := kv("k", "v", 2, 2, 1, grantedLease)
	if !equalKV(resp.PrevKv, want) {
		t.Fatalf("prev %v", resp.PrevKv)
	}
	r, _ := a.rng(&pb.RangeRequest{Key: []byte("k")})
	if !equalKV(r.Kvs[0], kv("k", "v", 2, 3, 2, grantedLease)) {
		t.Fatalf("after ignore_value and ignore_lease: %v", r.Kvs[0])
	}
	keys, err := a.store.KeysWithLease(grantedLease)
	if err != nil || len(keys) != 1 {
		t.Fatalf("lease index: %q %v", keys, err)
	}
}

func equalKV(a, b *mvccpb.KeyValue) bool {
	return a != nil && b != nil && string(a.Key) == string(b.Key) && string(a.Value) == string(b.Value) &&
		a.CreateRevision == b.CreateRevision && a.ModRevision == b.ModRevision && a.Version == b.Version && a.Lease == b.Lease
}
