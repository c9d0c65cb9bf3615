package crdt

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/clock"
)

// TestKeyOrderFollowsEveryChange runs big sets and maps on three replicas
// through random adds, removes, clears, delta and whole-state merges,
// clones and decodes, and checks after every step that a kept key order is
// exactly the map's sorted keys and that the encoding is the one a fresh
// sort gives. The element domain is large enough that the states pass
// orderMinKeys and that merges add and drop more than smallChange keys.
func TestKeyOrderFollowsEveryChange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const replicas = 3
		sets := make([]ORSet, replicas)
		hashes := make([]ORMap[MVRegister], replicas)
		var deltas []ORSet
		var hashDeltas []ORMap[MVRegister]
		elem := rapid.Map(rapid.IntRange(0, 400), func(i int) string { return fmt.Sprintf("e%03d", i) })
		var ts int64
		for step := range rapid.IntRange(1, 120).Draw(t, "steps") {
			r := rapid.IntRange(0, replicas-1).Draw(t, "replica")
			id := clock.ReplicaID(r + 1)
			switch rapid.IntRange(0, 7).Draw(t, "op") {
			case 0, 1: // a burst of adds
				for range rapid.IntRange(1, 40).Draw(t, "adds") {
					e := elem.Draw(t, "elem")
					ref, hashRef := sets[r].Clone(), hashes[r].Clone()
					d, err := sets[r].Add(id, e)
					if err != nil {
						t.Fatal(err)
					}
					deltas = append(deltas, d)
					ts++
					hd, err := hashes[r].Apply(e, func(v *MVRegister) (MVRegister, error) {
						return v.Write(id, clock.Timestamp{WallTime: ts}, []byte(e))
					})
					if err != nil {
						t.Fatal(err)
					}
					hashDeltas = append(hashDeltas, hd)
					checkOwnMerge(t, ref, hashRef, d, hd, sets[r], hashes[r])
				}
			case 2: // a burst of removes
				for range rapid.IntRange(1, 40).Draw(t, "removes") {
					e := elem.Draw(t, "elem")
					ref, hashRef := sets[r].Clone(), hashes[r].Clone()
					deltas = append(deltas, sets[r].Remove(e))
					hashDeltas = append(hashDeltas, hashes[r].Remove(e))
					checkOwnMerge(t, ref, hashRef, deltas[len(deltas)-1], hashDeltas[len(hashDeltas)-1], sets[r], hashes[r])
				}
			case 3:
				if rapid.IntRange(0, 4).Draw(t, "clear") == 0 {
					deltas = append(deltas, sets[r].Clear())
					hashDeltas = append(hashDeltas, hashes[r].Clear())
				}
			case 4: // whole state from another replica
				from := rapid.IntRange(0, replicas-1).Draw(t, "from")
				sets[r].Merge(sets[from])
				hashes[r].Merge(hashes[from])
			case 5: // some shipped deltas, in any order
				for range rapid.IntRange(1, 10).Draw(t, "deltas") {
					if len(deltas) > 0 {
						sets[r].Merge(deltas[rapid.IntRange(0, len(deltas)-1).Draw(t, "delta")])
						hashes[r].Merge(hashDeltas[rapid.IntRange(0, len(hashDeltas)-1).Draw(t, "hashDelta")])
					}
				}
			case 6: // restart from the stored encoding
				s, err := DecodeORSet(sets[r].AppendBinary(nil))
				if err != nil {
					t.Fatal(err)
				}
				h, err := DecodeORMap[MVRegister](hashes[r].AppendBinary(nil))
				if err != nil {
					t.Fatal(err)
				}
				sets[r], hashes[r] = s, h
			case 7: // a copy that goes on alone
				sets[r], hashes[r] = sets[r].Clone(), hashes[r].Clone()
			}
			for i := range replicas {
				checkOrder(t, fmt.Sprintf("step %d set %d", step, i), sets[i].elems, sets[i].order,
					sets[i].AppendBinary(nil), ORSet{elems: sets[i].elems, ctx: sets[i].ctx}.AppendBinary(nil))
				checkOrder(t, fmt.Sprintf("step %d hash %d", step, i), hashes[i].fields, hashes[i].order,
					hashes[i].AppendBinary(nil), ORMap[MVRegister]{fields: hashes[i].fields, ctx: hashes[i].ctx}.AppendBinary(nil))
				if got, want := sets[i].Elements(), slices.Sorted(maps.Keys(sets[i].elems)); !slices.Equal(got, want) {
					t.Fatalf("step %d set %d: Elements %v, want %v", step, i, got, want)
				}
			}
		}
	})
}

