package merkle

import "fmt"

// Builder builds a tree from a full scan of a range's entries, in any
// order: at startup, or to replace a tree suspected wrong (ErrInconsistent,
// or a leaf that keeps differing although streaming it finds nothing to
// repair). It skips the dirty marking of Add and hashes every node once at
// the end, bottom-up: 2^(depth+1) hashes however many entries.
type Builder struct {
	t *Tree
}

// NewBuilder returns a Builder for a tree over r.
func NewBuilder(cfg Config, r Range) (*Builder, error) {
	t, err := New(cfg, r)
	if err != nil {
		return nil, err
	}
	return &Builder{t: t}, nil
}

// Add adds one entry, as Tree.Add does. It returns ErrOutOfRange for a
// hash outside the range; the entry is not added and the build may go on.
func (b *Builder) Add(h uint64, d Digest) error {
	if b.t == nil {
		panic("merkle: Builder.Add after Tree")
	}
	t := b.t
	if !t.lay.rng.Contains(h) {
		return fmt.Errorf("%w: %016x not in %v", ErrOutOfRange, h, t.lay.rng)
	}
	l := &t.leaves[t.lay.leafOf(h)]
	l.add(d)
	l.count++
	t.count++
	return nil
}

// Tree hashes every node and returns the tree. The Builder cannot be used
// afterwards.
func (b *Builder) Tree() *Tree {
	t := b.t
	if t == nil {
		panic("merkle: Builder.Tree called twice")
	}
	b.t = nil
	t.rehashAll()
	return t
}
