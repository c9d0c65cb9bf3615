package gossip

import (
	"math/rand/v2"
	"testing"
)

func alive(id NodeID, inc uint64) Update {
	return Update{Member: id, Incarnation: inc, State: StateAlive}
}

func members(us []Update) []NodeID {
	var ids []NodeID
	for _, u := range us {
		ids = append(ids, u.Member)
	}
	return ids
}

func TestBroadcastOrderLeastSentNewestFirst(t *testing.T) {
	q := newBroadcastQueue(10)
	for id := NodeID(1); id <= 4; id++ {
		q.push(alive(id, 1))
	}
	got := members(q.take(nil, 2, 1000, 5, 0))
	if len(got) != 2 || got[0] != 4 || got[1] != 3 {
		t.Fatalf("first take %v, want the newest [4 3]", got)
	}
	got = members(q.take(nil, 3, 1000, 5, 0))
	if len(got) != 3 || got[0] != 2 || got[1] != 1 || got[2] != 4 {
		t.Fatalf("second take %v, want the unsent first [2 1] then 4", got)
	}
	if err := q.valid(); err != nil {
		t.Fatal(err)
	}
}

func TestBroadcastRetransmitLimitAndReplace(t *testing.T) {
	q := newBroadcastQueue(10)
	q.push(alive(1, 1))
	for i := 0; i < 3; i++ {
		if got := q.take(nil, 5, 1000, 3, 0); len(got) != 1 {
			t.Fatalf("take %d: %v", i, got)
		}
	}
	if q.size != 0 {
		t.Fatalf("an update sent limit times is still queued (size %d)", q.size)
	}
	q.push(alive(2, 1))
	q.take(nil, 5, 1000, 3, 0)
	q.push(Update{Member: 2, Incarnation: 1, State: StateSuspect, From: 3})
	got := q.take(nil, 5, 1000, 3, 0)
	if len(got) != 1 || got[0].State != StateSuspect || q.size != 1 {
		t.Fatalf("replacement: got %v, size %d", got, q.size)
	}
	if err := q.valid(); err != nil {
		t.Fatal(err)
	}
}

func TestBroadcastBoundsAndBudget(t *testing.T) {
	q := newBroadcastQueue(3)
	for id := NodeID(1); id <= 3; id++ {
		q.push(alive(id, 1))
	}
	q.take(nil, 1, 1000, 10, 0) // 3 sent once
	if dropped := q.push(alive(4, 1)); !dropped {
		t.Fatal("push over the bound did not report a drop")
	}
	if _, ok := q.byMember[3]; ok {
		t.Fatal("the bound dropped a less-sent update instead of the most-sent one")
	}
	big := Update{Member: 9, Incarnation: 1, State: StateAlive, Meta: string(make([]byte, 100))}
	q.push(big)
	got := q.take(nil, 10, 50, 10, 0)
	for _, u := range got {
		if u.Member == 9 {
			t.Fatal("an update over the byte budget was taken")
		}
	}
	if len(got) == 0 {
		t.Fatal("small updates were not taken past a large one")
	}
	if got := q.take(nil, 10, 1000, 10, 4); len(got) > 0 && got[0].Member == 4 {
		t.Fatal("skip was not honoured")
	}
	if err := q.valid(); err != nil {
		t.Fatal(err)
	}
}

// A random walk over push, take and remove keeps the invariants.
func TestBroadcastRandomOperations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := newBroadcastQueue(16)
	for i := 0; i < 20000; i++ {
		switch rng.IntN(3) {
		case 0:
			q.push(alive(NodeID(1+rng.IntN(40)), uint64(1+rng.IntN(5))))
		case 1:
			got := q.take(nil, 1+rng.IntN(8), 20+rng.IntN(200), 1+rng.IntN(6), NodeID(rng.IntN(40)))
			seen := map[NodeID]bool{}
			for _, u := range got {
				if seen[u.Member] {
					t.Fatalf("step %d: member %d taken twice in one message", i, u.Member)
				}
				seen[u.Member] = true
			}
		case 2:
			q.remove(NodeID(1 + rng.IntN(40)))
		}
		if err := q.valid(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}
