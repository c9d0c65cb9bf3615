package merkle

import (
	"fmt"
	"math/bits"
)

// Tree is a Merkle tree over one hash range of a replica's entries. Its
// leaves each sum the digests of the entries whose key hash falls in the
// leaf's slice of the range; its inner nodes hash their two children.
// Add, Remove and Update change one leaf's sum in O(1) and mark the path to
// the root dirty (stopping at the first node already dirty); Root and the
// exchange recompute only the dirty nodes.
//
// A Tree is not safe for concurrent use: the caller serializes its calls
// (the replica store's writes and the exchange's reads) with a lock.
type Tree struct {
	lay layout
	// leaves[i] is leaf i's entry count and digest sum.
	leaves []leaf
	// nodes[n] is node n's hash in heap numbering (nodes[0] unused, root
	// 1, leaf i at 2^depth+i). It is current unless n is dirty.
	nodes []Hash
	// dirty has bit n set when nodes[n] is stale. Invariant: a dirty node's
	// parent is dirty, so a clean node's whole subtree is clean.
	dirty []uint64
	// count is the sum of the leaves' counts.
	count uint64
}

// leaf is one leaf's state: the number of entries and the sum of their
// digests modulo 2^128, as two 64-bit words.
type leaf struct {
	count  uint64
	hi, lo uint64
}

// add adds d to the sum modulo 2^128; the caller adjusts the count.
func (l *leaf) add(d Digest) {
	dh, dl := d.words()
	var c uint64
	l.lo, c = bits.Add64(l.lo, dl, 0)
	l.hi, _ = bits.Add64(l.hi, dh, c)
}

// sub subtracts d from the sum modulo 2^128; the caller adjusts the count.
func (l *leaf) sub(d Digest) {
	dh, dl := d.words()
	var b uint64
	l.lo, b = bits.Sub64(l.lo, dl, 0)
	l.hi, _ = bits.Sub64(l.hi, dh, b)
}

// New returns an empty tree over r with 2^cfg.Depth leaves (fewer when r
// holds fewer hashes; see Depth).
func New(cfg Config, r Range) (*Tree, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tree{lay: newLayout(r, cfg.Depth)}
	n := t.lay.leaves()
	t.leaves = make([]leaf, n)
	t.nodes = make([]Hash, 2*n)
	t.dirty = make([]uint64, (2*n+63)/64)
	t.fillEmpty()
	return t, nil
}

// fillEmpty sets every node to the hash of an empty subtree.
func (t *Tree) fillEmpty() {
	for n := 1; n < len(t.nodes); n++ {
		t.nodes[n] = emptyHash[t.lay.height(n)]
	}
}

// Range returns the hash range the tree covers.
func (t *Tree) Range() Range { return t.lay.rng }

// Depth returns the tree's depth: Config.Depth, or less for a range that
// holds fewer than 2^Config.Depth hashes (then floor(log2) of its width, so
// that no leaf is empty). Both replicas compute the same depth from the
// same Config and Range.
func (t *Tree) Depth() int { return int(t.lay.depth) }

// Leaves returns the number of leaves, 2^Depth.
func (t *Tree) Leaves() int { return t.lay.leaves() }

// Len returns the number of entries (additions minus removals).
func (t *Tree) Len() uint64 { return t.count }

// Leaf returns the leaf that holds hash h, and false if h is outside the
// range.
func (t *Tree) Leaf(h uint64) (int, bool) {
	if !t.lay.rng.Contains(h) {
		return 0, false
	}
	return t.lay.leafOf(h), true
}

// LeafRange returns the hash range of leaf i, in [0, Leaves()).
func (t *Tree) LeafRange(i int) Range {
	t.checkLeaf(i)
	return t.lay.span(i, 1)
}

// LeafLen returns the number of entries in leaf i.
func (t *Tree) LeafLen(i int) uint64 {
	t.checkLeaf(i)
	return t.leaves[i].count
}

func (t *Tree) checkLeaf(i int) {
	if i < 0 || i >= len(t.leaves) {
		panic(fmt.Sprintf("merkle: leaf %d out of [0, %d)", i, len(t.leaves)))
	}
}

// MemoryBytes returns the memory the tree holds: 24 bytes a leaf for its
// count and sum, 32 bytes a leaf for the node hashes (2^(depth+1) of 16
// bytes) and a dirty bit a node, about 56 bytes a leaf.
func (t *Tree) MemoryBytes() int {
	return len(t.leaves)*24 + len(t.nodes)*16 + len(t.dirty)*8
}

// Add adds the entry with key hash h and digest d. Adding an entry twice
// counts it twice (the sum does not cancel, unlike XOR), so a caller that
// re-applies a write must Update, not Add.
func (t *Tree) Add(h uint64, d Digest) error {
	i, ok := t.Leaf(h)
	if !ok {
		return fmt.Errorf("%w: %016x not in %v", ErrOutOfRange, h, t.lay.rng)
	}
	t.leaves[i].add(d)
	t.leaves[i].count++
	t.count++
	t.markDirty(i)
	return nil
}