// checkOwnMerge fails unless a mutator's state (set, hash) is the state
// before it (ref, hashRef) merged with its delta through the general Merge:
// the one-key merge of a replica's own deltas must agree with it.
func checkOwnMerge(t *rapid.T, ref ORSet, hashRef ORMap[MVRegister], d ORSet, hd ORMap[MVRegister], set ORSet, hash ORMap[MVRegister]) {
	ref.Merge(d)
	hashRef.Merge(hd)
	if !ref.Equal(set) {
		t.Fatalf("set after its own mutator differs from the merge of its delta")
	}
	if !hashRef.Equal(hash) {
		t.Fatalf("hash after its own mutator differs from the merge of its delta")
	}
}

// checkOrder fails if order is kept but differs from m's sorted entries, or
// if the encoding with it differs from the encoding without it.
func checkOrder[V any](t *rapid.T, what string, m map[string]V, order *keyOrder[V], enc, sortedEnc []byte) {
	if order != nil {
		if want := slices.Sorted(maps.Keys(m)); !slices.Equal(order.keys, want) {
			t.Fatalf("%s: key order %v, want %v", what, order.keys, want)
		}
		for i, k := range order.keys {
			if !reflect.DeepEqual(order.vals[i], m[k]) {
				t.Fatalf("%s: order holds %v for %q, the map %v", what, order.vals[i], k, m[k])
			}
		}
	} else if len(m) >= orderMinKeys {
		t.Fatalf("%s: %d keys and no key order", what, len(m))
	}
	if !bytes.Equal(enc, sortedEnc) {
		t.Fatalf("%s: encoding with the key order differs from a sorted one", what)
	}
}

func TestKeyOrderApply(t *testing.T) {
	keys := func(n, step int) []string {
		var out []string
		for i := 0; i < n; i += step {
			out = append(out, fmt.Sprintf("k%04d", i))
		}
		return out
	}
	// odd keeps the keys not in the starting order (its keys are even).
	odd := func(ks []string) []string {
		return slices.DeleteFunc(ks, func(k string) bool { return (k[len(k)-1]-'0')%2 == 0 })
	}
	for _, tc := range []struct {
		name                    string
		added, removed, changed []string
	}{
		{"few added", []string{"k0001", "a", "z"}, nil, nil},
		{"many added", odd(keys(200, 3)), nil, nil},
		{"few removed", nil, []string{"k0000", "k0100", "k0198"}, nil},
		{"many removed", nil, keys(200, 4), nil},
		{"few changed", nil, nil, []string{"k0002", "k0198"}},
		{"many changed", nil, nil, keys(200, 10)},
		{"all three", keys(300, 7)[30:], keys(200, 6), []string{"k0002", "k0010"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]int{}
			for _, k := range keys(200, 2) {
				m[k] = 1
			}
			o := newKeyOrder(m)
			for _, k := range tc.removed {
				delete(m, k)
			}
			for _, k := range tc.added {
				m[k] = 2
			}
			for _, k := range tc.changed {
				m[k] = 3
			}
			o.apply(m, slices.Clone(tc.added), tc.removed, tc.changed)
			if want := slices.Sorted(maps.Keys(m)); !slices.Equal(o.keys, want) {
				t.Fatalf("keys %v\nwant %v", o.keys, want)
			}
			for i, k := range o.keys {
				if o.vals[i] != m[k] {
					t.Fatalf("value of %q: %d, want %d", k, o.vals[i], m[k])
				}
			}
		})
	}
}

// TestKeyOrderIsNotTrustedOutOfStep checks the guard in sortedKeys: an
// order whose length disagrees with its map is ignored.
func TestKeyOrderIsNotTrustedOutOfStep(t *testing.T) {
	m := map[string]int{"b": 1, "a": 2, "c": 3}
	o := &keyOrder[int]{keys: []string{"a", "b"}, vals: []int{2, 1}}
	var keys []string
	var vals []int
	for k, v := range o.all(m) {
		keys, vals = append(keys, k), append(vals, v)
	}
	if want, wantVals := []string{"a", "b", "c"}, []int{2, 1, 3}; !slices.Equal(keys, want) || !slices.Equal(vals, wantVals) {
		t.Fatalf("all yields %v, %v; want %v, %v", keys, vals, want, wantVals)
	}
	if got := o.sortedKeys(m); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("sortedKeys = %v", got)
	}
}
