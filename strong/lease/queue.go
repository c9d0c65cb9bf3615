package lease

import "container/heap"

// expiryQueue is a min-heap of the primary's leases ordered by due time
// (then ID, so that equal times pop in one order on every run). Each lease
// knows its position (queueIndex), so Renew and Revoke fix or remove it in
// O(log n). It implements heap.Interface; use the push, fix and remove
// helpers below.
type expiryQueue []*lease

func (q expiryQueue) Len() int { return len(q) }

func (q expiryQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].id < q[j].id
}

func (q expiryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].queueIndex = i
	q[j].queueIndex = j
}

// Push is heap.Interface's; call q.push.
func (q *expiryQueue) Push(x any) {
	le := x.(*lease)
	le.queueIndex = len(*q)
	*q = append(*q, le)
}

// Pop is heap.Interface's; call q.remove.
func (q *expiryQueue) Pop() any {
	old := *q
	n := len(old)
	le := old[n-1]
	old[n-1] = nil
	le.queueIndex = notQueued
	*q = old[:n-1]
	return le
}

// notQueued is the queueIndex of a lease that is not in the queue.
const notQueued = -1

// push adds a lease that is not queued.
func (q *expiryQueue) push(le *lease) {
	if le.queueIndex != notQueued {
		panic("lease: pushing a lease that is already queued")
	}
	heap.Push(q, le)
}

// fix restores the order after le.due changed.
func (q *expiryQueue) fix(le *lease) { heap.Fix(q, le.queueIndex) }

// remove takes le out of the queue if it is there.
func (q *expiryQueue) remove(le *lease) {
	if le.queueIndex != notQueued {
		heap.Remove(q, le.queueIndex)
	}
}

// rebuild makes a queue of all of les in O(n).
func (q *expiryQueue) rebuild(les []*lease) {
	q.clear()
	*q = append((*q)[:0], les...)
	for i, le := range *q {
		le.queueIndex = i
	}
	heap.Init(q)
}

// clear empties the queue, marking every lease unqueued.
func (q *expiryQueue) clear() {
	for _, le := range *q {
		le.queueIndex = notQueued
	}
	clear(*q)
	*q = (*q)[:0]
}

// peek returns the lease due first, or nil.
func (q expiryQueue) peek() *lease {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}