// Remove removes the entry with key hash h and digest d, which must have
// been added. It returns ErrNotPresent, changing nothing, if h's leaf is
// empty, and ErrInconsistent (after removing) if it empties the leaf but the
// leaf's digests do not cancel out.
func (t *Tree) Remove(h uint64, d Digest) error {
	i, ok := t.Leaf(h)
	if !ok {
		return fmt.Errorf("%w: %016x not in %v", ErrOutOfRange, h, t.lay.rng)
	}
	l := &t.leaves[i]
	if l.count == 0 {
		return fmt.Errorf("%w: leaf %d of %v", ErrNotPresent, i, t.lay.rng)
	}
	l.sub(d)
	l.count--
	t.count--
	t.markDirty(i)
	if l.count == 0 && (l.lo != 0 || l.hi != 0) {
		return fmt.Errorf("%w: leaf %d of %v", ErrInconsistent, i, t.lay.rng)
	}
	return nil
}

// Update replaces the digest prev of the entry with key hash h by next: one
// write to an existing key. It returns ErrNotPresent, changing nothing, if
// h's leaf is empty. Update with prev == next changes nothing.
func (t *Tree) Update(h uint64, prev, next Digest) error {
	i, ok := t.Leaf(h)
	if !ok {
		return fmt.Errorf("%w: %016x not in %v", ErrOutOfRange, h, t.lay.rng)
	}
	if prev == next {
		return nil
	}
	l := &t.leaves[i]
	if l.count == 0 {
		return fmt.Errorf("%w: leaf %d of %v", ErrNotPresent, i, t.lay.rng)
	}
	l.sub(prev)
	l.add(next)
	t.markDirty(i)
	return nil
}

// Root returns the root hash, recomputing the dirty nodes first: after k
// updates to distinct leaves it hashes at most k*(depth+1) nodes, and far
// fewer when the updates share ancestors.
func (t *Tree) Root() Hash {
	t.flush()
	return t.nodes[1]
}

// Reset empties the tree, keeping its shape and memory (for a rebuild in
// place).
func (t *Tree) Reset() {
	clear(t.leaves)
	clear(t.dirty)
	t.count = 0
	t.fillEmpty()
}

// Clone returns an independent copy of t: a snapshot that an exchange can
// read while the original takes writes.
func (t *Tree) Clone() *Tree {
	c := *t
	c.leaves = append([]leaf(nil), t.leaves...)
	c.nodes = append([]Hash(nil), t.nodes...)
	c.dirty = append([]uint64(nil), t.dirty...)
	return &c
}

func (t *Tree) isDirty(n int) bool { return t.dirty[n>>6]&(1<<(n&63)) != 0 }

// markDirty marks leaf i and its ancestors dirty, up to the first ancestor
// already dirty: by the invariant, everything above it is dirty too.
func (t *Tree) markDirty(i int) {
	for n := t.lay.leaves() + i; n >= 1 && !t.isDirty(n); n >>= 1 {
		t.dirty[n>>6] |= 1 << (n & 63)
	}
}

// flush recomputes every dirty node.
func (t *Tree) flush() {
	if t.isDirty(1) {
		t.recompute(1)
	}
}

// recompute rehashes the dirty node n after its dirty descendants. The
// recursion is at most MaxDepth+1 deep.
func (t *Tree) recompute(n int) {
	t.dirty[n>>6] &^= 1 << (n & 63)
	if n >= t.lay.leaves() {
		t.nodes[n] = leafHash(&t.leaves[n-t.lay.leaves()])
		return
	}
	l, r := 2*n, 2*n+1
	if t.isDirty(l) {
		t.recompute(l)
	}
	if t.isDirty(r) {
		t.recompute(r)
	}
	t.nodes[n] = innerHash(&t.nodes[l], &t.nodes[r])
}

// rehashAll recomputes every node bottom-up, for a tree whose leaves were
// filled without marking (Builder).
func (t *Tree) rehashAll() {
	n := t.lay.leaves()
	for i := range t.leaves {
		t.nodes[n+i] = leafHash(&t.leaves[i])
	}
	for k := n - 1; k >= 1; k-- {
		t.nodes[k] = innerHash(&t.nodes[2*k], &t.nodes[2*k+1])
	}
	clear(t.dirty)
}

// node returns node n's hash; the tree must have been flushed.
func (t *Tree) node(n int) Hash { return t.nodes[n] }

// valid checks the invariants: counts add up, dirty nodes have dirty
// parents, and every clean node holds its true hash. It is for tests.
func (t *Tree) valid() error {
	var total uint64
	for _, l := range t.leaves {
		total += l.count
	}
	if total != t.count {
		return fmt.Errorf("count %d, leaves sum to %d", t.count, total)
	}
	n := t.lay.leaves()
	for k := 2; k < 2*n; k++ {
		if t.isDirty(k) && !t.isDirty(k/2) {
			return fmt.Errorf("node %d dirty under clean parent %d", k, k/2)
		}
	}
	for k := 1; k < 2*n; k++ {
		if t.isDirty(k) {
			continue
		}
		var want Hash
		if k >= n {
			want = leafHash(&t.leaves[k-n])
		} else {
			want = innerHash(&t.nodes[2*k], &t.nodes[2*k+1])
		}
		if t.nodes[k] != want {
			return fmt.Errorf("clean node %d holds a stale hash", k)
		}
	}
	return nil
}
