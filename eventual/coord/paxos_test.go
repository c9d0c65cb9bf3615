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
