package crdt

import (
	"encoding/binary"
	"fmt"
	"maps"

	"github.com/cairndb/cairn/clock"
)

// Embeddable is a causal CRDT that can be the value of an ORMap field:
// ORSet, MVRegister or CausalCounter. Inside a map a value keeps only its
// dot store; the map's one causal context serves every field (the nesting
// of dot maps in "Delta State Replicated Data Types"). The methods are
// unexported: the set of embeddable types is closed.
type Embeddable[V any] interface {
	ORSet | MVRegister | CausalCounter

	kind() Kind
	// split returns the store alone (a V with the zero context) and the
	// context; both share v's storage.
	split() (V, CausalContext)
	// withContext returns the store of v with context c, sharing storage.
	withContext(c CausalContext) V
	// joinStore returns the store of (v, c) ⊔ (o, oc). It may reuse v's
	// storage, which the caller must own, and copies what it takes from o.
	joinStore(c *CausalContext, o V, oc *CausalContext) V
	// unseenStore returns the part of v's store that c has not seen, and
	// whether that is less than the store. It does not change v and may
	// share its storage.
	unseenStore(c *CausalContext) (V, bool)
	cloneStore() V
	storeEmpty() bool
	equalStore(o V) bool
	appendStoreDots(dst []clock.Dot) []clock.Dot
	appendStore(b []byte) []byte
	decodeStore(d *decoder) V
}

// ORMap is an observed-remove map from field names to embedded causal CRDTs
// of one type V (Almeida et al., "Delta State Replicated Data Types"). The
// eventual tier stores a Redis hash as an
// ORMap[MVRegister] and reads each field with MVRegister.Last.
//
// A field is present while its value holds a dot. Updating a field runs a
// mutator of V on the field's value; removing a field removes the dots the
// remove has seen, recording them in the context, so a concurrent update of
// the field survives (update wins) and a stale replica cannot bring removed
// data back. A value left empty by its own mutator (an ORSet whose last
// element was removed, a CausalCounter reset) also makes the field absent.
//
// The zero value is the empty map.
type ORMap[V Embeddable[V]] struct {
	fields map[string]V // field → store of its value (zero context), never empty; every dot is in ctx
	ctx    CausalContext
	order  *keyOrder[V] // fields sorted, for a big top-level map; nil otherwise
}

func (m ORMap[V]) ops() mapOps[V] {
	return mapOps[V]{
		join:   func(x V, xc *CausalContext, y V, yc *CausalContext) V { return x.joinStore(xc, y, yc) },
		unseen: func(x V, c *CausalContext) (V, bool) { return x.unseenStore(c) },
		clone:  func(x V) V { return x.cloneStore() },
		empty:  func(x V) bool { return x.storeEmpty() },
	}
}

// Apply updates field on this replica and returns the delta. mutate gets
// the field's current value (empty if the field is absent) with the map's
// causal context, and must return what a mutator of V returned for it, or
// the join of several such deltas when it calls more than one. For example,
// to set a hash field:
//
//	m.Apply(field, func(v *MVRegister) (MVRegister, error) { return v.Write(r, ts, value) })
//
// If mutate returns an error, Apply returns it and changes nothing. Apply
// returns ErrTooLarge if field is longer than MaxValueSize.
func (m *ORMap[V]) Apply(field string, mutate func(v *V) (V, error)) (ORMap[V], error) {
	if len(field) > MaxValueSize {
		return ORMap[V]{}, ErrTooLarge
	}
	view := m.fields[field].cloneStore().withContext(m.ctx.Clone())
	d, err := mutate(&view)
	if err != nil {
		return ORMap[V]{}, err
	}
	store, ctx := d.split()
	delta := ORMap[V]{ctx: ctx.Clone()}
	if !store.storeEmpty() {
		delta.fields = map[string]V{field: store.cloneStore()}
	}
	m.mergeOwn(field, delta)
	return delta, nil
}

// Remove removes field and returns the delta: a context holding the dots of
// the field's value that this replica has seen. Removing an absent field
// returns the zero delta.
func (m *ORMap[V]) Remove(field string) ORMap[V] {
	v, ok := m.fields[field]
	if !ok {
		return ORMap[V]{}
	}
	delta := ORMap[V]{ctx: contextOf(v.appendStoreDots(nil))}
	m.mergeOwn(field, delta)
	return delta
}

