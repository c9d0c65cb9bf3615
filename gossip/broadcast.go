package gossip

import "fmt"

// broadcastQueue holds the updates waiting to be piggybacked, at most one
// per member (a newer update about a member replaces the older one, whose
// news it contains), each with the number of times it was sent.
//
// Updates sent fewer times go first, and among equals the newest, as in
// memberlist's TransmitLimitedQueue: fresh news spreads fastest, which is
// what an epidemic needs. Items live in one doubly linked list per transmit
// count (bucket), newest at the front, so that take, replace and evict are
// O(1) per item.
//
// Invariants (checked by valid): size == len(byMember) <= max; every item
// sits in the bucket of its transmit count, and in no other.
type broadcastQueue struct {
	byMember map[NodeID]*queuedUpdate
	buckets  []*bucketList // index: transmit count; pointers, since list nodes point at the sentinels
	size     int
	max      int
}

type queuedUpdate struct {
	u          Update
	bytes      int // encoded size
	transmits  int
	prev, next *queuedUpdate
}

// bucketList is a circular list with a sentinel.
type bucketList struct{ head queuedUpdate }

func (l *bucketList) init() { l.head.prev, l.head.next = &l.head, &l.head }

func (l *bucketList) empty() bool { return l.head.next == &l.head }

func (l *bucketList) pushFront(q *queuedUpdate) {
	q.prev, q.next = &l.head, l.head.next
	l.head.next.prev = q
	l.head.next = q
}

func unlink(q *queuedUpdate) {
	q.prev.next, q.next.prev = q.next, q.prev
	q.prev, q.next = nil, nil
}

func newBroadcastQueue(max int) *broadcastQueue {
	return &broadcastQueue{byMember: make(map[NodeID]*queuedUpdate), max: max}
}

func (b *broadcastQueue) bucket(i int) *bucketList {
	for len(b.buckets) <= i {
		l := &bucketList{}
		l.init()
		b.buckets = append(b.buckets, l)
	}
	return b.buckets[i]
}

// push queues u with no transmissions, replacing any queued update about
// the same member. At the bound it drops the most transmitted update (the
// oldest among them) and reports true.
func (b *broadcastQueue) push(u Update) (dropped bool) {
	if old, ok := b.byMember[u.Member]; ok {
		unlink(old)
		delete(b.byMember, u.Member)
		b.size--
	}
	if b.size >= b.max {
		b.evict()
		dropped = true
	}
	q := &queuedUpdate{u: u, bytes: encodedUpdateSize(&u)}
	b.bucket(0).pushFront(q)
	b.byMember[u.Member] = q
	b.size++
	return dropped
}

// evict drops the oldest update of the highest non-empty bucket.
func (b *broadcastQueue) evict() {
	for i := len(b.buckets) - 1; i >= 0; i-- {
		l := b.buckets[i]
		if !l.empty() {
			q := l.head.prev
			unlink(q)
			delete(b.byMember, q.u.Member)
			b.size--
			return
		}
	}
}

// remove drops any queued update about member.
func (b *broadcastQueue) remove(member NodeID) {
	if q, ok := b.byMember[member]; ok {
		unlink(q)
		delete(b.byMember, member)
		b.size--
	}
}

// take appends to dst up to maxCount updates whose encodings fit in
// maxBytes, least sent and newest first, skipping skip (an update already
// in the message), counts one transmission for each, and drops those that
// reach limit.
func (b *broadcastQueue) take(dst []Update, maxCount, maxBytes, limit int, skip NodeID) []Update {
	if b.size == 0 || maxCount <= 0 {
		return dst
	}
	var picked []*queuedUpdate
	for i := 0; i < len(b.buckets) && len(picked) < maxCount; i++ {
		l := b.buckets[i]
		for q := l.head.next; q != &l.head && len(picked) < maxCount; q = q.next {
			if q.bytes > maxBytes || q.u.Member == skip {
				continue
			}
			maxBytes -= q.bytes
			picked = append(picked, q)
		}
	}
	for _, q := range picked {
		dst = append(dst, q.u)
	}
	// Move them in reverse, so that each keeps its age order among the
	// updates sent as often.
	for i := len(picked) - 1; i >= 0; i-- {
		q := picked[i]
		unlink(q)
		q.transmits++
		if q.transmits >= limit {
			delete(b.byMember, q.u.Member)
			b.size--
			continue
		}
		b.bucket(q.transmits).pushFront(q)
	}
	return dst
}

// valid reports the first broken invariant; tests call it.
func (b *broadcastQueue) valid() error {
	if b.size != len(b.byMember) || b.size > b.max {
		return fmt.Errorf("broadcast queue: size %d, map %d, max %d", b.size, len(b.byMember), b.max)
	}
	seen := 0
	for i := range b.buckets {
		l := b.buckets[i]
		for q := l.head.next; q != &l.head; q = q.next {
			if q.transmits != i {
				return fmt.Errorf("broadcast queue: update about %d with %d transmits in bucket %d", q.u.Member, q.transmits, i)
			}
			if b.byMember[q.u.Member] != q {
				return fmt.Errorf("broadcast queue: update about %d is not the indexed one", q.u.Member)
			}
			seen++
		}
	}
	if seen != b.size {
		return fmt.Errorf("broadcast queue: %d items in buckets, size %d", seen, b.size)
	}
	return nil
}
