package crdt

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/cairndb/cairn/clock"
)

// GCounter is a grow-only counter (Shapiro et al. 2011): each replica owns
// one count that only it raises; the value is the sum of the counts; merge
// keeps the larger count of each replica. The zero value is a counter at 0.
type GCounter struct {
	entries []counterEntry // sorted by replica, unique, every n > 0
}

type counterEntry struct {
	replica clock.ReplicaID
	n       uint64
}

// Increment adds n to the count of replica r, which must be the local
// replica, and returns the delta: r's new count alone. It returns
// ErrOverflow, and changes nothing, if r's count or the counter's value
// would exceed math.MaxUint64. Incrementing by 0 returns the zero delta.
func (g *GCounter) Increment(r clock.ReplicaID, n uint64) (GCounter, error) {
	if n == 0 {
		return GCounter{}, nil
	}
	own := g.get(r)
	total := g.sum()
	total.addUint(n)
	if _, ok := total.uint64(); !ok || own > math.MaxUint64-n {
		return GCounter{}, ErrOverflow
	}
	delta := GCounter{entries: []counterEntry{{replica: r, n: own + n}}}
	g.Merge(delta)
	return delta, nil
}

// Value returns the sum of all replicas' counts, or ErrOverflow if it
// exceeds math.MaxUint64, which concurrent increments on several replicas
// can cause even though each increment was checked.
func (g GCounter) Value() (uint64, error) {
	v, ok := g.sum().uint64()
	if !ok {
		return 0, ErrOverflow
	}
	return v, nil
}

func (g GCounter) sum() wideSum {
	var s wideSum
	for _, e := range g.entries {
		s.addUint(e.n)
	}
	return s
}

func (g GCounter) get(r clock.ReplicaID) uint64 {
	if i, ok := g.find(r); ok {
		return g.entries[i].n
	}
	return 0
}

func (g GCounter) find(r clock.ReplicaID) (int, bool) {
	return slices.BinarySearchFunc(g.entries, r, func(e counterEntry, r clock.ReplicaID) int {
		return cmp.Compare(e.replica, r)
	})
}

// Merge keeps, for every replica, the larger of the two counts.
func (g *GCounter) Merge(o GCounter) {
	for _, e := range o.entries {
		i, ok := g.find(e.replica)
		if ok {
			g.entries[i].n = max(g.entries[i].n, e.n)
		} else {
			g.entries = slices.Insert(g.entries, i, e)
		}
	}
}

// Clone returns a copy that shares no storage with g.
func (g GCounter) Clone() GCounter { return GCounter{entries: slices.Clone(g.entries)} }

// Equal reports whether g and o hold the same counts.
func (g GCounter) Equal(o GCounter) bool { return slices.Equal(g.entries, o.entries) }

// IsZero reports whether every count is 0.
func (g GCounter) IsZero() bool { return len(g.entries) == 0 }

// AppendBinary appends the encoding of g: header, then the entries sorted by
// replica.
func (g GCounter) AppendBinary(b []byte) []byte {
	return g.appendBody(appendHeader(b, KindGCounter))
}

func (g GCounter) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(g.entries)))
	var prev clock.ReplicaID
	for _, e := range g.entries {
		b = binary.AppendUvarint(b, uint64(e.replica-prev))
		b = binary.AppendUvarint(b, e.n)
		prev = e.replica
	}
	return b
}

// DecodeGCounter decodes an encoding written by GCounter.AppendBinary.
func DecodeGCounter(b []byte) (GCounter, error) {
	d := newDecoder(b, KindGCounter)
	g := d.gCounter()
	if err := d.finish(KindGCounter); err != nil {
		return GCounter{}, err
	}
	return g, nil
}

func (d *decoder) gCounter() GCounter {
	n := d.count(2)
	if n == 0 {
		return GCounter{}
	}
	entries := make([]counterEntry, 0, n)
	var prev clock.ReplicaID
	for i := range n {
		delta, c := d.uvarint(), d.uvarint()
		r := prev + clock.ReplicaID(delta)
		switch {
		case d.err != nil:
			return GCounter{}
		case r < prev || (i > 0 && delta == 0):
			d.invalid("counter replicas out of order")
			return GCounter{}
		case c == 0:
			d.invalid("counter entry of replica %d is 0", r)
			return GCounter{}
		}
		entries = append(entries, counterEntry{replica: r, n: c})
		prev = r
	}
	return GCounter{entries: entries}
}
