package ring_test

import (
	"fmt"
	"sync/atomic"

	"github.com/cairndb/cairn/ring"
)

// A ring of five nodes in three zones: each key's replicas cover the three
// zones before a zone gets a second copy.
func Example() {
	r, err := ring.New([]ring.Node{
		{ID: "alpha", Zone: "z1", Weight: 1},
		{ID: "bravo", Zone: "z1", Weight: 1},
		{ID: "charlie", Zone: "z2", Weight: 2},
		{ID: "delta", Zone: "z3", Weight: 1},
		{ID: "echo", Zone: "z3", Weight: 1},
	}, ring.DefaultConfig())
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Lookup([]byte("user:1")))
	fmt.Println(r.Replicas([]byte("user:1"), 3))
	fmt.Println(r.Replicas([]byte("user:1"), 4))
	// Output:
	// alpha
	// [alpha charlie echo]
	// [alpha charlie echo delta]
}

// Membership changes build a new ring; readers load the current one from
// an atomic pointer and never take a lock.
func ExampleRing_WithNode() {
	var current atomic.Pointer[ring.Ring]
	r, err := ring.New([]ring.Node{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}}, ring.DefaultConfig())
	if err != nil {
		panic(err)
	}
	current.Store(r)

	grown, err := current.Load().WithNode(ring.Node{ID: "c", Weight: 1})
	if err != nil {
		panic(err)
	}
	current.Store(grown)

	moved, toC := 0, 0
	for i := range 10000 {
		key := fmt.Appendf(nil, "key-%d", i)
		if before, after := r.Lookup(key), grown.Lookup(key); before != after {
			moved++
			if after == "c" {
				toC++
			}
		}
	}
	fmt.Printf("members: %d; %d of 10000 keys moved, %d of them to c\n", current.Load().Len(), moved, toC)
	// Output:
	// members: 3; 3271 of 10000 keys moved, 3271 of them to c
}

// The arcs a node holds as one of three replicas, for anti-entropy.
func ExampleRing_RangesFor() {
	r, err := ring.New([]ring.Node{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}, {ID: "d", Weight: 1}},
		ring.Config{VNodes: 2, MaxTokens: 64})
	if err != nil {
		panic(err)
	}
	for _, rg := range r.RangesFor("a", 2) {
		fmt.Println(rg, r.AppendReplicasToken(nil, rg.End, 2))
	}
	// Output:
	// (d5c40bf818fcd630, 0666f2494f6c03d3] a [a b]
	// (3c0a081a996198b7, 63768f895e65faaf] c [c a]
	// (63768f895e65faaf, 8152e7ef65ce8f25] a [a d]
	// (8152e7ef65ce8f25, d5c40bf818fcd630] d [d a]
}
