package strong

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Members once numbered their ReadIndex contexts from 1 alone; the leader
// answered only one of two followers' requests with the same number, and
// the other read stalled until it was asked again.
func TestReadContextsAreUniqueAcrossMembers(t *testing.T) {
	seen := map[string][2]uint64{}
	for member := uint64(1); member <= 5; member++ {
		for seq := uint64(1); seq <= 100; seq++ {
			c := readContext(member, seq)
			if prev, dup := seen[string(c)]; dup {
				t.Fatalf("member %d seq %d has the context of member %d seq %d", member, seq, prev[0], prev[1])
			}
			seen[string(c)] = [2]uint64{member, seq}
		}
	}
	if bytes.Equal(readContext(1, 2), readContext(2, 1)) {
		t.Fatal("contexts ignore the member")
	}
}

// A full queue to the Raft loop is refused at once with etcd's "too many
// requests", not left to wait out the client's deadline.
func TestFullProposalQueueIsRefusedAtOnce(t *testing.T) {
	n := &raftNode{
		m:       newMetrics(nil, func() float64 { return 0 }),
		waiters: newWaiters(),
		propc:   make(chan proposal, 1),
		stopc:   make(chan struct{}),
	}
	n.propc <- proposal{} // the loop is not running: the queue stays full
	req := &etcdserverpb.InternalRaftRequest{ID: 7, Put: &etcdserverpb.PutRequest{Key: []byte("k")}}
	start := time.Now()
	_, err := n.replicate(context.Background(), req, 1<<20, time.Minute)
	if !errors.Is(err, rpctypes.ErrGRPCRequestTooManyRequests) {
		t.Fatalf("replicate on a full queue: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("replicate waited on a full queue")
	}
	if _, err := n.replicate(context.Background(), req, 2, time.Minute); !errors.Is(err, rpctypes.ErrGRPCRequestTooLarge) {
		t.Fatalf("replicate of an oversize request: %v", err)
	}
}
