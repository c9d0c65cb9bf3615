package merkle

import (
	"encoding/binary"
	"slices"

	"pgregory.net/rapid"
)

// drawRange draws a range of every sort: the whole space, an ordinary arc,
// an arc that wraps past 2^64-1, and a tiny one (narrower than many
// depths), so that the leaf arithmetic meets its edge cases.
func drawRange(t *rapid.T) Range {
	start := rapid.Uint64().Draw(t, "start")
	switch rapid.IntRange(0, 3).Draw(t, "rangeKind") {
	case 0:
		return Range{Start: start, End: start}
	case 1:
		return Range{Start: start, End: start + rapid.Uint64Range(1, 1<<62).Draw(t, "width")}
	case 2: // wraps: ends just past zero
		start = ^uint64(0) - rapid.Uint64Range(0, 1<<40).Draw(t, "beforeWrap")
		return Range{Start: start, End: rapid.Uint64Range(0, 1<<40).Draw(t, "afterWrap")}
	default:
		return Range{Start: start, End: start + rapid.Uint64Range(1, 5000).Draw(t, "tinyWidth")}
	}
}

// width returns the number of hashes in r, saturated at 2^64-1 for the
// whole space.
func width(r Range) uint64 {
	if r.Full() {
		return ^uint64(0)
	}
	return r.End - r.Start
}

// hashIn maps any u to a hash inside r.
func hashIn(r Range, u uint64) uint64 {
	if r.Full() {
		return u
	}
	return r.Start + 1 + u%(r.End-r.Start)
}

// drawHashIn draws a hash in r, often at its ends.
func drawHashIn(t *rapid.T, r Range, label string) uint64 {
	switch rapid.IntRange(0, 5).Draw(t, label+"Kind") {
	case 0:
		return r.Start + 1
	case 1:
		return r.End
	}
	return hashIn(r, rapid.Uint64().Draw(t, label))
}

// digestOf is a test digest: distinct for distinct (key, version).
func digestOf(key uint64, version uint32) Digest {
	var k [8]byte
	var v [4]byte
	binary.BigEndian.PutUint64(k[:], key)
	binary.BigEndian.PutUint32(v[:], version)
	return EntryDigest(k[:], v[:])
}

// entry is one key of a model replica.
type entry struct {
	h uint64
	d Digest
}

// fataler is what testing.TB and *rapid.T share.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// model is a replica's contents: key id -> entry.
type model map[uint64]entry

// build builds a tree from the model with a Builder, in the model's (random)
// map order.
func (m model) build(tb fataler, cfg Config, r Range) *Tree {
	b, err := NewBuilder(cfg, r)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range m {
		if err := b.Add(e.h, e.d); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Tree()
}

// refDiff is the specification of Diff computed from contents, not hashes:
// a node is reported when its entries differ and it is a leaf or one side
// holds nothing under it; otherwise its children are examined.
func refDiff(t *Tree, a, b model) []Range {
	type side struct{ a, b []entry }
	leaves := make([]side, t.Leaves())
	for _, e := range a {
		i, _ := t.Leaf(e.h)
		leaves[i].a = append(leaves[i].a, e)
	}
	for _, e := range b {
		i, _ := t.Leaf(e.h)
		leaves[i].b = append(leaves[i].b, e)
	}
	cmp := func(x, y entry) int {
		if c := compareU64(x.h, y.h); c != 0 {
			return c
		}
		return slices.Compare(x.d[:], y.d[:])
	}
	for i := range leaves {
		slices.SortFunc(leaves[i].a, cmp)
		slices.SortFunc(leaves[i].b, cmp)
	}
	var out []Range
	var walk func(n int)
	walk = func(n int) {
		first, count := t.lay.nodeSpan(n)
		equal, emptyA, emptyB := true, true, true
		for _, l := range leaves[first : first+count] {
			equal = equal && slices.Equal(l.a, l.b)
			emptyA = emptyA && len(l.a) == 0
			emptyB = emptyB && len(l.b) == 0
		}
		switch {
		case equal:
		case count == 1 || emptyA || emptyB:
			out = append(out, t.lay.nodeRange(n))
		default:
			walk(2 * n)
			walk(2*n + 1)
		}
	}
	walk(1)
	return out
}

func compareU64(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// differing returns the key hashes whose entries differ between a and b.
func differing(a, b model) []uint64 {
	var out []uint64
	for k, e := range a {
		if f, ok := b[k]; !ok || f != e {
			out = append(out, e.h)
		}
	}
	for k, e := range b {
		if _, ok := a[k]; !ok {
			out = append(out, e.h)
		}
	}
	return out
}

// drawReplicas draws two replicas of range r: a common base, then keys only
// in a, only in b, and keys with different versions.
func drawReplicas(t *rapid.T, r Range, maxKeys int) (a, b model) {
	a, b = model{}, model{}
	n := rapid.IntRange(0, maxKeys).Draw(t, "keys")
	for k := uint64(0); k < uint64(n); k++ {
		h := hashIn(r, rapid.Uint64().Draw(t, "h"))
		e := entry{h: h, d: digestOf(k, 0)}
		a[k], b[k] = e, e
	}
	diffs := rapid.IntRange(0, 60).Draw(t, "diffs")
	for i := 0; i < diffs; i++ {
		k := uint64(n + i)
		switch rapid.IntRange(0, 2).Draw(t, "diffKind") {
		case 0:
			a[k] = entry{h: drawHashIn(t, r, "onlyA"), d: digestOf(k, 0)}
		case 1:
			b[k] = entry{h: drawHashIn(t, r, "onlyB"), d: digestOf(k, 0)}
		default:
			if n == 0 {
				continue
			}
			base := uint64(rapid.IntRange(0, n-1).Draw(t, "changed"))
			e := b[base]
			e.d = digestOf(base, uint32(i+1))
			b[base] = e
		}
	}
	return a, b
}

// covered reports whether h lies in one of rs.
func covered(rs []Range, h uint64) bool {
	for _, r := range rs {
		if r.Contains(h) {
			return true
		}
	}
	return false
}

// checkSortedDisjoint fails unless rs are in ring order within tr and do not
// overlap.
func checkSortedDisjoint(tb fataler, tr Range, rs []Range) {
	tb.Helper()
	off := func(h uint64) uint64 { return h - tr.Start - 1 }
	for i := 1; i < len(rs); i++ {
		// A range's last hash is End; the next range starts after its Start.
		if off(rs[i].Start+1) <= off(rs[i-1].End) {
			tb.Fatalf("ranges %d and %d overlap or are out of order: %v %v", i-1, i, rs[i-1], rs[i])
		}
	}
}
