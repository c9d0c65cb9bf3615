package crdt

import (
	"encoding/binary"

	"github.com/cairndb/cairn/clock"
)

// CausalCounter is a counter that can be reset by an observed remove, so that
// it can live in an ORMap field (and a field removal resets it). It is the
// causal counter (CCounter) built on the dot store and causal context of the
// delta-CRDT work: each replica keeps its contribution under one dot, an
// increment replaces the replica's dot with a new one carrying the new
// contribution, and the value is the sum of the contributions. The zero
// value is a counter at 0.
//
// A reset removes the contributions it has seen. Semantics to know: if
// replica r increments concurrently with a reset, r's new dot carries r's
// whole contribution, including the part the reset saw, so the reset does
// not take effect for r. Increments and resets that are not concurrent
// behave as expected. Baquero, Almeida, Cunha and Ferreira, "The problem
// with embedded CRDT counters and a solution" (PaPoC 2016), discuss this
// and a variant that trades it for other costs.
//
// Overflow is handled as in PNCounter: a mutator whose result (the value, or
// the replica's contribution) would leave the int64 range returns ErrOverflow
// and changes nothing; Value returns ErrOverflow if concurrent increments
// took the sum out of range.
type CausalCounter struct {
	entries []dotEntry[int64] // sorted by dot; values nonzero; every dot is in ctx
	ctx     CausalContext
}

var counterOps = entryOps[int64]{
	pick:  func(x, y int64) int64 { return max(x, y) },
	clone: func(v int64) int64 { return v },
	equal: func(x, y int64) bool { return x == y },
}

// Add adds v (which may be negative) on replica r, which must be the local
// replica, and returns the delta. Adding 0 returns the zero delta.
func (c *CausalCounter) Add(r clock.ReplicaID, v int64) (CausalCounter, error) {
	if v == 0 {
		return CausalCounter{}, nil
	}
	var own, total wideSum
	total.addInt(v)
	own.addInt(v)
	dots := []clock.Dot{c.ctx.NextDot(r)}
	for _, e := range c.entries {
		total.addInt(e.val)
		if e.dot.Replica == r {
			own.addInt(e.val)
			dots = append(dots, e.dot)
		}
	}
	sum, ownOK := own.int64()
	if _, ok := total.int64(); !ok || !ownOK {
		return CausalCounter{}, ErrOverflow
	}
	delta := CausalCounter{ctx: contextOf(dots)}
	if sum != 0 {
		delta.entries = []dotEntry[int64]{{dot: dots[0], val: sum}}
	}
	c.Merge(delta)
	return delta, nil
}

// Reset sets the counter to 0 by removing every contribution this replica
// has seen, and returns the delta.
func (c *CausalCounter) Reset() CausalCounter {
	delta := CausalCounter{ctx: contextOf(c.appendStoreDots(nil))}
	c.Merge(delta)
	return delta
}

// Value returns the sum of the contributions, or ErrOverflow if it does not
// fit in an int64.
func (c CausalCounter) Value() (int64, error) {
	var s wideSum
	for _, e := range c.entries {
		s.addInt(e.val)
	}
	v, ok := s.int64()
	if !ok {
		return 0, ErrOverflow
	}
	return v, nil
}

// Context returns a copy of the counter's causal context.
func (c CausalCounter) Context() CausalContext { return c.ctx.Clone() }

// Merge joins o into c: a contribution survives unless the other side has
// seen its dot and no longer holds it.
func (c *CausalCounter) Merge(o CausalCounter) {
	c.entries = c.joinStore(&c.ctx, o, &o.ctx).entries
	c.ctx.Merge(o.ctx)
}

// Clone returns a copy that shares no storage with c.
func (c CausalCounter) Clone() CausalCounter { return c.cloneStore().withContext(c.ctx.Clone()) }

// Equal reports whether c and o are the same state.
func (c CausalCounter) Equal(o CausalCounter) bool { return c.equalStore(o) && c.ctx.Equal(o.ctx) }

// IsZero reports whether c has no contribution and has seen no update.
func (c CausalCounter) IsZero() bool { return c.storeEmpty() && c.ctx.IsZero() }

// AppendBinary appends the encoding of c: header, context, entries.
func (c CausalCounter) AppendBinary(b []byte) []byte {
	b = c.ctx.appendBody(appendHeader(b, KindCausalCounter))
	return c.appendStore(b)
}

// DecodeCausalCounter decodes an encoding written by
// CausalCounter.AppendBinary.
func DecodeCausalCounter(b []byte) (CausalCounter, error) { return decodeCausal[CausalCounter](b) }

// The methods below make CausalCounter Embeddable.

func (CausalCounter) kind() Kind { return KindCausalCounter }

func (c CausalCounter) split() (CausalCounter, CausalContext) {
	return CausalCounter{entries: c.entries}, c.ctx
}

func (c CausalCounter) withContext(ctx CausalContext) CausalCounter {
	c.ctx = ctx
	return c
}

func (c CausalCounter) joinStore(ctx *CausalContext, o CausalCounter, octx *CausalContext) CausalCounter {
	return CausalCounter{entries: joinDotFuns(c.entries, ctx, o.entries, octx, counterOps)}
}

func (c CausalCounter) unseenStore(ctx *CausalContext) (CausalCounter, bool) {
	e, changed := unseenEntries(c.entries, ctx)
	return CausalCounter{entries: e}, changed
}

func (c CausalCounter) cloneStore() CausalCounter {
	return CausalCounter{entries: cloneEntries(c.entries, counterOps.clone)}
}

func (c CausalCounter) storeEmpty() bool { return len(c.entries) == 0 }

func (c CausalCounter) equalStore(o CausalCounter) bool {
	return equalEntries(c.entries, o.entries, counterOps.equal)
}

func (c CausalCounter) appendStoreDots(dst []clock.Dot) []clock.Dot {
	return appendEntryDots(dst, c.entries)
}

func (c CausalCounter) appendStore(b []byte) []byte {
	b = appendUvarintLen(b, len(c.entries))
	var prev clock.ReplicaID
	for _, e := range c.entries {
		b = appendDot(b, e.dot, prev)
		b = binary.AppendVarint(b, e.val)
		prev = e.dot.Replica
	}
	return b
}

func (CausalCounter) decodeStore(d *decoder) CausalCounter {
	return CausalCounter{entries: decodeEntries(d, minDotSize+1, func(d *decoder) int64 {
		v := d.varint()
		if v == 0 && d.err == nil {
			d.invalid("counter contribution is 0")
		}
		return v
	})}
}
