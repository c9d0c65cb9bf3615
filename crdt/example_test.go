package crdt_test

import (
	"fmt"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/crdt"
)

// Two replicas of a set: a remove on one and a concurrent add of the same
// element on the other. The add was not seen by the remove, so it wins; and
// the remove is not undone by the replica that still held the element.
func ExampleORSet() {
	const a, b clock.ReplicaID = 1, 2
	var setA, setB crdt.ORSet

	d, _ := setA.Add(a, "apple")
	setB.Merge(d) // replication ships the delta
	d, _ = setA.Add(a, "pear")
	setB.Merge(d)

	removeApple := setA.Remove("apple")
	removePear := setA.Remove("pear")
	addApple, _ := setB.Add(b, "apple") // concurrent with the removes

	setA.Merge(addApple)
	setB.Merge(removeApple)
	setB.Merge(removePear)
	setA.Merge(setB) // a whole stale state changes nothing

	fmt.Println(setA.Elements(), setB.Elements(), setA.Equal(setB))
	// Output: [apple] [apple] true
}

// A PN-Counter behaves like Redis INCRBY/DECRBY, with the same overflow
// error instead of wrapping around.
func ExamplePNCounter() {
	var a, b crdt.PNCounter
	d1, _ := a.Add(1, 10)
	d2, _ := b.Add(2, -3)
	a.Merge(d2)
	b.Merge(d1)
	b.Merge(d1) // a duplicate delta changes nothing

	va, _ := a.Value()
	vb, _ := b.Value()
	fmt.Println(va, vb)

	_, err := a.Add(1, 1<<63-1)
	fmt.Println(err)
	// Output:
	// 7 7
	// crdt: counter overflow
}

// The write with the later hybrid logical clock timestamp wins on every
// replica, whatever order the writes arrive in; the replica ID breaks ties.
func ExampleLWWRegister() {
	var a, b crdt.LWWRegister
	early := clock.Timestamp{WallTime: 1_700_000_000_000_000_000}
	late := clock.Timestamp{WallTime: early.WallTime, Logical: 1}

	da, _ := a.Set(1, late, []byte("from a"))
	db, _ := b.Set(2, early, []byte("from b"))
	a.Merge(db)
	b.Merge(da)

	fmt.Printf("%s %s\n", a.Value(), b.Value())
	// Output: from a from a
}

// A Redis hash is an ORMap of MV-registers read last-writer-wins. Removing
// a field removes only the writes the remove saw.
func ExampleORMap() {
	hset := func(m *crdt.ORMap[crdt.MVRegister], r clock.ReplicaID, wall int64, field, value string) crdt.ORMap[crdt.MVRegister] {
		d, _ := m.Apply(field, func(v *crdt.MVRegister) (crdt.MVRegister, error) {
			return v.Write(r, clock.Timestamp{WallTime: wall}, []byte(value))
		})
		return d
	}
	var a, b crdt.ORMap[crdt.MVRegister]
	b.Merge(hset(&a, 1, 10, "name", "ada"))
	b.Merge(hset(&a, 1, 11, "lang", "go"))

	del := a.Remove("lang")
	upd := hset(&b, 2, 12, "lang", "zig") // concurrent with the removal
	a.Merge(upd)
	b.Merge(del)

	for _, f := range a.Fields() {
		v, _ := a.Get(f)
		last, _ := v.Last()
		fmt.Printf("%s=%s ", f, last)
	}
	fmt.Println(a.Equal(b))
	// Output: lang=zig name=ada true
}
