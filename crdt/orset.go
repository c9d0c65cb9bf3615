package crdt

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/cairndb/cairn/clock"
)

// ORSet is an add-wins observed-remove set of byte strings: the optimized
// OR-Set of Bieniusa et al. (2012) in the delta-state form of Almeida et al.
// (the add-wins set, AWSet, of "Delta State Replicated Data Types").
//
// Each add of an element is an event with its own dot; the set holds, for
// every present element, the dots of the adds that no remove has seen, and a
// causal context of every dot it has seen. A remove drops the element's dots
// and keeps them in the context, so that a merge with a replica that still
// holds them cannot bring the element back (no tombstones per element, and
// no resurrection). An add concurrent with a remove has a dot the remove
// never saw, so it survives: add wins.
//
// Elements are Go strings, which are immutable: any []byte converts. The
// zero value is the empty set.
type ORSet struct {
	elems map[string][]clock.Dot // element → its add dots, sorted, never empty; every dot is in ctx
	ctx   CausalContext
	order *keyOrder[[]clock.Dot] // elems sorted, for a big top-level set; nil otherwise
}

var dotSetOps = mapOps[[]clock.Dot]{
	join:   joinDotSets,
	unseen: unseenDots,
	clone:  slices.Clone[[]clock.Dot],
	empty:  func(dots []clock.Dot) bool { return len(dots) == 0 },
}

// Add adds elem on replica r, which must be the local replica, and returns
// the delta: the new add's dot, with a context that also holds the dots of
// the element's earlier adds, which the new one replaces. It returns
// ErrTooLarge if elem is larger than MaxValueSize.
func (s *ORSet) Add(r clock.ReplicaID, elem string) (ORSet, error) {
	if len(elem) > MaxValueSize {
		return ORSet{}, ErrTooLarge
	}
	d := s.ctx.NextDot(r)
	delta := ORSet{
		elems: map[string][]clock.Dot{elem: {d}},
		ctx:   contextOf(append([]clock.Dot{d}, s.elems[elem]...)),
	}
	s.mergeOwn(elem, delta)
	return delta, nil
}

// Remove removes elem and returns the delta: no element, and a context
// holding the dots of the adds of elem that this replica has seen. Adds it
// has not seen, concurrent ones, survive the remove everywhere. Removing an
// absent element returns the zero delta.
func (s *ORSet) Remove(elem string) ORSet {
	dots, ok := s.elems[elem]
	if !ok {
		return ORSet{}
	}
	delta := ORSet{ctx: contextOf(dots)}
	s.mergeOwn(elem, delta)
	return delta
}

// Clear removes every element this replica has seen and returns the delta.
func (s *ORSet) Clear() ORSet {
	delta := ORSet{ctx: contextOf(s.appendStoreDots(nil))}
	s.Merge(delta)
	return delta
}

// Contains reports whether elem is in the set.
func (s ORSet) Contains(elem string) bool {
	_, ok := s.elems[elem]
	return ok
}

// Elements returns the elements, sorted.
func (s ORSet) Elements() []string { return s.order.sortedKeys(s.elems) }

// Len returns the number of elements.
func (s ORSet) Len() int { return len(s.elems) }

// Context returns a copy of the set's causal context.
func (s ORSet) Context() CausalContext { return s.ctx.Clone() }

// Merge joins o into s: an add survives unless the other side has seen it
// and no longer holds it.
func (s *ORSet) Merge(o ORSet) {
	s.elems = joinDotMaps(s.elems, &s.ctx, o.elems, &o.ctx, dotSetOps, s.order)
	s.ctx.Merge(o.ctx)
	s.order = s.order.orNew(s.elems)
}

// mergeOwn merges the delta of this replica's own Add or Remove of elem:
// Merge, touching elem alone (see joinDotKey), so that an add to a big set
// does not visit every element.
func (s *ORSet) mergeOwn(elem string, delta ORSet) {
	s.elems = joinDotKey(s.elems, &s.ctx, elem, delta.elems, &delta.ctx, dotSetOps, s.order)
	s.ctx.Merge(delta.ctx)
	s.order = s.order.orNew(s.elems)
}

