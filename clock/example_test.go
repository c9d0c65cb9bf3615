package clock_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairndb/cairn/clock"
)

// An HLC on a ManualClock: timestamps follow physical time, take in a
// peer's timestamp, keep increasing when the physical clock steps back, and
// refuse a peer too far ahead.
func ExampleHLC() {
	physical := clock.NewManualClock(1_000)
	h := clock.NewHLC(physical, 100*time.Nanosecond)

	fmt.Println(h.Now()) // physical time
	fmt.Println(h.Now()) // same physical time: logical counts

	// A peer 50ns ahead pulls the clock forward.
	ts, err := h.Update(clock.Timestamp{WallTime: 1_050, Logical: 4})
	fmt.Println(ts, err)

	physical.Advance(-500) // the physical clock steps back
	fmt.Println(h.Now())   // still increasing

	// A peer 200ns ahead of the physical clock exceeds the max offset.
	_, err = h.Update(clock.Timestamp{WallTime: 700})
	var offErr *clock.ClockOffsetError
	fmt.Println(errors.As(err, &offErr), h.Rejected(), h.Last())
	// Output:
	// 1000.0
	// 1000.1
	// 1050.5 <nil>
	// 1050.6
	// true 1 1050.6
}

// Comparing version vectors tells ordered histories from concurrent ones.
func ExampleVersionVector_Compare() {
	var a, b clock.VersionVector
	a.Increment(1) // replica 1 writes
	b.Merge(a)     // replica 2 learns of it
	fmt.Println(a.Compare(b))

	b.Increment(2) // then writes
	fmt.Println(a.Compare(b), b.Compare(a))

	a.Increment(1) // replica 1 writes again without seeing 2's write
	fmt.Println(a.Compare(b), a, b)

	a.Merge(b)
	fmt.Println(a, a.Descends(b))
	// Output:
	// equal
	// before after
	// concurrent {1:2} {1:1 2:1}
	// {1:2 2:1} true
}

// A Lamport clock ticks for local events and jumps past a received time.
func ExampleLamport() {
	var l clock.Lamport
	fmt.Println(l.Tick(), l.Tick())
	fmt.Println(l.Witness(10)) // a message stamped 10 arrives
	fmt.Println(l.Witness(3))  // an older one
	// Output:
	// 1 2
	// 11
	// 12
}

// Concurrent writes through one coordinator stay siblings; a client that
// read them both replaces them.
func ExamplePut() {
	const coordinator clock.ReplicaID = 1
	var key []clock.Sibling[string]
	key, _ = clock.Put(key, clock.VersionVector{}, coordinator, "red")
	key, _ = clock.Put(key, clock.VersionVector{}, coordinator, "blue")
	for _, s := range key {
		fmt.Println(s.Value, s.Clock)
	}

	ctx := clock.Join(key) // what a reader of both gets back
	key, _ = clock.Put(key, ctx, coordinator, "purple")
	for _, s := range key {
		fmt.Println(s.Value, s.Clock)
	}
	// Output:
	// red (1:1, {})
	// blue (1:2, {})
	// purple (1:3, {1:2})
}

// Replicas exchange whole sibling sets; Sync keeps what neither side has
// superseded.
func ExampleSync() {
	var atA, atB []clock.Sibling[string]
	atA, _ = clock.Put(atA, clock.VersionVector{}, 1, "x")
	atB = clock.Sync(atB, atA) // replicate A's set to B
	atB, _ = clock.Put(atB, clock.Join(atB), 2, "y")
	atA, _ = clock.Put(atA, clock.VersionVector{}, 1, "z") // concurrent with y

	for _, s := range clock.Sync(atA, atB) {
		fmt.Println(s.Value, s.Clock)
	}
	// Output:
	// z (1:2, {})
	// y (2:1, {1:1})
}
