package coord

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/paxos"
)

// TestCompareAndSetIsLinearizableAcrossNodes: of many concurrent SET NX
// through every node exactly one wins, and CAS increments through every
// node never lose an update.
func TestCompareAndSetIsLinearizableAcrossNodes(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	var winners atomic.Int32
	var wg sync.WaitGroup
	for i, nd := range tc.nodes {
		for j := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := nd.co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte(strconv.Itoa(i*10 + j))})
				if err != nil {
					var pe *paxos.Error
					if errors.As(err, &pe) && !pe.MaybeApplied {
						return // lost the race without effect
					}
					t.Errorf("SETNX: %v", err)
					return
				}
				if res.Applied {
					winners.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if w := winners.Load(); w != 1 {
		t.Fatalf("%d SET NX won, want exactly 1", w)
	}
	// CAS increments: read, then compare-and-set; retry on a stale read.
	var applied, maybe atomic.Int32
	for _, nd := range tc.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				for attempt := 0; attempt < 50; attempt++ {
					cur, err := nd.co.CAS(ctx, []byte("n"), paxos.Op{Kind: paxos.OpGet})
					if err != nil {
						continue
					}
					v := 0
					op := paxos.Op{Kind: paxos.OpSetNX, Value: []byte("1")}
					if cur.Prev.Present {
						v, _ = strconv.Atoi(string(cur.Prev.Data))
						op = paxos.Op{Kind: paxos.OpCAS, Expected: cur.Prev.Data, Value: []byte(strconv.Itoa(v + 1))}
					}
					res, err := nd.co.CAS(ctx, []byte("n"), op)
					if err == nil && res.Applied {
						applied.Add(1)
						break
					}
					var pe *paxos.Error
					if errors.As(err, &pe) && pe.MaybeApplied {
						maybe.Add(1) // its outcome is unknown: it may yet count
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	res, err := tc.nodes[0].co.CAS(ctx, []byte("n"), paxos.Op{Kind: paxos.OpGet})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := strconv.Atoi(string(res.Prev.Data))
	if got < int(applied.Load()) || got > int(applied.Load()+maybe.Load()) {
		t.Fatalf("counter %d after %d applied increments (and %d of unknown outcome)", got, applied.Load(), maybe.Load())
	}
	// The chosen value reaches the plain read path too.
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := tc.nodes[2].co.Read(ctx, []byte("n"), LevelAll)
		if err == nil {
			if v, ok, _ := o.Get(time.Now().UnixMilli()); ok && string(v) == string(res.Prev.Data) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the committed value never reached the objects")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recovering returns how many of the node's ranges still catch up on their
// acceptor states (-1 before the node has seen a ring).
func recovering(nd *testNode) int {
	g := nd.co.px.guard
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ring == nil {
		return -1
	}
	return len(g.pending)
}

func waitRecovered(t *testing.T, nd *testNode) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for recovering(nd) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("node %d still recovers %d ranges", nd.id, recovering(nd))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplacedAcceptorsKeepTheChosenValue replaces two of a key's three
// acceptors one after the other, each wiped, then cuts the third off: the
// two new acceptors must still know the SET NX winner, so a second SET NX
// fails. A replaced node answers no Prepare or Accept until it has merged
// the states of both other replicas, so with one of them down it cannot
// help a proposer to a quorum.
func TestReplacedAcceptorsKeepTheChosenValue(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	res, err := tc.nodes[0].co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte("first")})
	if err != nil || !res.Applied {
		t.Fatalf("first SET NX: %+v %v", res, err)
	}

	// Node 1 is replaced while node 3 is down: it cannot catch up, so it
	// stays silent, and a proposer has only node 2.
	tc.down(3)
	tc.replace(t, 1)
	time.Sleep(300 * time.Millisecond)
	if n := recovering(tc.nodes[0]); n <= 0 {
		t.Fatalf("node 1 recovers %d ranges with a replica down, want > 0", n)
	}
	_, err = tc.nodes[1].co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte("second")})
	var pe *paxos.Error
	if !errors.As(err, &pe) || pe.MaybeApplied {
		t.Fatalf("SET NX with one caught-up acceptor of three: %v, want a failure without effect", err)
	}
	tc.up(3)
	waitRecovered(t, tc.nodes[0])

	// Node 2 is replaced too, then node 3 cut off: nodes 1 and 2 are the
	// quorum, and neither was there when "first" was chosen.
	tc.replace(t, 2)
	waitRecovered(t, tc.nodes[1])
	tc.down(3)
	res, err = tc.nodes[0].co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte("third")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied || string(res.Prev.Data) != "first" {
		t.Fatalf("SET NX after two replacements: applied=%v prev=%q, want refused with %q", res.Applied, res.Prev.Data, "first")
	}
}

// TestReplacedAcceptorsWithoutRecoveryForget shows what the recovery
// prevents, so the test above can fail: nodes replaced as if they
// bootstrapped a new cluster answer at once, and two fresh acceptors elect
// a second SET NX winner.
func TestReplacedAcceptorsWithoutRecoveryForget(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	if res, err := tc.nodes[0].co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte("first")}); err != nil || !res.Applied {
		t.Fatalf("first SET NX: %+v %v", res, err)
	}
	for _, id := range []uint64{1, 2} {
		nd := tc.nodes[id-1]
		nd.stop()
		tc.startNode(t, nd, true) // the unsafe way: no catching up
	}
	tc.down(3)
	res, err := tc.nodes[0].co.CAS(ctx, []byte("lock"), paxos.Op{Kind: paxos.OpSetNX, Value: []byte("second")})
	if err != nil || !res.Applied {
		t.Fatalf("without recovery two fresh acceptors should forget the winner; got %+v %v", res, err)
	}
}
