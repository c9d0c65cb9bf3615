package crdt

import (
	"slices"
	"strings"

	"github.com/cairndb/cairn/clock"
)

// CausalContext is a set of dots (events) that a replica has seen: a
// version vector for the contiguous prefix of each replica's events, plus a
// "dot cloud" for events seen beyond a gap, which happen when deltas arrive
// out of order. It is the causal context of the delta-CRDT paper, and a CRDT
// itself: a grow-only set of dots whose merge is union.
//
// A CausalContext is always compact: no cloud dot is covered by the vector
// or extends it contiguously (those are folded into the vector as soon as
// they appear), so equal sets of dots have one representation and one
// encoding. The zero value is the empty context.
type CausalContext struct {
	// vv covers events 1..vv.Get(r) of every replica r.
	vv clock.VersionVector
	// cloud holds the other dots, sorted by (Replica, Counter), with
	// d.Counter > vv.Get(d.Replica)+1 for every d.
	cloud []clock.Dot
}

// Contains reports whether the context has seen the event d. A dot with
// counter 0 is "no event" and is always contained.
func (c CausalContext) Contains(d clock.Dot) bool {
	if c.vv.Contains(d) {
		return true
	}
	_, ok := slices.BinarySearchFunc(c.cloud, d, compareDots)
	return ok
}

// Add records that the event d has been seen.
func (c *CausalContext) Add(d clock.Dot) {
	if c.Contains(d) {
		return
	}
	i, _ := slices.BinarySearchFunc(c.cloud, d, compareDots)
	c.cloud = slices.Insert(c.cloud, i, d)
	c.compact()
}

// NextDot returns the dot for the next event of replica r: one past the
// highest counter of r that the context has seen. It does not add the dot.
func (c CausalContext) NextDot(r clock.ReplicaID) clock.Dot {
	top := c.vv.Get(r)
	for _, d := range c.cloud {
		if d.Replica == r {
			top = max(top, d.Counter)
		}
	}
	return clock.Dot{Replica: r, Counter: top + 1}
}

// Merge adds every dot of o.
func (c *CausalContext) Merge(o CausalContext) {
	if c.includes(o) {
		return // the common case of a delta delivered again
	}
	c.vv.Merge(o.vv)
	c.cloud = unionDots(c.cloud, o.cloud)
	c.compact()
}

// includes reports whether c holds every dot of o, without allocating.
func (c CausalContext) includes(o CausalContext) bool {
	if !c.vv.Descends(o.vv) {
		return false
	}
	for _, d := range o.cloud {
		if !c.Contains(d) {
			return false
		}
	}
	return true
}

// Version returns the compact part of the context: a copy of the vector
// covering every replica's contiguous prefix of events.
func (c CausalContext) Version() clock.VersionVector { return c.vv.Clone() }

// Cloud returns a copy of the dots seen beyond the vector, sorted.
func (c CausalContext) Cloud() []clock.Dot { return slices.Clone(c.cloud) }

// Clone returns a copy that shares no storage with c.
func (c CausalContext) Clone() CausalContext {
	return CausalContext{vv: c.vv.Clone(), cloud: slices.Clone(c.cloud)}
}

// Equal reports whether c and o hold the same dots.
func (c CausalContext) Equal(o CausalContext) bool {
	return c.vv.Compare(o.vv) == clock.Equal && slices.Equal(c.cloud, o.cloud)
}

// IsZero reports whether c holds no dot.
func (c CausalContext) IsZero() bool { return c.vv.Len() == 0 && len(c.cloud) == 0 }

// String formats c as its vector followed by its cloud, e.g. "{1:3 2:1}+[1:5]".
func (c CausalContext) String() string {
	var sb strings.Builder
	sb.WriteString(c.vv.String())
	sb.WriteString("+[")
	for i, d := range c.cloud {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(d.String())
	}
	sb.WriteByte(']')
	return sb.String()
}

// compact restores the invariant after dots were added: it drops cloud dots
// the vector covers and folds into the vector those that extend it. It
// rewrites c.cloud in place, which the caller must own.
func (c *CausalContext) compact() {
	out := c.cloud[:0]
	for i := 0; i < len(c.cloud); {
		r := c.cloud[i].Replica
		was := c.vv.Get(r)
		top := was
		for ; i < len(c.cloud) && c.cloud[i].Replica == r; i++ {
			d := c.cloud[i]
			switch {
			case d.Counter <= top:
				// Covered by the vector.
			case d.Counter == top+1:
				top++
			default:
				// A gap: this and every later dot of r stay in the cloud,
				// since they sort above it and top no longer moves.
				out = append(out, d)
			}
		}
		if top != was {
			c.vv.Set(r, top)
		}
	}
	c.cloud = out
	if len(c.cloud) == 0 {
		c.cloud = nil
	}
}

// contextOf returns the context that holds exactly the given dots.
func contextOf(dots []clock.Dot) CausalContext {
	var c CausalContext
	if len(dots) == 0 {
		return c
	}
	c.cloud = slices.Clone(dots)
	slices.SortFunc(c.cloud, compareDots)
	c.cloud = slices.Compact(c.cloud)
	c.compact()
	return c
}

// AppendBinary appends the encoding of c: header, vector, cloud.
func (c CausalContext) AppendBinary(b []byte) []byte {
	return c.appendBody(appendHeader(b, KindCausalContext))
}

func (c CausalContext) appendBody(b []byte) []byte {
	b = c.vv.AppendBinary(b)
	return appendDotList(b, c.cloud)
}

// DecodeCausalContext decodes an encoding written by AppendBinary. It
// rejects a context that is not compact, so that the encoding of a state is
// unique.
func DecodeCausalContext(b []byte) (CausalContext, error) {
	d := newDecoder(b, KindCausalContext)
	c := d.context()
	if err := d.finish(KindCausalContext); err != nil {
		return CausalContext{}, err
	}
	return c, nil
}

func (d *decoder) context() CausalContext {
	c := CausalContext{vv: d.versionVector(), cloud: d.dotList()}
	if d.err != nil {
		return CausalContext{}
	}
	for i, x := range c.cloud {
		// Only the lowest cloud dot of each replica can be covered by or
		// contiguous with the vector: the list is strictly sorted.
		if (i == 0 || c.cloud[i-1].Replica != x.Replica) && x.Counter-1 <= c.vv.Get(x.Replica) {
			d.invalid("context not compact: cloud dot %v with vector %v", x, c.vv)
			return CausalContext{}
		}
	}
	return c
}
