package strong

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/raft/raftpb"
)

// The apply pipeline: the Raft loop hands each Ready's committed entries
// to the apply goroutine and goes on to the next Ready, so the next batch
// is replicated and fsynced while this one is applied (as etcd's raftNode
// hands entries to its applier). Order is kept: one goroutine applies
// every batch in turn. Configuration changes need the RawNode, which only
// the Raft loop may touch, so the apply goroutine asks the loop to apply
// them (confApply) and waits; the loop answers even while it waits to
// enqueue, so the two can never block each other.

// applyQueue bounds the batches waiting to be applied: past it the Raft
// loop waits (back-pressure on replication instead of memory growth).
const applyQueue = 64

// applyTask is one Ready's committed entries, or (ents nil) a barrier that
// is closed once everything before it is applied.
type applyTask struct {
	ents    []raftpb.Entry
	barrier chan struct{}
}

// confApplyReq asks the Raft loop to apply a configuration change.
type confApplyReq struct {
	cc   raftpb.ConfChange
	resp chan confApplyResp
}

type confApplyResp struct {
	cs  raftpb.ConfState
	err error
}

// enqueueApply hands a task to the apply goroutine, serving configuration
// changes meanwhile. It returns false if the node stops.
func (n *raftNode) enqueueApply(t applyTask) bool {
	for {
		select {
		case n.applyc <- t:
			return true
		case r := <-n.confApply:
			n.serveConfApply(r)
		case <-n.stopc:
			return false
		}
	}
}

// waitApplied blocks until every batch enqueued so far is applied (before
// a snapshot is installed or taken), serving configuration changes.
func (n *raftNode) waitApplied() bool {
	done := make(chan struct{})
	if !n.enqueueApply(applyTask{barrier: done}) {
		return false
	}
	for {
		select {
		case <-done:
			return true
		case r := <-n.confApply:
			n.serveConfApply(r)
		case <-n.stopc:
			return false
		}
	}
}

func (n *raftNode) serveConfApply(r confApplyReq) {
	cs, err := n.rn.ApplyConfChange(r.cc)
	r.resp <- confApplyResp{cs: cs, err: err}
}

// applyLoop is the apply goroutine.
func (n *raftNode) applyLoop() {
	defer close(n.applyDone)
	for {
		select {
		case t := <-n.applyc:
			if t.barrier != nil {
				close(t.barrier)
				continue
			}
			if err := n.applyEntries(t.ents); err != nil {
				n.log.Error("apply: fatal error, stopping the node", "err", err)
				panic(fmt.Sprintf("cairn: apply: %v", err))
			}
		case <-n.stopc:
			return
		}
	}
}

// applyEntries applies committed entries in order (apply goroutine).
func (n *raftNode) applyEntries(ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	start := time.Now()
	for _, e := range ents {
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 || e.Index <= n.sm.ConsistentIndex() {
				continue
			}
			req := &etcdserverpb.InternalRaftRequest{}
			if err := proto.Unmarshal(e.Data, req); err != nil {
				// Every node refuses the same bytes the same way: skip it.
				n.log.Error("undecodable log entry", "index", e.Index, "err", err)
				continue
			}
			resp, err := n.sm.Apply(e.Index, req)
			var fatal fatalError
			if errors.As(err, &fatal) {
				return fmt.Errorf("entry %d: %w", e.Index, err)
			}
			n.waiters.trigger(req.ID, waitResult{resp: resp, err: err})
		case raftpb.EntryConfChange:
			if err := n.applyConfChange(e); err != nil {
				return err
			}
		}
	}
	n.applied.advance(ents[len(ents)-1].Index)
	n.m.applySeconds.Observe(time.Since(start).Seconds())
	n.m.appliedIndex.Set(float64(ents[len(ents)-1].Index))
	return nil
}

func (n *raftNode) applyConfChange(e raftpb.Entry) error {
	cc, err := raftpb.UnmarshalConfChange(e.Data)
	if err != nil {
		return fmt.Errorf("conf change at %d: %w", e.Index, err)
	}
	if addsNewMember(n.confState(), cc) {
		// The initial configuration is not in the log (it was
		// bootstrapped into the storage), so a new member must start from
		// a snapshot: take one soon and compact behind it.
		n.forceSnap.Store(true)
	}
	req := confApplyReq{cc: cc, resp: make(chan confApplyResp, 1)}
	select {
	case n.confApply <- req:
	case <-n.stopc:
		return errStopped
	}
	var r confApplyResp
	select {
	case r = <-req.resp:
	case <-n.stopc:
		return errStopped
	}
	if r.err != nil {
		return fmt.Errorf("apply conf change at %d: %w", e.Index, r.err)
	}
	// The member records first: a proposer waits until the configuration
	// shows its change, and then lists the members.
	if err := n.sm.ApplyConfChange(e.Index, cc, r.cs); err != nil {
		return err
	}
	n.csMu.Lock()
	n.cs = r.cs
	n.csMu.Unlock()
	n.waiters.trigger(confChangeWaitID(e.Index), waitResult{resp: r.cs})
	return nil
}
