package sim

import (
	"fmt"
	"time"
)

// EventKind names what a simulator event does.
type EventKind int

const (
	// EventDeliver hands a message to its destination node.
	EventDeliver EventKind = iota + 1
	// EventTick advances a node's logical clock by one tick.
	EventTick
	// EventCall runs a scheduled callback: a client request, a fault.
	EventCall
	// EventRestart restarts a crashed node from its disk.
	EventRestart
	// EventResume resumes a paused node.
	EventResume
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventDeliver:
		return "deliver"
	case EventTick:
		return "tick"
	case EventCall:
		return "call"
	case EventRestart:
		return "restart"
	case EventResume:
		return "resume"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// event is one entry of the queue. Events run in (at, seq) order; seq is
// the order in which they were scheduled, so ties are broken the same way
// in every run.
type event[M any] struct {
	at   time.Duration
	seq  uint64
	kind EventKind
	node NodeID // destination or subject
	from NodeID // EventDeliver
	gen  uint64 // EventTick, EventResume, EventRestart: node generation it belongs to
	msg  M      // EventDeliver
	held bool   // EventDeliver: a message released from a paused node's backlog
	name string // EventCall
	fn   func() // EventCall
}

// eventQueue is a binary min-heap of events keyed by (at, seq). The heap
// holds small pointer-free keys; the events themselves sit in a slab with a
// free list, so sifting moves 24 bytes without write barriers however large
// the message type is. It is written out rather than built on
// container/heap to avoid boxing each key in an interface.
type eventQueue[M any] struct {
	keys []queueKey
	slab []event[M]
	free []int32
}

type queueKey struct {
	at   time.Duration
	seq  uint64
	slot int32
}

func (q *eventQueue[M]) len() int { return len(q.keys) }

func (q *eventQueue[M]) less(i, j int) bool {
	a, b := &q.keys[i], &q.keys[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *eventQueue[M]) push(e event[M]) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = e
	} else {
		slot = int32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	q.keys = append(q.keys, queueKey{at: e.at, seq: e.seq, slot: slot})
	i := len(q.keys) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.keys[i], q.keys[parent] = q.keys[parent], q.keys[i]
		i = parent
	}
}

// peekTime returns the time of the earliest event; the queue must not be
// empty.
func (q *eventQueue[M]) peekTime() time.Duration { return q.keys[0].at }

// pop removes and returns the earliest event; the queue must not be empty.
func (q *eventQueue[M]) pop() event[M] {
	slot := q.keys[0].slot
	last := len(q.keys) - 1
	q.keys[0] = q.keys[last]
	q.keys = q.keys[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.keys[i], q.keys[m] = q.keys[m], q.keys[i]
		i = m
	}
	e := q.slab[slot]
	q.slab[slot] = event[M]{} // let the GC take the message and callback
	q.free = append(q.free, slot)
	return e
}
