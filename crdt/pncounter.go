package crdt

import (
	"math"

	"github.com/cairndb/cairn/clock"
)

// PNCounter is a counter that goes up and down (Shapiro et al. 2011): two
// grow-only counters, one for increments and one for decrements; the value
// is their difference. The zero value is a counter at 0.
//
// Overflow: the value is an int64, as for Redis INCRBY. A mutator whose
// result would leave the int64 range returns ErrOverflow and changes
// nothing, as Redis does; so does one that would push a replica's total of
// increments or of decrements past math.MaxUint64. Concurrent updates on
// different replicas can still take the merged value out of range (each
// replica checked only its own view); then Value returns ErrOverflow until
// updates bring it back, which mutators allow.
type PNCounter struct {
	p, n GCounter
}

// Add adds v (which may be negative) on replica r, which must be the local
// replica, and returns the delta. Adding 0 returns the zero delta.
func (c *PNCounter) Add(r clock.ReplicaID, v int64) (PNCounter, error) {
	if v == 0 {
		return PNCounter{}, nil
	}
	total := c.sum()
	total.addInt(v)
	if _, ok := total.int64(); !ok {
		return PNCounter{}, ErrOverflow
	}
	var delta PNCounter
	side, dside, m := c.p, &delta.p, uint64(v)
	if v < 0 {
		side, dside, m = c.n, &delta.n, magnitude(v)
	}
	own := side.get(r)
	if own > math.MaxUint64-m {
		return PNCounter{}, ErrOverflow
	}
	dside.entries = []counterEntry{{replica: r, n: own + m}}
	c.Merge(delta)
	return delta, nil
}

// Value returns the counter's value, or ErrOverflow if concurrent updates
// took it outside the int64 range.
func (c PNCounter) Value() (int64, error) {
	v, ok := c.sum().int64()
	if !ok {
		return 0, ErrOverflow
	}
	return v, nil
}

func (c PNCounter) sum() wideSum {
	s := c.p.sum()
	for _, e := range c.n.entries {
		s.subUint(e.n)
	}
	return s
}

// Merge merges the increments and the decrements separately.
func (c *PNCounter) Merge(o PNCounter) {
	c.p.Merge(o.p)
	c.n.Merge(o.n)
}

// Clone returns a copy that shares no storage with c.
func (c PNCounter) Clone() PNCounter { return PNCounter{p: c.p.Clone(), n: c.n.Clone()} }

// Equal reports whether c and o hold the same increments and decrements.
// Two counters with the same value can differ.
func (c PNCounter) Equal(o PNCounter) bool { return c.p.Equal(o.p) && c.n.Equal(o.n) }

// IsZero reports whether c has recorded no update.
func (c PNCounter) IsZero() bool { return c.p.IsZero() && c.n.IsZero() }

// AppendBinary appends the encoding of c: header, increments, decrements.
func (c PNCounter) AppendBinary(b []byte) []byte {
	b = appendHeader(b, KindPNCounter)
	return c.n.appendBody(c.p.appendBody(b))
}

// DecodePNCounter decodes an encoding written by PNCounter.AppendBinary.
func DecodePNCounter(b []byte) (PNCounter, error) {
	d := newDecoder(b, KindPNCounter)
	c := PNCounter{p: d.gCounter(), n: d.gCounter()}
	if err := d.finish(KindPNCounter); err != nil {
		return PNCounter{}, err
	}
	return c, nil
}
