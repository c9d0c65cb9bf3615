package kvapply

import (
	"bytes"
	"cmp"
	"math"
	"slices"

	"github.com/cairndb/cairn/storage/mvcc"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// executeRange answers a RangeRequest from v exactly as etcd: Count is
// the number of keys in the range before the revision filters; sorting or
// a filter makes it fetch everything, else it fetches limit+1 to learn
// More; the limit applies after filtering and sorting.
func executeRange(v mvcc.ReadView, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	cmpFunc, reverse, err := sortFunc(r)
	if err != nil {
		return nil, err
	}
	rr, err := v.Range(r.GetKey(), r.GetRangeEnd(), mvcc.RangeOptions{
		Rev:       r.GetRevision(),
		Limit:     rangeLimit(r),
		CountOnly: r.GetCountOnly(),
		// Sorting by value needs the values even when they are not returned.
		KeysOnly: r.GetKeysOnly() && r.GetSortTarget() != pb.RangeRequest_VALUE,
	})
	if err != nil {
		return nil, ToGRPCError(err)
	}
	kvs := filterRevisions(rr.KVs, r)
	switch {
	case reverse:
		slices.Reverse(kvs)
	case cmpFunc != nil:
		slices.SortFunc(kvs, cmpFunc)
	}
	resp := &pb.RangeResponse{Header: &pb.ResponseHeader{Revision: rr.Rev}, Count: rr.Count}
	if r.GetLimit() > 0 && int64(len(kvs)) > r.GetLimit() {
		kvs = kvs[:r.GetLimit()]
		resp.More = true
	}
	if r.GetKeysOnly() {
		for _, kv := range kvs {
			kv.Value = nil // the KVs of a Range belong to the caller
		}
	}
	resp.Kvs = kvs
	return resp, nil
}

// rangeLimit is the limit etcd passes to its store.
func rangeLimit(r *pb.RangeRequest) int64 {
	limit := r.GetLimit()
	if !isDefaultOrdering(r.GetSortTarget(), r.GetSortOrder()) || hasRevisionFilters(r) {
		limit = 0
	}
	if limit > 0 && limit < math.MaxInt64 {
		limit++
	}
	return limit
}

// isDefaultOrdering: the store returns keys in ascending order already.
func isDefaultOrdering(target pb.RangeRequest_SortTarget, order pb.RangeRequest_SortOrder) bool {
	return order == pb.RangeRequest_NONE || (target == pb.RangeRequest_KEY && order == pb.RangeRequest_ASCEND)
}

func hasRevisionFilters(r *pb.RangeRequest) bool {
	return r.GetMinModRevision() != 0 || r.GetMaxModRevision() != 0 ||
		r.GetMinCreateRevision() != 0 || r.GetMaxCreateRevision() != 0
}

// filterRevisions drops the KVs outside the request's mod and create
// revision bounds (0: no bound).
func filterRevisions(kvs []*mvccpb.KeyValue, r *pb.RangeRequest) []*mvccpb.KeyValue {
	if !hasRevisionFilters(r) {
		return kvs
	}
	return slices.DeleteFunc(kvs, func(kv *mvccpb.KeyValue) bool {
		return (r.GetMaxModRevision() != 0 && kv.ModRevision > r.GetMaxModRevision()) ||
			(r.GetMinModRevision() != 0 && kv.ModRevision < r.GetMinModRevision()) ||
			(r.GetMaxCreateRevision() != 0 && kv.CreateRevision > r.GetMaxCreateRevision()) ||
			(r.GetMinCreateRevision() != 0 && kv.CreateRevision < r.GetMinCreateRevision())
	})
}

// sortFunc returns the comparison etcd sorts with (nil: keep key order),
// or reverse for key-descending, which is the key order reversed. A sort
// target other than KEY with order NONE sorts ascending, as etcd.
func sortFunc(r *pb.RangeRequest) (f func(a, b *mvccpb.KeyValue) int, reverse bool, err error) {
	order, target := r.GetSortOrder(), r.GetSortTarget()
	if _, ok := pb.RangeRequest_SortOrder_name[int32(order)]; !ok {
		return nil, false, rpctypes.ErrGRPCInvalidSortOption
	}
	if target != pb.RangeRequest_KEY && order == pb.RangeRequest_NONE {
		order = pb.RangeRequest_ASCEND
	}
	if isDefaultOrdering(target, order) {
		return nil, false, nil
	}
	switch target {
	case pb.RangeRequest_KEY:
		return nil, true, nil // DESCEND
	case pb.RangeRequest_VERSION:
		f = func(a, b *mvccpb.KeyValue) int { return cmp.Compare(a.Version, b.Version) }
	case pb.RangeRequest_CREATE:
		f = func(a, b *mvccpb.KeyValue) int { return cmp.Compare(a.CreateRevision, b.CreateRevision) }
	case pb.RangeRequest_MOD:
		f = func(a, b *mvccpb.KeyValue) int { return cmp.Compare(a.ModRevision, b.ModRevision) }
	case pb.RangeRequest_VALUE:
		f = func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Value, b.Value) }
	default:
		return nil, false, rpctypes.ErrGRPCInvalidSortOption
	}
	if order == pb.RangeRequest_DESCEND {
		asc := f
		f = func(a, b *mvccpb.KeyValue) int { return asc(b, a) }
	}
	return f, false, nil
}
