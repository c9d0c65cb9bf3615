package coord

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/eventual/merkle"
)

// TestTombstonesAreCollectedOnlyWhenEveryReplicaHasThem: deleted keys are
// purged from every replica once all hold the same tombstone; a key whose
// delete one replica missed is kept until that replica has it.
func TestTombstonesAreCollectedOnlyWhenEveryReplicaHasThem(t *testing.T) {
	tc := newTestCluster(t, 3, 3)
	ctx := tctx(t)
	for i := range 40 {
		if _, err := tc.nodes[0].co.Write(ctx, []byte(fmt.Sprint("k", i)), Op{Code: OpSAdd, Members: []string{"m"}}, LevelAll); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := tc.nodes[1].co.Write(ctx, []byte(fmt.Sprint("k", i)), Op{Code: OpDel}, LevelAll); err != nil {
			t.Fatal(err)
		}
	}
	// k39's delete misses node 3.
	tc.down(3)
	if _, err := tc.nodes[0].co.Write(ctx, []byte("k39"), Op{Code: OpDel}, LevelQuorum); err != nil {
		t.Fatal(err)
	}
	collected := 0
	for _, nd := range tc.nodes[:2] {
		collected += nd.co.CollectTombstonesNow()
	}
	if collected != 0 {
		t.Fatalf("%d tombstones collected while a replica was down", collected)
	}
	tc.up(3)
	for _, nd := range tc.nodes {
		for {
			if len(nd.store.HintTargets()) == 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("hints not replayed")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	for _, nd := range tc.nodes {
		collected += nd.co.CollectTombstonesNow()
	}
	if collected != 21 {
		t.Fatalf("collected %d tombstones, want 21 (20 deletes + k39)", collected)
	}
	for _, nd := range tc.nodes {
		for i := range 40 {
			o, _ := nd.store.Get([]byte(fmt.Sprint("k", i)))
			deleted := i < 20 || i == 39
			if deleted != o.IsZero() {
				t.Fatalf("node %d key k%d: zero state %v, deleted %v", nd.id, i, o.IsZero(), deleted)
			}
		}
	}
	// The trees followed the purges: replicas still agree.
	for _, nd := range tc.nodes {
		for _, a := range nd.co.cfg.Trees.current().arcs {
			for _, p := range a.peers {
				other := tc.nodes[p-1].co.cfg.Trees.current().byRng[a.tree.Range()]
				a.mu.Lock()
				other.mu.Lock()
				diff, err := merkle.Diff(a.tree, other.tree)
				other.mu.Unlock()
				a.mu.Unlock()
				if err != nil || len(diff) != 0 {
					t.Fatalf("trees differ after collection: %v %v", diff, err)
				}
			}
		}
	}
}
