package watch

import (
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// fragmentFlagBytes is the encoded size of "fragment: true" (tag + byte).
const fragmentFlagBytes = 2

// fragments splits an events response whose encoding reaches maxBytes
// into responses with Fragment set on all but the last, as etcd's
// sendFragments: each fragment takes events while it stays below
// maxBytes, and at least one, so one huge event still goes (alone).
// Clients reassemble fragments of one watch ID in order. A response below
// maxBytes, or with one event, is returned as is.
func fragments(wr *etcdserverpb.WatchResponse, maxBytes int) []*etcdserverpb.WatchResponse {
	if len(wr.Events) < 2 {
		return []*etcdserverpb.WatchResponse{wr}
	}
	eventBytes := make([]int, len(wr.Events))
	total := 0
	for i, ev := range wr.Events {
		eventBytes[i] = encodedEventBytes(ev)
		total += eventBytes[i]
	}
	base := proto.Size(&etcdserverpb.WatchResponse{Header: wr.Header, WatchId: wr.WatchId,
		CompactRevision: wr.CompactRevision, Canceled: wr.Canceled, CancelReason: wr.CancelReason})
	if base+total < maxBytes {
		return []*etcdserverpb.WatchResponse{wr}
	}
	var out []*etcdserverpb.WatchResponse
	for i := 0; i < len(wr.Events); {
		j, size := i+1, base+fragmentFlagBytes+eventBytes[i]
		for j < len(wr.Events) && size+eventBytes[j] < maxBytes {
			size += eventBytes[j]
			j++
		}
		out = append(out, &etcdserverpb.WatchResponse{
			Header:          wr.Header,
			WatchId:         wr.WatchId,
			CompactRevision: wr.CompactRevision,
			Canceled:        wr.Canceled,
			CancelReason:    wr.CancelReason,
			Events:          wr.Events[i:j:j],
			Fragment:        j < len(wr.Events),
		})
		i = j
	}
	return out
}

// encodedEventBytes is what one event adds to a WatchResponse: the
// field's tag, length and message.
func encodedEventBytes(ev *mvccpb.Event) int {
	n := proto.Size(ev)
	return protowire.SizeTag(11) + protowire.SizeBytes(n)
}
