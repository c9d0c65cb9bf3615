package raft

import "github.com/cairndb/cairn/raft/raftpb"

// ReadState answers a ReadIndex request: once the application has applied
// up to Index, a read of its state machine is linearizable for RequestCtx.
type ReadState struct {
	Index      uint64
	RequestCtx []byte
}

type readIndexStatus struct {
	req   raftpb.Message
	index uint64
	acks  map[uint64]bool
}

// readOnly queues ReadIndex requests waiting for a heartbeat quorum
// (thesis §6.4). Requests are answered in arrival order: an ack for a later
// request confirms leadership for every earlier one too.
type readOnly struct {
	pending map[string]*readIndexStatus
	queue   []string
}

func newReadOnly() *readOnly {
	return &readOnly{pending: map[string]*readIndexStatus{}}
}

// addRequest queues m, to be answered at index once confirmed. Duplicate
// contexts are ignored.
func (ro *readOnly) addRequest(index uint64, m raftpb.Message) {
	s := string(m.Context)
	if _, ok := ro.pending[s]; ok {
		return
	}
	ro.pending[s] = &readIndexStatus{index: index, req: m, acks: map[uint64]bool{}}
	ro.queue = append(ro.queue, s)
}

// recvAck records id's heartbeat ack for ctx and returns the acks so far.
func (ro *readOnly) recvAck(id uint64, ctx []byte) map[uint64]bool {
	rs, ok := ro.pending[string(ctx)]
	if !ok {
		return nil
	}
	rs.acks[id] = true
	return rs.acks
}

// advance removes and returns every request up to and including ctx.
func (ro *readOnly) advance(ctx []byte) []*readIndexStatus {
	s := string(ctx)
	i := -1
	for j, k := range ro.queue {
		if k == s {
			i = j
			break
		}
	}
	if i < 0 {
		return nil
	}
	var out []*readIndexStatus
	for _, k := range ro.queue[:i+1] {
		out = append(out, ro.pending[k])
		delete(ro.pending, k)
	}
	ro.queue = append([]string(nil), ro.queue[i+1:]...)
	return out
}

// lastPendingRequestCtx returns the newest pending context, if any.
func (ro *readOnly) lastPendingRequestCtx() []byte {
	if len(ro.queue) == 0 {
		return nil
	}
	return []byte(ro.queue[len(ro.queue)-1])
}