// Clone returns a copy that shares no storage with s.
func (s ORSet) Clone() ORSet {
	if s.order == nil {
		return s.cloneStore().withContext(s.ctx.Clone())
	}
	elems, order := cloneOrdered(s.elems, s.order, slices.Clone[[]clock.Dot])
	return ORSet{elems: elems, ctx: s.ctx.Clone(), order: order}
}

// Equal reports whether s and o are the same state: the same elements with
// the same add dots, and the same context.
func (s ORSet) Equal(o ORSet) bool { return s.equalStore(o) && s.ctx.Equal(o.ctx) }

// IsZero reports whether s has no element and has seen no add.
func (s ORSet) IsZero() bool { return s.storeEmpty() && s.ctx.IsZero() }

// AppendBinary appends the encoding of s: header, context, then the
// elements in sorted order, each with its dots.
func (s ORSet) AppendBinary(b []byte) []byte {
	b = s.ctx.appendBody(appendHeader(b, KindORSet))
	return s.appendStore(b)
}

// DecodeORSet decodes an encoding written by ORSet.AppendBinary.
func DecodeORSet(b []byte) (ORSet, error) { return decodeCausal[ORSet](b) }

// The methods below make ORSet Embeddable.

func (ORSet) kind() Kind { return KindORSet }

// split, joinStore, unseenStore and cloneStore return stores without a key
// order: they serve a set nested in an ORMap, which keeps none.
func (s ORSet) split() (ORSet, CausalContext) { return ORSet{elems: s.elems}, s.ctx }

func (s ORSet) withContext(c CausalContext) ORSet {
	s.ctx = c
	return s
}

// joinStore reuses s's map, which the caller must own.
func (s ORSet) joinStore(c *CausalContext, o ORSet, oc *CausalContext) ORSet {
	return ORSet{elems: joinDotMaps(s.elems, c, o.elems, oc, dotSetOps, nil)}
}

func (s ORSet) unseenStore(c *CausalContext) (ORSet, bool) {
	var out map[string][]clock.Dot
	for e, dots := range s.elems {
		kept, changed := unseenDots(dots, c)
		if !changed {
			continue
		}
		if out == nil {
			out = maps.Clone(s.elems)
		}
		if len(kept) == 0 {
			delete(out, e)
		} else {
			out[e] = kept
		}
	}
	if out == nil {
		return ORSet{elems: s.elems}, false
	}
	return ORSet{elems: out}, true
}

func (s ORSet) cloneStore() ORSet {
	if len(s.elems) == 0 {
		return ORSet{}
	}
	out := make(map[string][]clock.Dot, len(s.elems))
	for e, dots := range s.elems {
		out[e] = slices.Clone(dots)
	}
	return ORSet{elems: out}
}

func (s ORSet) storeEmpty() bool { return len(s.elems) == 0 }

func (s ORSet) equalStore(o ORSet) bool {
	return maps.EqualFunc(s.elems, o.elems, slices.Equal[[]clock.Dot])
}

func (s ORSet) appendStoreDots(dst []clock.Dot) []clock.Dot {
	for _, dots := range s.elems {
		dst = append(dst, dots...)
	}
	return dst
}

// minORSetEntrySize is an empty element with one dot.
const minORSetEntrySize = 1 + 1 + minDotSize

func (s ORSet) appendStore(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s.elems)))
	for e, dots := range s.order.all(s.elems) {
		b = appendString(b, e)
		b = appendDotList(b, dots)
	}
	return b
}

func (ORSet) decodeStore(d *decoder) ORSet {
	n := d.count(minORSetEntrySize)
	if n == 0 {
		return ORSet{}
	}
	elems := make(map[string][]clock.Dot, n)
	order := decodeOrder[[]clock.Dot](n) // filled as the sorted encoding is read
	var prev string
	for i := range n {
		e := d.string()
		dots := d.dotList()
		switch {
		case d.err != nil:
			return ORSet{}
		case i > 0 && e <= prev:
			d.invalid("set elements out of order")
			return ORSet{}
		case len(dots) == 0:
			d.invalid("set element without dots")
			return ORSet{}
		}
		elems[e] = dots
		order.push(e, dots)
		prev = e
	}
	return ORSet{elems: elems, order: order}
}
