package strong

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/raft"
	"github.com/cairndb/cairn/raft/raftpb"
)

var errStopped = errors.New("strong: node stopped")

// idGenerator makes request IDs unique across members and restarts: the
// low 16 bits of the member ID, 40 bits of the start time in
// milliseconds, then a counter (the scheme of etcd's idutil).
type idGenerator struct {
	prefix uint64
	next   atomic.Uint64
}

func newIDGenerator(member uint64, now time.Time) *idGenerator {
	g := &idGenerator{prefix: (member & 0xffff) << 48}
	g.next.Store((uint64(now.UnixMilli()) & (1<<40 - 1)) << 8)
	return g
}

func (g *idGenerator) id() uint64 {
	return g.prefix | (g.next.Add(1) & (1<<48 - 1))
}

// proposalError maps a refused proposal to the error etcd gives clients.
func (n *raftNode) proposalError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNoLeader) || n.lead.Load() == 0:
		return rpctypes.ErrGRPCNoLeader
	case errors.Is(err, raft.ErrTransferring):
		return rpctypes.ErrGRPCLeaderChanged
	case errors.Is(err, raft.ErrUncommittedFull), errors.Is(err, raft.ErrConfChangePending):
		return rpctypes.ErrGRPCRequestTooManyRequests
	}
	return rpctypes.ErrGRPCStopped
}

// replicate proposes req through Raft and waits until this node applied
// it, returning the state machine's response.
func (n *raftNode) replicate(ctx context.Context, req *etcdserverpb.InternalRaftRequest, maxBytes int, timeout time.Duration) (any, error) {
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	if len(data) > maxBytes {
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := n.waiters.register(req.ID)
	start := time.Now()
	n.m.pending.Inc()
	defer n.m.pending.Dec()
	// The queue to the Raft loop is bounded: when it is full the member
	// is overloaded, and the client hears so at once (etcd's "too many
	// requests") instead of waiting out its deadline. A proposal queued
	// while the node stops is answered by waiters.stop.
	select {
	case n.propc <- proposal{id: req.ID, data: data}:
	default:
		n.waiters.cancel(req.ID)
		n.m.proposalsFailed.Inc()
		return nil, rpctypes.ErrGRPCRequestTooManyRequests
	}
	select {
	case r := <-ch:
		n.m.proposalSeconds.Observe(time.Since(start).Seconds())
		if r.err != nil {
			n.m.proposalsFailed.Inc()
		}
		return r.resp, r.err
	case <-ctx.Done():
		n.waiters.cancel(req.ID)
		n.m.proposalsFailed.Inc()
		return nil, contextError(ctx)
	}
}

// contextError is what a client sees when its request ran out of time:
// its own cancellation, or etcd's "request timed out".
func contextError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return rpctypes.ErrGRPCCanceled
	}
	return rpctypes.ErrGRPCTimeout
}

// proposeConfChange proposes a membership change and waits until it is
// applied here, returning the new configuration.
func (n *raftNode) proposeConfChange(ctx context.Context, cc raftpb.ConfChange, timeout time.Duration) (raftpb.ConfState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errc := make(chan error, 1)
	select {
	case n.confc <- confProposal{cc: cc, errc: errc}:
	case <-ctx.Done():
		return raftpb.ConfState{}, contextError(ctx)
	case <-n.stopc:
		return raftpb.ConfState{}, rpctypes.ErrGRPCStopped
	}
	if err := <-errc; err != nil {
		if errors.Is(err, raft.ErrProposalDropped) {
			return raftpb.ConfState{}, n.proposalError(err)
		}
		return raftpb.ConfState{}, err
	}
	// The change is identified by the member it names; wait until the
	// configuration shows it.
	want := cc.Changes[0]
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		cs := n.confState()
		if confShows(cs, want) {
			return cs, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return raftpb.ConfState{}, contextError(ctx)
		case <-n.stopc:
			return raftpb.ConfState{}, rpctypes.ErrGRPCStopped
		}
	}
}

func confShows(cs raftpb.ConfState, c raftpb.ConfChangeSingle) bool {
	has := func(ids []uint64) bool {
		for _, id := range ids {
			if id == c.NodeID {
				return true
			}
		}
		return false
	}
	switch c.Type {
	case raftpb.ConfChangeAddNode:
		return has(cs.Voters)
	case raftpb.ConfChangeAddLearnerNode:
		return has(cs.Learners)
	case raftpb.ConfChangeRemoveNode:
		return !has(cs.Voters) && !has(cs.Learners)
	}
	return false
}

