package merkle

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestIncrementalEqualsRebuild: any sequence of Add, Remove and Update,
// with Root called at random points in between, leaves every node of the
// tree equal to a tree built from scratch from the final contents, and
// the invariants (counts, dirty marking, clean hashes) hold throughout.
func TestIncrementalEqualsRebuild(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRange(t)
		cfg := Config{Depth: rapid.IntRange(0, 8).Draw(t, "depth")}
		tr, err := New(cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		m := model{}
		var next uint64
		ops := rapid.IntRange(0, 300).Draw(t, "ops")
		for i := 0; i < ops; i++ {
			switch op := rapid.IntRange(0, 3).Draw(t, "op"); {
			case op == 0 || len(m) == 0:
				e := entry{h: drawHashIn(t, r, "h"), d: digestOf(next, 0)}
				m[next] = e
				next++
				if err := tr.Add(e.h, e.d); err != nil {
					t.Fatal(err)
				}
			case op == 1:
				k := anyKey(t, m)
				if err := tr.Remove(m[k].h, m[k].d); err != nil {
					t.Fatalf("Remove of a present entry: %v", err)
				}
				delete(m, k)
			case op == 2:
				k := anyKey(t, m)
				e := m[k]
				nd := digestOf(k, uint32(i+1))
				if err := tr.Update(e.h, e.d, nd); err != nil {
					t.Fatalf("Update of a present entry: %v", err)
				}
				e.d = nd
				m[k] = e
			default:
				tr.Root()
			}
			if err := tr.valid(); err != nil {
				t.Fatalf("after op %d: %v", i, err)
			}
		}
		want := m.build(t, cfg, r)
		if tr.Len() != uint64(len(m)) || want.Len() != uint64(len(m)) {
			t.Fatalf("Len %d (rebuilt %d), model holds %d", tr.Len(), want.Len(), len(m))
		}
		if tr.Root() != want.Root() {
			t.Fatalf("incremental root %v, rebuilt %v", tr.Root(), want.Root())
		}
		for n := 1; n < 2*tr.Leaves(); n++ {
			if tr.node(n) != want.node(n) {
				t.Fatalf("node %d: incremental %v, rebuilt %v", n, tr.node(n), want.node(n))
			}
		}
		if err := tr.valid(); err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 && tr.Root() != emptyHash[tr.Depth()] {
			t.Fatalf("emptied tree's root %v is not the empty hash", tr.Root())
		}
	})
}

// anyKey draws a key of m in a reproducible way (map order is random).
func anyKey(t *rapid.T, m model) uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return rapid.SampledFrom(keys).Draw(t, "key")
}

// TestDuplicateAddIsSeen: with a modular sum, an entry added twice does not
// cancel out (as it would with XOR): the tree differs both from the tree
// with the entry once and from the empty tree.
func TestDuplicateAddIsSeen(t *testing.T) {
	cfg := Config{Depth: 4}
	once, _ := New(cfg, FullRange)
	twice, _ := New(cfg, FullRange)
	empty, _ := New(cfg, FullRange)
	d := digestOf(1, 1)
	_ = once.Add(42, d)
	_ = twice.Add(42, d)
	_ = twice.Add(42, d)
	if twice.Root() == once.Root() || twice.Root() == empty.Root() {
		t.Fatal("a doubled entry is indistinguishable")
	}
	if once.Root() == empty.Root() {
		t.Fatal("one entry looks like none")
	}
}

func TestMisuseErrors(t *testing.T) {
	r := Range{Start: 100, End: 200}
	tr, _ := New(Config{Depth: 2}, r)
	d1, d2 := digestOf(1, 0), digestOf(2, 0)
	if err := tr.Add(100, d1); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Add at the exclusive Start: %v", err)
	}
	if err := tr.Remove(150, d1); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("Remove from an empty leaf: %v", err)
	}
	if err := tr.Update(150, d1, d2); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("Update in an empty leaf: %v", err)
	}
	if err := tr.valid(); err != nil || tr.Len() != 0 || tr.Root() != emptyHash[2] {
		t.Fatalf("a refused call changed the tree: %v", err)
	}
	if err := tr.Add(150, d1); err != nil {
		t.Fatal(err)
	}
	// Removing another digest empties the leaf with a residue: detected.
	if err := tr.Remove(150, d2); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("Remove of a never-added digest: %v", err)
	}
	if tr.Root() == emptyHash[2] {
		t.Fatal("a corrupt leaf hashes as empty")
	}
	if _, err := New(Config{Depth: MaxDepth + 1}, r); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("depth over MaxDepth: %v", err)
	}
	if _, err := New(Config{Depth: -1}, r); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative depth: %v", err)
	}
}

func TestCloneAndReset(t *testing.T) {
	tr, _ := New(Config{Depth: 6}, FullRange)
	for k := uint64(0); k < 100; k++ {
		_ = tr.Add(k*0x9e3779b97f4a7c15, digestOf(k, 0))
	}
	root := tr.Root()
	c := tr.Clone()
	_ = tr.Add(7, digestOf(1000, 0))
	if c.Root() != root {
		t.Fatal("a write to the original changed the clone")
	}
	if tr.Root() == root {
		t.Fatal("the write changed nothing")
	}
	tr.Reset()
	fresh, _ := New(Config{Depth: 6}, FullRange)
	if tr.Root() != fresh.Root() || tr.Len() != 0 {
		t.Fatal("Reset did not empty the tree")
	}
	if err := tr.valid(); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryPerLeaf checks the figure doc.go and Config give: about 56
// bytes a leaf, at every depth.
func TestMemoryPerLeaf(t *testing.T) {
	for _, depth := range []int{6, DefaultDepth, 15} {
		tr, _ := New(Config{Depth: depth}, FullRange)
		per := float64(tr.MemoryBytes()) / float64(tr.Leaves())
		if per < 56 || per > 57 {
			t.Errorf("depth %d: %.2f bytes a leaf, doc says about 56", depth, per)
		}
	}
}

// TestRootRecomputesOnlyDirtyPaths: after one Add, exactly the leaf's path
// to the root is dirty, and every other node stays clean.
func TestRootRecomputesOnlyDirtyPaths(t *testing.T) {
	tr, _ := New(Config{Depth: 8}, FullRange)
	tr.Root()
	_ = tr.Add(1<<63, digestOf(1, 0))
	dirty := 0
	for n := 1; n < 2*tr.Leaves(); n++ {
		if tr.isDirty(n) {
			dirty++
		}
	}
	if dirty != tr.Depth()+1 {
		t.Fatalf("%d dirty nodes after one Add, want the %d of one path", dirty, tr.Depth()+1)
	}
	tr.Root()
	if tr.isDirty(1) {
		t.Fatal("Root left the root dirty")
	}
}
