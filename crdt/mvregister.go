package crdt

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/cairndb/cairn/clock"
)

// MVRegister is a multi-value register (Shapiro et al. 2011) built as a
// causal CRDT (Almeida et al., "Delta State Replicated Data Types"): a write
// replaces every value it has seen; writes that did not see each other are
// concurrent and all kept, until a write that has seen them all replaces
// them. Nothing is lost to clock skew.
//
// Each write also carries a hybrid logical clock timestamp, used only to
// pick one winner among concurrent values when a caller needs a single one
// (Last): the value with the highest (timestamp, writing replica, bytes).
// That is how the eventual tier stores hash fields: last-writer-wins for
// reads, but a field removal or a newer write removes only what it saw.
//
// The zero value is the empty register.
type MVRegister struct {
	entries []dotEntry[mvValue] // sorted by dot; every dot is in ctx
	ctx     CausalContext
}

// mvValue is one written value.
type mvValue struct {
	ts    clock.Timestamp
	value []byte // nil when empty
}

// mvOrder orders values for Last: timestamp, replica, bytes, then dot
// counter so that the order is total.
func mvOrder(a, b dotEntry[mvValue]) int {
	if c := a.val.ts.Compare(b.val.ts); c != 0 {
		return c
	}
	if c := cmp.Compare(a.dot.Replica, b.dot.Replica); c != 0 {
		return c
	}
	if c := bytes.Compare(a.val.value, b.val.value); c != 0 {
		return c
	}
	return cmp.Compare(a.dot.Counter, b.dot.Counter)
}

func compareMVValues(x, y mvValue) int {
	if c := x.ts.Compare(y.ts); c != 0 {
		return c
	}
	return bytes.Compare(x.value, y.value)
}

var mvOps = entryOps[mvValue]{
	pick: func(x, y mvValue) mvValue {
		if compareMVValues(x, y) >= 0 {
			return x
		}
		return y
	},
	clone: func(v mvValue) mvValue { return mvValue{ts: v.ts, value: bytes.Clone(v.value)} },
	equal: func(x, y mvValue) bool { return compareMVValues(x, y) == 0 },
}

// Write writes value at timestamp ts on replica r, which must be the local
// replica, replacing every value the register holds, and returns the delta.
// It returns ErrTooLarge if value is larger than MaxValueSize. The register
// keeps a copy of value.
func (m *MVRegister) Write(r clock.ReplicaID, ts clock.Timestamp, value []byte) (MVRegister, error) {
	if len(value) > MaxValueSize {
		return MVRegister{}, ErrTooLarge
	}
	d := m.ctx.NextDot(r)
	v := mvValue{ts: ts, value: bytes.Clone(value)}
	if len(v.value) == 0 {
		v.value = nil
	}
	delta := MVRegister{
		entries: []dotEntry[mvValue]{{dot: d, val: v}},
		ctx:     contextOf(appendEntryDots([]clock.Dot{d}, m.entries)),
	}
	m.Merge(delta)
	return delta, nil
}

// Values returns copies of the concurrent values, in the order of their
// (timestamp, writing replica, bytes): the last one is what Last returns.
// Equal values written concurrently appear once per write.
func (m MVRegister) Values() [][]byte {
	sorted := slices.SortedFunc(slices.Values(m.entries), mvOrder)
	out := make([][]byte, len(sorted))
	for i, e := range sorted {
		out[i] = bytes.Clone(e.val.value)
	}
	return out
}

// Last returns a copy of the value with the highest (timestamp, writing
// replica, bytes), and false if the register is empty.
func (m MVRegister) Last() ([]byte, bool) {
	if len(m.entries) == 0 {
		return nil, false
	}
	return bytes.Clone(slices.MaxFunc(m.entries, mvOrder).val.value), true
}

// Len returns the number of concurrent values.
func (m MVRegister) Len() int { return len(m.entries) }

// Context returns a copy of the register's causal context.
func (m MVRegister) Context() CausalContext { return m.ctx.Clone() }

// Merge joins o into m: a value survives unless the other side has seen its
// write and no longer holds it.
func (m *MVRegister) Merge(o MVRegister) {
	m.entries = m.joinStore(&m.ctx, o, &o.ctx).entries
	m.ctx.Merge(o.ctx)
}

// Clone returns a copy that shares no storage with m.
func (m MVRegister) Clone() MVRegister { return m.cloneStore().withContext(m.ctx.Clone()) }

// Equal reports whether m and o are the same state.
func (m MVRegister) Equal(o MVRegister) bool { return m.equalStore(o) && m.ctx.Equal(o.ctx) }

// IsZero reports whether m has no value and has seen no write.
func (m MVRegister) IsZero() bool { return m.storeEmpty() && m.ctx.IsZero() }

// AppendBinary appends the encoding of m: header, context, entries.
func (m MVRegister) AppendBinary(b []byte) []byte {
	b = m.ctx.appendBody(appendHeader(b, KindMVRegister))
	return m.appendStore(b)
}

// DecodeMVRegister decodes an encoding written by MVRegister.AppendBinary.
func DecodeMVRegister(b []byte) (MVRegister, error) { return decodeCausal[MVRegister](b) }

// The methods below make MVRegister Embeddable.

func (MVRegister) kind() Kind { return KindMVRegister }

func (m MVRegister) split() (MVRegister, CausalContext) { return MVRegister{entries: m.entries}, m.ctx }

func (m MVRegister) withContext(c CausalContext) MVRegister {
	m.ctx = c
	return m
}

func (m MVRegister) joinStore(c *CausalContext, o MVRegister, oc *CausalContext) MVRegister {
	return MVRegister{entries: joinDotFuns(m.entries, c, o.entries, oc, mvOps)}
}

func (m MVRegister) unseenStore(c *CausalContext) (MVRegister, bool) {
	e, changed := unseenEntries(m.entries, c)
	return MVRegister{entries: e}, changed
}

func (m MVRegister) cloneStore() MVRegister {
	return MVRegister{entries: cloneEntries(m.entries, mvOps.clone)}
}

func (m MVRegister) storeEmpty() bool { return len(m.entries) == 0 }

func (m MVRegister) equalStore(o MVRegister) bool {
	return equalEntries(m.entries, o.entries, mvOps.equal)
}

func (m MVRegister) appendStoreDots(dst []clock.Dot) []clock.Dot {
	return appendEntryDots(dst, m.entries)
}

// minMVEntrySize is a dot, a timestamp and an empty value.
const minMVEntrySize = minDotSize + clock.TimestampSize + 1

func (m MVRegister) appendStore(b []byte) []byte {
	b = appendUvarintLen(b, len(m.entries))
	var prev clock.ReplicaID
	for _, e := range m.entries {
		b = appendDot(b, e.dot, prev)
		b = e.val.ts.AppendBinary(b)
		b = appendBytes(b, e.val.value)
		prev = e.dot.Replica
	}
	return b
}

func (MVRegister) decodeStore(d *decoder) MVRegister {
	return MVRegister{entries: decodeEntries(d, minMVEntrySize, func(d *decoder) mvValue {
		return mvValue{ts: d.timestamp(), value: d.bytes()}
	})}
}