// readBatcher makes linearizable reads cheap under load: every read that
// arrives while one ReadIndex round is in flight joins the next round, so
// a thousand concurrent reads cost one heartbeat round, not a thousand.
type readBatcher struct {
	n       *raftNode
	mu      sync.Mutex
	pending *readBatch
	kick    chan struct{}
	seq     atomic.Uint64
	timeout time.Duration
}

type readBatch struct {
	done chan struct{}
	err  error
}

func newReadBatcher(n *raftNode, timeout time.Duration) *readBatcher {
	return &readBatcher{n: n, pending: &readBatch{done: make(chan struct{})}, kick: make(chan struct{}, 1), timeout: timeout}
}

// wait returns once this node has applied everything committed when wait
// was called (or an error).
func (b *readBatcher) wait(ctx context.Context) error {
	b.mu.Lock()
	batch := b.pending
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
	select {
	case <-batch.done:
		return batch.err
	case <-ctx.Done():
		return contextError(ctx)
	}
}

// loop runs ReadIndex rounds until the node stops.
func (b *readBatcher) loop() {
	for {
		select {
		case <-b.kick:
		case <-b.n.stopc:
			b.mu.Lock()
			b.pending.err = rpctypes.ErrGRPCStopped
			close(b.pending.done)
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		batch := b.pending
		b.pending = &readBatch{done: make(chan struct{})}
		b.mu.Unlock()
		batch.err = b.round()
		close(batch.done)
	}
}

// readContext is the context of one ReadIndex request. The leader keys
// pending reads by context and ignores a second request with the same
// one, so it must be unique across members, not only on one: it is the
// member ID followed by the member's sequence number.
func readContext(member, seq uint64) []byte {
	var c [16]byte
	binary.BigEndian.PutUint64(c[:8], member)
	binary.BigEndian.PutUint64(c[8:], seq)
	return c[:]
}

// readIndexRetry is how long a ReadIndex round waits for its answer
// before it asks again: a request forwarded to a leader that just lost
// its place, or a lost message, must not stall every read of the batch
// for the whole request timeout (etcd retries after 500ms too).
const readIndexRetry = 500 * time.Millisecond

// readIndexNoLeaderRetry is the wait before asking again when the member
// knows no leader at all.
const readIndexNoLeaderRetry = 20 * time.Millisecond

// round confirms a read index with the leader, asking again when an
// answer does not come, and waits for the apply to reach it.
func (b *readBatcher) round() error {
	start := time.Now()
	deadline := time.NewTimer(b.timeout)
	defer deadline.Stop()
	var index uint64
	for answered := false; !answered; {
		req := readRequest{ctx: readContext(b.n.id, b.seq.Add(1)), answer: make(chan uint64, 1), errc: make(chan error, 1)}
		select {
		case b.n.readc <- req:
		case <-deadline.C:
			return rpctypes.ErrGRPCTimeout
		case <-b.n.stopc:
			return rpctypes.ErrGRPCStopped
		}
		retry := time.NewTimer(readIndexRetry)
		select {
		case index = <-req.answer:
			answered = true
		case err := <-req.errc:
			// No leader known yet (an election is running): ask again
			// soon, until the deadline.
			retry.Reset(readIndexNoLeaderRetry)
			select {
			case <-retry.C:
			case <-deadline.C:
				return b.n.proposalError(err)
			case <-b.n.stopc:
				return rpctypes.ErrGRPCStopped
			}
		case <-retry.C:
			b.n.m.readIndexRetries.Inc()
		case <-deadline.C:
			retry.Stop()
			return rpctypes.ErrGRPCTimeout
		case <-b.n.stopc:
			retry.Stop()
			return rpctypes.ErrGRPCStopped
		}
		retry.Stop()
	}
	select {
	case <-b.n.applied.wait(index):
	case <-deadline.C:
		return rpctypes.ErrGRPCTimeout
	case <-b.n.stopc:
		return rpctypes.ErrGRPCStopped
	}
	b.n.m.readIndexSeconds.Observe(time.Since(start).Seconds())
	return nil
}
