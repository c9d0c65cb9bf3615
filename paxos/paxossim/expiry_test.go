package paxossim

import (
	"slices"
	"testing"
	"time"

	"github.com/cairndb/cairn/paxos"
	"github.com/cairndb/cairn/sim"
)

// lockScenario is a calm 3-node cluster without random clients, whose
// nodes' clocks are skewed by at least minSpread between the slowest and
// the fastest (the first seed from 1 that gives it).
func lockScenario(t *testing.T, minSpread time.Duration) (c *cluster, slow, fast sim.NodeID) {
	t.Helper()
	for seed := uint64(1); seed <= 50; seed++ {
		o := calmOptions(3, 3, 1)
		c, err := newCluster(seed, o)
		if err != nil {
			t.Fatal(err)
		}
		c.stopped = true // no random clients: the test's operations only
		ids := []sim.NodeID{1, 2, 3}
		skew := func(id sim.NodeID) time.Duration { return c.skew[id-1] }
		slow = slices.MinFunc(ids, func(a, b sim.NodeID) int { return int(skew(a) - skew(b)) })
		fast = slices.MaxFunc(ids, func(a, b sim.NodeID) int { return int(skew(a) - skew(b)) })
		if skew(fast)-skew(slow) >= minSpread {
			return c, slow, fast
		}
	}
	t.Fatal("no seed in 1..50 skews the clocks enough")
	return nil, 0, 0
}

// runUntilWall advances simulated time until node id's wall clock reads at
// least ms.
func runUntilWall(t *testing.T, c *cluster, id sim.NodeID, ms int64) {
	t.Helper()
	if d := ms - c.wallMs(id); d > 0 {
		if err := c.w.RunFor(time.Duration(d) * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if c.wallMs(id) < ms {
		t.Fatalf("node %d's clock at %d, want %d", id, c.wallMs(id), ms)
	}
}

// The distributed lock idiom in the simulated cluster (real messages over
// the codec, acceptors on disk, HLC-skewed clocks): SET lock alice NX PX
// 1000, then SET lock bob NX through the same coordinator fails before the
// deadline and succeeds after it. Between the two, the coordinators'
// clocks disagree: the fast one sees the lock expired while the slow one
// still sees it held, even after the fast one's read (the clock-skew
// hazard of the package doc). The history is linearizable against the
// model, which judges expiry with each operation's NowMs, and the safety
// invariants hold.
func TestLockExpiresInTheSimulator(t *testing.T) {
	c, slow, fast := lockScenario(t, 100*time.Millisecond)
	if err := c.w.RunFor(50 * time.Millisecond); err != nil { // nodes start ticking
		t.Fatal(err)
	}
	const key = "k0"
	do := func(client int, op paxos.Op, via sim.NodeID) paxos.Result {
		t.Helper()
		op.NowMs = c.wallMs(via)
		if op.DeadlineMs != 0 {
			op.DeadlineMs += op.NowMs // a TTL in the test, a deadline for paxos
		}
		o, err := c.call(client, key, op, via, 10*time.Second)
		if err == nil {
			err = o.Err
		}
		if err != nil {
			t.Fatalf("%v via node %d: %v", op.Kind, via, err)
		}
		return o.Result
	}
	setNX := func(owner string, ttlMs int64) paxos.Op {
		return paxos.Op{Kind: paxos.OpSetNX, Value: []byte(owner), DeadlineMs: ttlMs}
	}

	deadline := c.wallMs(fast) + 1000
	if res := do(1, setNX("alice", 1000), fast); !res.Applied {
		t.Fatalf("alice's SETNX: %+v", res)
	}
	if res := do(2, setNX("bob", 1000), fast); res.Applied || string(res.Prev.Data) != "alice" || res.Prev.DeadlineMs != deadline || res.Expired {
		t.Fatalf("bob's SETNX before the deadline: %+v", res)
	}

	// The fast coordinator's clock passes the deadline; the slow one's has
	// not (the spread is at least 100 ms, the operations take a few).
	runUntilWall(t, c, fast, deadline)
	if c.wallMs(slow) >= deadline-50 {
		t.Fatalf("slow node's clock %d too close to the deadline %d", c.wallMs(slow), deadline)
	}
	if res := do(3, paxos.Op{Kind: paxos.OpGet}, fast); res.Prev.Present || !res.Expired {
		t.Fatalf("GET via the fast coordinator after the deadline: %+v", res)
	}
	if res := do(3, paxos.Op{Kind: paxos.OpGet}, slow); string(res.Prev.Data) != "alice" || res.Expired {
		t.Fatalf("GET via the slow coordinator before its clock reaches the deadline: %+v", res)
	}
	if res := do(2, setNX("bob", 0), slow); res.Applied {
		t.Fatalf("bob's SETNX via the slow coordinator: %+v", res)
	}

	// After the deadline, through the same coordinator as before: bob gets
	// the lock, and the slow coordinator then sees bob's.
	res := do(2, setNX("bob", 0), fast)
	if !res.Applied || res.Prev.Present || !res.Expired {
		t.Fatalf("bob's SETNX after the deadline: %+v", res)
	}
	runUntilWall(t, c, slow, deadline)
	if res := do(4, setNX("carol", 1000), slow); res.Applied || string(res.Prev.Data) != "bob" || res.Prev.DeadlineMs != 0 {
		t.Fatalf("carol's SETNX on bob's lock: %+v", res)
	}

	if err := c.check.Err(); err != nil {
		t.Fatal(err)
	}
	ops := c.hist.Operations(Unknown())
	if len(ops) != 7 {
		t.Fatalf("%d operations in the history, want 7", len(ops))
	}
	if ok, details := CheckLinearizable(ops, 10*time.Second); !ok {
		t.Fatal(details)
	}
}
