package crdt

import (
	"maps"
	"slices"
)

// orderMinKeys is the size from which a top-level ORSet or ORMap keeps its
// keys sorted beside its map. Below it a sort per encoding is cheap; above
// it the sort was most of the cost of a write to a big set (a 6,000-member
// set spent a quarter of a node's CPU sorting members to encode them).
const orderMinKeys = 64

// smallChange is the number of added or removed keys up to which keyOrder
// updates its slice key by key (a binary search and a move each); past it,
// one merge pass over the whole slice is cheaper.
const smallChange = 16

// keyOrder is the sorted keys of a dot map, kept in step with the map by the
// Merge of the ORSet or ORMap that owns both, so that encoding and listing
// need no sort. Only a top-level state keeps one: a nested store is changed
// through joinStore, which returns a store without one. Like the map, it is
// shared by assignment and copied by Clone.
type keyOrder struct {
	keys []string
}

// newKeyOrder returns the order of m's keys, or nil if m is too small to
// need one.
func newKeyOrder[V any](m map[string]V) *keyOrder {
	if len(m) < orderMinKeys {
		return nil
	}
	return &keyOrder{keys: slices.Sorted(maps.Keys(m))}
}

// sortedKeys returns m's keys in order: o's slice, which the caller must
// not modify, when o is in step with m, else a new sorted slice.
func sortedKeys[V any](m map[string]V, o *keyOrder) []string {
	// A length mismatch would mean a change that bypassed Merge: never
	// trust the order then.
	if o != nil && len(o.keys) == len(m) {
		return o.keys
	}
	return slices.Sorted(maps.Keys(m))
}

// clone returns a copy of o that shares no storage with it.
func (o *keyOrder) clone() *keyOrder {
	if o == nil {
		return nil
	}
	return &keyOrder{keys: slices.Clone(o.keys)}
}

// apply removes the keys in removed and inserts those in added (neither
// holds a key twice, and no key is in both).
func (o *keyOrder) apply(added, removed []string) {
	switch {
	case len(removed) == 0:
	case len(removed) <= smallChange:
		for _, k := range removed {
			o.remove(k)
		}
	default:
		gone := make(map[string]struct{}, len(removed))
		for _, k := range removed {
			gone[k] = struct{}{}
		}
		o.keys = slices.DeleteFunc(o.keys, func(k string) bool {
			_, ok := gone[k]
			return ok
		})
	}
	switch {
	case len(added) == 0:
	case len(added) <= smallChange:
		for _, k := range added {
			o.insert(k)
		}
	default:
		slices.Sort(added)
		o.keys = mergeSorted(o.keys, added)
	}
}

// insert adds k to o, a nil o included (a no-op then).
func (o *keyOrder) insert(k string) {
	if o == nil {
		return
	}
	if i, ok := slices.BinarySearch(o.keys, k); !ok {
		o.keys = slices.Insert(o.keys, i, k)
	}
}

// remove drops k from o, a nil o included (a no-op then).
func (o *keyOrder) remove(k string) {
	if o == nil {
		return
	}
	if i, ok := slices.BinarySearch(o.keys, k); ok {
		o.keys = slices.Delete(o.keys, i, i+1)
	}
}

// mergeSorted returns the sorted union of two sorted slices in new storage.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
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