// Clear removes every field this replica has seen and returns the delta.
func (m *ORMap[V]) Clear() ORMap[V] {
	var dots []clock.Dot
	for _, v := range m.fields {
		dots = v.appendStoreDots(dots)
	}
	delta := ORMap[V]{ctx: contextOf(dots)}
	m.Merge(delta)
	return delta
}

// Get returns a copy of field's value, with a copy of the map's causal
// context, and whether the field is present.
func (m ORMap[V]) Get(field string) (V, bool) {
	v, ok := m.fields[field]
	if !ok {
		var zero V
		return zero, false
	}
	return v.cloneStore().withContext(m.ctx.Clone()), true
}

// Fields returns the present fields, sorted.
func (m ORMap[V]) Fields() []string { return m.order.sortedKeys(m.fields) }

// Len returns the number of present fields.
func (m ORMap[V]) Len() int { return len(m.fields) }

// Context returns a copy of the map's causal context.
func (m ORMap[V]) Context() CausalContext { return m.ctx.Clone() }

// Merge joins o into m, field by field, under the two maps' contexts.
func (m *ORMap[V]) Merge(o ORMap[V]) {
	m.fields = joinDotMaps(m.fields, &m.ctx, o.fields, &o.ctx, m.ops(), m.order)
	m.ctx.Merge(o.ctx)
	m.order = m.order.orNew(m.fields)
}

// mergeOwn merges the delta of this replica's own Apply or Remove of
// field: Merge, touching field alone (see joinDotKey). A mutator of V sees
// the field's value and the map's context, and its delta's context holds
// the value's dots and dots it mints, never another field's.
func (m *ORMap[V]) mergeOwn(field string, delta ORMap[V]) {
	m.fields = joinDotKey(m.fields, &m.ctx, field, delta.fields, &delta.ctx, m.ops(), m.order)
	m.ctx.Merge(delta.ctx)
	m.order = m.order.orNew(m.fields)
}

// Clone returns a copy that shares no storage with m.
func (m ORMap[V]) Clone() ORMap[V] {
	out := ORMap[V]{ctx: m.ctx.Clone()}
	out.fields, out.order = cloneOrdered(m.fields, m.order, V.cloneStore)
	return out
}

// Equal reports whether m and o are the same state.
func (m ORMap[V]) Equal(o ORMap[V]) bool {
	return m.ctx.Equal(o.ctx) && maps.EqualFunc(m.fields, o.fields, V.equalStore)
}

// IsZero reports whether m has no field and has seen no update.
func (m ORMap[V]) IsZero() bool { return len(m.fields) == 0 && m.ctx.IsZero() }

// AppendBinary appends the encoding of m: header, the kind of its values,
// context, then the fields in sorted order, each with its value's store.
func (m ORMap[V]) AppendBinary(b []byte) []byte {
	var zero V
	b = append(appendHeader(b, KindORMap), byte(zero.kind()))
	b = m.ctx.appendBody(b)
	b = binary.AppendUvarint(b, uint64(len(m.fields)))
	for f, v := range m.order.all(m.fields) {
		b = appendString(b, f)
		b = v.appendStore(b)
	}
	return b
}

// DecodeORMap decodes an encoding written by ORMap[V].AppendBinary; an
// encoding of a map with another value type is an error.
func DecodeORMap[V Embeddable[V]](b []byte) (ORMap[V], error) {
	var zero V
	d := newDecoder(b, KindORMap)
	if k := Kind(d.byte()); d.err == nil && k != zero.kind() {
		d.fail(fmt.Errorf("%w: map of %v, not of %v", ErrKind, k, zero.kind()))
	}
	m := ORMap[V]{ctx: d.context()}
	// A field is at least an empty name and a store with one entry.
	n := d.count(2 + minDotSize)
	if n > 0 {
		m.fields = make(map[string]V, n)
	}
	order := decodeOrder[V](n) // filled as the sorted encoding is read
	var prev string
	var dots []clock.Dot
	for i := range n {
		f := d.string()
		v := zero.decodeStore(d)
		switch {
		case d.err != nil:
		case i > 0 && f <= prev:
			d.invalid("map fields out of order")
		case v.storeEmpty():
			d.invalid("map field %q is empty", f)
		}
		if d.err != nil {
			break
		}
		m.fields[f] = v
		order.push(f, v)
		dots = v.appendStoreDots(dots[:0])
		d.covered(dots, &m.ctx)
		prev = f
	}
	if err := d.finish(KindORMap); err != nil {
		return ORMap[V]{}, err
	}
	m.order = order
	return m, nil
}
