package crdt

import (
	"cmp"
	"slices"

	"github.com/cairndb/cairn/clock"
)

// This file holds the dot stores of the delta-CRDT paper and their causal
// join. A causal CRDT is a pair (store, context) in which every dot of the
// store is in the context. Joining (s, c) with (t, d) keeps
//
//	the dots in both stores, and
//	the dots in one store that the other side's context has not seen;
//
// a dot that one side has seen but no longer holds was removed there, so it
// stays removed. The context of the result is c ∪ d.
//
// Three stores appear: a dot set (sorted []clock.Dot), a dot function
// (sorted []dotEntry[V], a value per dot) and a dot map (map[string]V from a
// key to a nested store, without empty values).

// compareDots orders dots by replica, then counter.
func compareDots(a, b clock.Dot) int {
	if c := cmp.Compare(a.Replica, b.Replica); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}

// unionDots returns the sorted union of two sorted dot lists in new storage.
func unionDots(a, b []clock.Dot) []clock.Dot {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make([]clock.Dot, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareDots(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// joinDotSets returns the dot set of (a, ac) ⊔ (b, bc): a itself if that
// is all of it (as when replicas agree, or a delta is merged again), else
// new storage.
func joinDotSets(a []clock.Dot, ac *CausalContext, b []clock.Dot, bc *CausalContext) []clock.Dot {
	if !dotSetJoinChanges(a, ac, b, bc) {
		return a
	}
	var out []clock.Dot
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch c := dotOrder(a, i, b, j); {
		case c < 0:
			if !bc.Contains(a[i]) {
				out = append(out, a[i])
			}
			i++
		case c > 0:
			if !ac.Contains(b[j]) {
				out = append(out, b[j])
			}
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// dotSetJoinChanges reports whether (a, ac) ⊔ (b, bc) has another dot set
// than a.
func dotSetJoinChanges(a []clock.Dot, ac *CausalContext, b []clock.Dot, bc *CausalContext) bool {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch c := dotOrder(a, i, b, j); {
		case c < 0:
			if bc.Contains(a[i]) {
				return true
			}
			i++
		case c > 0:
			if !ac.Contains(b[j]) {
				return true
			}
			j++
		default:
			i++
			j++
		}
	}
	return false
}

// dotOrder compares a[i] with b[j] while merging two sorted lists, where an
// exhausted list sorts after everything.
func dotOrder(a []clock.Dot, i int, b []clock.Dot, j int) int {
	switch {
	case i == len(a):
		return 1
	case j == len(b):
		return -1
	}
	return compareDots(a[i], b[j])
}

// unseenDots returns the dots of a that c has not seen. If there are none
// to drop it returns a itself and false.
func unseenDots(a []clock.Dot, c *CausalContext) ([]clock.Dot, bool) {
	k := slices.IndexFunc(a, c.Contains)
	if k < 0 {
		return a, false
	}
	out := slices.Clone(a[:k])
	for _, d := range a[k+1:] {
		if !c.Contains(d) {
			out = append(out, d)
		}
	}
	return out, true
}

// dotEntry is one entry of a dot function: the value written by the event
// dot. A dot names one event, so two replicas holding the same dot hold the
// same value; joins still pick deterministically if they do not.
type dotEntry[V any] struct {
	dot clock.Dot
	val V
}

// entryOps are what a dot function needs to know about its values.
type entryOps[V any] struct {
	// pick chooses between two values under the same dot: it must be
	// commutative, associative and idempotent (a maximum).
	pick  func(x, y V) V
	clone func(V) V
	equal func(x, y V) bool
}

// joinDotFuns returns the dot function of (a, ac) ⊔ (b, bc): a itself if
// that is all of it, else new storage.
func joinDotFuns[V any](a []dotEntry[V], ac *CausalContext, b []dotEntry[V], bc *CausalContext, ops entryOps[V]) []dotEntry[V] {
	if !dotFunJoinChanges(a, ac, b, bc, ops) {
		return a
	}
	var out []dotEntry[V]
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch c := entryOrder(a, i, b, j); {
		case c < 0:
			if !bc.Contains(a[i].dot) {
				out = append(out, dotEntry[V]{a[i].dot, ops.clone(a[i].val)})
			}
			i++
		case c > 0:
			if !ac.Contains(b[j].dot) {
				out = append(out, dotEntry[V]{b[j].dot, ops.clone(b[j].val)})
			}
			j++
		default:
			out = append(out, dotEntry[V]{a[i].dot, ops.clone(ops.pick(a[i].val, b[j].val))})
			i++
			j++
		}
	}
	return out
}

// dotFunJoinChanges reports whether (a, ac) ⊔ (b, bc) has other entries
// than a.
func dotFunJoinChanges[V any](a []dotEntry[V], ac *CausalContext, b []dotEntry[V], bc *CausalContext, ops entryOps[V]) bool {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch c := entryOrder(a, i, b, j); {
		case c < 0:
			if bc.Contains(a[i].dot) {
				return true
			}
			i++
		case c > 0:
			if !ac.Contains(b[j].dot) {
				return true
			}
			j++
		default:
			if !ops.equal(ops.pick(a[i].val, b[j].val), a[i].val) {
				return true
			}
			i++
			j++
		}
	}
	return false
}

// entryOrder is dotOrder for dot functions.
func entryOrder[V any](a []dotEntry[V], i int, b []dotEntry[V], j int) int {
	switch {
	case i == len(a):
		return 1
	case j == len(b):
		return -1
	}
	return compareDots(a[i].dot, b[j].dot)
}

// unseenEntries returns the entries of a whose dots c has not seen. If
// there are none to drop it returns a itself and false.
func unseenEntries[V any](a []dotEntry[V], c *CausalContext) ([]dotEntry[V], bool) {
	k := slices.IndexFunc(a, func(e dotEntry[V]) bool { return c.Contains(e.dot) })
	if k < 0 {
		return a, false
	}
	out := slices.Clone(a[:k])
	for _, e := range a[k+1:] {
		if !c.Contains(e.dot) {
			out = append(out, e)
		}
	}
	return out, true
}

func cloneEntries[V any](a []dotEntry[V], clone func(V) V) []dotEntry[V] {
	if len(a) == 0 {
		return nil
	}
	out := make([]dotEntry[V], len(a))
	for i, e := range a {
		out[i] = dotEntry[V]{e.dot, clone(e.val)}
	}
	return out
}

func equalEntries[V any](a, b []dotEntry[V], equal func(x, y V) bool) bool {
	return slices.EqualFunc(a, b, func(x, y dotEntry[V]) bool { return x.dot == y.dot && equal(x.val, y.val) })
}

func appendEntryDots[V any](dst []clock.Dot, a []dotEntry[V]) []clock.Dot {
	for _, e := range a {
		dst = append(dst, e.dot)
	}
	return dst
}

// decodeEntries reads count entries of a dot function, each a dot followed
// by a value that val reads; dots must be strictly sorted.
func decodeEntries[V any](d *decoder, minSize int, val func(*decoder) V) []dotEntry[V] {
	n := d.count(minSize)
	if n == 0 {
		return nil
	}
	out := make([]dotEntry[V], 0, n)
	var prev clock.Dot
	for i := range n {
		prev = d.dot(prev, i == 0)
		v := val(d)
		if d.err != nil {
			return nil
		}
		out = append(out, dotEntry[V]{prev, v})
	}
	return out
}

// mapOps are what a dot map needs to know about its nested stores.
type mapOps[V any] struct {
	// join returns the nested store of (x, xc) ⊔ (y, yc). It may reuse x's
	// storage, which the map owns, but copies what it takes from y.
	join func(x V, xc *CausalContext, y V, yc *CausalContext) V
	// unseen returns the part of x that c has not seen, and whether that
	// is less than x. It must not change x, and may share x's storage.
	unseen func(x V, c *CausalContext) (V, bool)
	clone  func(V) V
	empty  func(V) bool
}

// joinDotMaps sets a to the dot map of (a, ac) ⊔ (b, bc) and returns it. It
// works in place on a, which the caller must own, and copies what it takes
// from b. a and b may be the same map. If order is not nil, it is a's
// order, and it follows the keys joinDotMaps adds, drops and changes.
func joinDotMaps[V any](a map[string]V, ac *CausalContext, b map[string]V, bc *CausalContext, ops mapOps[V], order *keyOrder[V]) map[string]V {
	var added, removed, changedKeys []string
	for k, x := range a {
		v, changed := x, true
		if y, ok := b[k]; ok {
			v = ops.join(x, ac, y, bc)
		} else {
			v, changed = ops.unseen(x, bc)
		}
		switch {
		case ops.empty(v):
			delete(a, k)
			if order != nil {
				removed = append(removed, k)
			}
		case changed:
			a[k] = v
			if order != nil {
				changedKeys = append(changedKeys, k)
			}
		}
	}
	for k, y := range b {
		if _, ok := a[k]; ok {
			continue
		}
		// A key dropped above, because its join was empty, lands here too;
		// y minus what ac has seen is part of that join, so it is empty and
		// the key stays out.
		y, _ = ops.unseen(y, ac)
		if !ops.empty(y) {
			y = ops.clone(y) // unseen may share b's storage
			if a == nil {
				a = make(map[string]V)
			}
			a[k] = y
			if order != nil {
				added = append(added, k)
			}
		}
	}
	if order != nil {
		order.apply(a, added, removed, changedKeys)
	}
	return a
}

// joinDotKey is joinDotMaps for a b that holds no key but k and a bc that
// holds no dot of a's other keys: the delta of this replica's own mutator
// of k, whose context holds k's dots and fresh ones only. Since a dot
// belongs to one key, no other key of a can change, and joinDotKey touches
// k alone instead of every key of a.
func joinDotKey[V any](a map[string]V, ac *CausalContext, k string, b map[string]V, bc *CausalContext, ops mapOps[V], order *keyOrder[V]) map[string]V {
	x, inA := a[k]
	y, inB := b[k]
	var v V
	switch {
	case inA && inB:
		v = ops.join(x, ac, y, bc)
	case inA:
		v, _ = ops.unseen(x, bc)
	case inB:
		if v, _ = ops.unseen(y, ac); !ops.empty(v) {
			v = ops.clone(v) // unseen may share b's storage
		}
	default:
		return a
	}
	if ops.empty(v) {
		if inA {
			delete(a, k)
			order.remove(k)
		}
		return a
	}
	if a == nil {
		a = make(map[string]V)
	}
	a[k] = v
	if inA {
		order.set(k, v)
	} else {
		order.insert(k, v)
	}
	return a
}
