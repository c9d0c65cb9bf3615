package crdt

import (
	"iter"
	"maps"
	"slices"
)

// orderMinKeys is the size from which a top-level ORSet or ORMap keeps its
// entries sorted beside its map. Below it a sort per encoding is cheap;
// above it the sort was most of the cost of a write to a big set (a
// 6,000-member set spent a quarter of a node's CPU sorting members to
// encode them).
const orderMinKeys = 64

// smallChange is the number of added, removed or changed keys up to which
// keyOrder updates its slices key by key (a binary search, and a move for
// an added or removed key); past it, one pass over the whole order is
// cheaper.
const smallChange = 16

// keyOrder is the entries of a dot map sorted by key, kept in step with the
// map by the Merge of the ORSet or ORMap that owns both, so that encoding
// and listing need neither a sort nor a map lookup per key (in a set of
// thousands of members the lookups, each a few cache misses, were half of
// the encoding). Only a top-level state keeps one: a nested store is
// changed through joinStore, which returns a store without one. Like the
// map, it is shared by assignment and copied by Clone.
type keyOrder[V any] struct {
	keys []string
	vals []V // vals[i] is the map's value of keys[i], sharing its storage
}

// newKeyOrder returns the order of m's entries, or nil if m is too small
// to need one.
func newKeyOrder[V any](m map[string]V) *keyOrder[V] {
	if len(m) < orderMinKeys {
		return nil
	}
	o := &keyOrder[V]{keys: slices.Sorted(maps.Keys(m))}
	o.refresh(m)
	return o
}

// orNew returns o, or a new order of m if o is nil (nil still if m is
// too small to need one): what a Merge leaves its state with.
func (o *keyOrder[V]) orNew(m map[string]V) *keyOrder[V] {
	if o != nil {
		return o
	}
	return newKeyOrder(m)
}

// inStep reports whether o can be trusted for m. A length mismatch would
// mean a change that bypassed Merge: the order is never used then.
func (o *keyOrder[V]) inStep(m map[string]V) bool { return o != nil && len(o.keys) == len(m) }

// all yields m's entries in key order: from o's slices when o is in step
// with m, else by sorting m's keys and looking each up.
func (o *keyOrder[V]) all(m map[string]V) iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		if o.inStep(m) {
			for i, k := range o.keys {
				if !yield(k, o.vals[i]) {
					return
				}
			}
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// sortedKeys returns m's keys in order, in new storage.
func (o *keyOrder[V]) sortedKeys(m map[string]V) []string {
	if o.inStep(m) {
		return slices.Clone(o.keys)
	}
	return slices.Sorted(maps.Keys(m))
}

// decodeOrder returns an empty order with room for n entries, to be filled
// by push as a sorted encoding of n keys is read, or nil if n keys are too
// few to need one.
func decodeOrder[V any](n int) *keyOrder[V] {
	if n < orderMinKeys {
		return nil
	}
	return &keyOrder[V]{keys: make([]string, 0, n), vals: make([]V, 0, n)}
}

// push appends k and v, which sort after every key in o, to o, a nil o
// included (a no-op then).
func (o *keyOrder[V]) push(k string, v V) {
	if o != nil {
		o.keys, o.vals = append(o.keys, k), append(o.vals, v)
	}
}

// cloneOrdered returns a copy of m and of its order o that share no storage
// with them; the new map and order share the values clone makes.
func cloneOrdered[V any](m map[string]V, o *keyOrder[V], clone func(V) V) (map[string]V, *keyOrder[V]) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]V, len(m))
	if !o.inStep(m) {
		for k, v := range m {
			out[k] = clone(v)
		}
		return out, newKeyOrder(out)
	}
	c := &keyOrder[V]{keys: slices.Clone(o.keys), vals: make([]V, len(o.vals))}
	for i, k := range c.keys {
		c.vals[i] = clone(o.vals[i])
		out[k] = c.vals[i]
	}
	return out, c
}

// refresh sets every value from m.
func (o *keyOrder[V]) refresh(m map[string]V) {
	if cap(o.vals) < len(o.keys) {
		o.vals = make([]V, len(o.keys))
	}
	o.vals = o.vals[:len(o.keys)]
	for i, k := range o.keys {
		o.vals[i] = m[k]
	}
}

// apply brings o in step with m after the keys in removed left it, those in
// added joined it and those in changed took new values (no key is in two
// of the lists, nor twice in one).
func (o *keyOrder[V]) apply(m map[string]V, added, removed, changed []string) {
	if len(added) > smallChange || len(removed) > smallChange || len(changed) > smallChange {
		o.keys = mergeKeys(o.keys, added, removed)
		o.refresh(m)
		return
	}
	for _, k := range removed {
		o.remove(k)
	}
	for _, k := range added {
		o.insert(k, m[k])
	}
	for _, k := range changed {
		o.set(k, m[k])
	}
}

// insert adds k with value v to o, a nil o included (a no-op then).
func (o *keyOrder[V]) insert(k string, v V) {
	if o == nil {
		return
	}
	if i, ok := slices.BinarySearch(o.keys, k); !ok {
		o.keys = slices.Insert(o.keys, i, k)
		o.vals = slices.Insert(o.vals, i, v)
	}
}

// remove drops k from o, a nil o included (a no-op then).
func (o *keyOrder[V]) remove(k string) {
	if o == nil {
		return
	}
	if i, ok := slices.BinarySearch(o.keys, k); ok {
		o.keys = slices.Delete(o.keys, i, i+1)
		o.vals = slices.Delete(o.vals, i, i+1)
	}
}

// set gives k the value v in o, a nil o included (a no-op then).
func (o *keyOrder[V]) set(k string, v V) {
	if o == nil {
		return
	}
	if i, ok := slices.BinarySearch(o.keys, k); ok {
		o.vals[i] = v
	}
}

// mergeKeys returns the sorted keys minus removed plus added, in new
// storage; added is sorted in place.
func mergeKeys(keys, added, removed []string) []string {
	gone := make(map[string]struct{}, len(removed))
	for _, k := range removed {
		gone[k] = struct{}{}
	}
	slices.Sort(added)
	out := make([]string, 0, len(keys)+len(added)-len(removed))
	i, j := 0, 0
	for i < len(keys) || j < len(added) {
		var k string
		switch {
		case j == len(added) || (i < len(keys) && keys[i] < added[j]):
			k = keys[i]
			i++
		case i == len(keys) || added[j] < keys[i]:
			k = added[j]
			j++
		default: // in both: keep one
			k = keys[i]
			i++
			j++
		}
		if _, ok := gone[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}
