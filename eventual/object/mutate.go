package object

import (
	"strconv"

	"github.com/cairndb/cairn/clock"

	"github.com/cairndb/cairn/crdt"
)

// prepare readies x for a write of kind k at st and returns the delta of
// what it changed: a key past its deadline is deleted first; a visible key
// of another kind fails with ErrWrongType unless overwrite is set (SET
// overwrites any type; INCR turns a string into a counter); the data of
// every other kind is removed, and so is leftover data of k if k was not
// present; finally k is recorded as the key's kind.
func (x *Object) prepare(st Stamp, k Kind, overwrite bool) (Object, error) {
	now := st.nowMs()
	cur := x.Kind(now)
	if cur != None && cur != k && !overwrite && !(k == Counter && cur == String) {
		return Object{}, ErrWrongType
	}
	var d Object
	if x.rawKind() != None && cur == None {
		d.Merge(x.deleteAll(st))
	}
	for j := String; j <= Hash; j++ {
		if j == k && x.kinds.Contains(j.tag()) {
			continue
		}
		// Merging a zero delta changes nothing but costs a full merge of
		// every slot: skip it (the common case, a write of the key's own
		// kind, removes nothing).
		if rm := x.kinds.Remove(j.tag()); !rm.IsZero() {
			d.kinds.Merge(rm)
		}
		if c := x.clearData(j); !c.IsZero() {
			d.Merge(c)
		}
	}
	add, err := x.kinds.Add(st.Replica, k.tag())
	if err != nil {
		return Object{}, err
	}
	d.kinds.Merge(add)
	typ, err := x.typ.Set(st.Replica, st.TS, []byte(k.tag()))
	if err != nil {
		return Object{}, err
	}
	d.typ.Merge(typ)
	return d, nil
}

// clearData removes the data of kind k that x has seen. Strings need
// nothing: the next SET's later timestamp replaces the value, and a hidden
// value is never shown.
func (x *Object) clearData(k Kind) Object {
	var d Object
	switch k {
	case Counter:
		if !x.ctr.IsZero() {
			d.ctr = x.ctr.Reset()
		}
	case Set:
		if x.set.Len() > 0 {
			d.set = x.set.Clear()
		}
	case Hash:
		if x.hash.Len() > 0 {
			d.hash = x.hash.Clear()
		}
	}
	return d
}

// deleteAll removes every kind and all data x has seen, and its TTL.
func (x *Object) deleteAll(st Stamp) Object {
	var d Object
	d.kinds = x.kinds.Clear()
	for k := Counter; k <= Hash; k++ {
		if c := x.clearData(k); !c.IsZero() {
			d.Merge(c)
		}
	}
	if t, err := x.clearTTL(st); err == nil { // a nil value is never too large
		d.ttl = t
	}
	return d
}

// clearTTL replaces the deadlines x has seen with "no expiry", if it has any.
func (x *Object) clearTTL(st Stamp) (crdt.MVRegister, error) {
	if x.ttl.Len() == 0 {
		return crdt.MVRegister{}, nil
	}
	if _, ok := x.Deadline(); !ok && x.ttl.Len() == 1 {
		return crdt.MVRegister{}, nil // already "no expiry"
	}
	return x.ttl.Write(st.Replica, st.TS, nil)
}

// SetOptions are the modifiers of SET that change the stored state.
type SetOptions struct {
	// DeadlineMs, if positive, is the expiry in Unix milliseconds (EX, PX,
	// EXAT, PXAT already converted).
	DeadlineMs int64
	// KeepTTL keeps the key's current expiry (KEEPTTL).
	KeepTTL bool
}

// Set writes a string value, whatever the key held before, and returns the
// delta. Without KeepTTL it replaces the expiry with opts.DeadlineMs (or
// none).
func (x *Object) Set(st Stamp, value []byte, opts SetOptions) (Object, error) {
	if len(value) > MaxValueBytes {
		return Object{}, ErrTooLarge
	}
	d, err := x.prepare(st, String, true)
	if err != nil {
		return Object{}, err
	}
	s, err := x.str.Set(st.Replica, st.TS, value)
	if err != nil {
		return Object{}, err
	}
	d.str.Merge(s)
	if !opts.KeepTTL {
		var t crdt.MVRegister
		if opts.DeadlineMs > 0 {
			t, err = x.ttl.Write(st.Replica, st.TS, encodeDeadline(opts.DeadlineMs))
		} else {
			t, err = x.clearTTL(st)
		}
		if err != nil {
			return Object{}, err
		}
		d.ttl.Merge(t)
	}
	return d, nil
}

// Del deletes the key and reports whether it existed. Writes concurrent
// with the delete, which it has not seen, survive it.
func (x *Object) Del(st Stamp) (Object, bool) {
	existed := x.Visible(st.nowMs())
	if x.rawKind() == None {
		return Object{}, existed
	}
	return x.deleteAll(st), existed
}

// Incr adds by to a counter (or to a string that holds a base-10 int64,
// which becomes a counter) and returns the delta and the new value. A
// missing key starts at 0.
func (x *Object) Incr(st Stamp, by int64) (Object, int64, error) {
	now := st.nowMs()
	var base int64
	switch x.Kind(now) {
	case String:
		v, err := strconv.ParseInt(string(x.str.Value()), 10, 64)
		if err != nil {
			return Object{}, 0, ErrNotInteger
		}
		base = v
	case Counter:
		v, err := x.ctr.Value()
		if err != nil {
			return Object{}, 0, ErrNotInteger
		}
		base = v
	case None:
	default:
		return Object{}, 0, ErrWrongType
	}
	sum := base + by
	if (by > 0 && sum < base) || (by < 0 && sum > base) {
		return Object{}, 0, ErrOverflow
	}
	fromString := x.Kind(now) == String
	d, err := x.prepare(st, Counter, false)
	if err != nil {
		return Object{}, 0, err
	}
	add := by
	if fromString {
		add = sum // the counter starts empty: carry the string's value over
	}
	c, err := x.ctr.Add(st.Replica, add)
	if err != nil {
		return Object{}, 0, ErrOverflow
	}
	d.ctr.Merge(c)
	v, err := x.ctr.Value()
	if err != nil {
		return Object{}, 0, ErrNotInteger
	}
	return d, v, nil
}

// SAdd adds members to a set key and returns the delta and how many were
// not members before.
func (x *Object) SAdd(st Stamp, members ...string) (Object, int, error) {
	for _, m := range members {
		if len(m) > MaxValueBytes {
			return Object{}, 0, ErrTooLarge
		}
	}
	d, err := x.prepare(st, Set, false)
	if err != nil {
		return Object{}, 0, err
	}
	// prepare emptied the set of a key that did not exist.
	added := 0
	for _, m := range members {
		if !x.set.Contains(m) {
			added++
		}
		a, err := x.set.Add(st.Replica, m)
		if err != nil {
			return Object{}, 0, err
		}
		d.set.Merge(a)
	}
	return d, added, nil
}

// SRem removes members from a set key and returns the delta and how many
// were members. A set left empty is deleted, as in Redis.
func (x *Object) SRem(st Stamp, members ...string) (Object, int, error) {
	switch x.Kind(st.nowMs()) {
	case None:
		return Object{}, 0, nil
	case Set:
	default:
		return Object{}, 0, ErrWrongType
	}
	var d Object
	removed := 0
	for _, m := range members {
		if x.set.Contains(m) {
			removed++
			d.set.Merge(x.set.Remove(m))
		}
	}
	if x.set.Len() == 0 {
		del, _ := x.Del(st)
		d.Merge(del)
	}
	return d, removed, nil
}

// HSet sets hash fields (name, value pairs) and returns the delta and how
// many fields were new.
func (x *Object) HSet(st Stamp, fields ...Field) (Object, int, error) {
	for _, f := range fields {
		if len(f.Name) > MaxValueBytes || len(f.Value) > MaxValueBytes {
			return Object{}, 0, ErrTooLarge
		}
	}
	d, err := x.prepare(st, Hash, false)
	if err != nil {
		return Object{}, 0, err
	}
	// prepare emptied the hash of a key that did not exist.
	added := 0
	for _, f := range fields {
		if _, ok := x.hash.Get(f.Name); !ok {
			added++
		}
		value := f.Value
		h, err := x.hash.Apply(f.Name, func(v *crdt.MVRegister) (crdt.MVRegister, error) {
			return v.Write(st.Replica, st.TS, value)
		})
		if err != nil {
			return Object{}, 0, err
		}
		d.hash.Merge(h)
	}
	return d, added, nil
}

// HDel removes hash fields and returns the delta and how many existed. A
// hash left empty is deleted, as in Redis.
func (x *Object) HDel(st Stamp, fields ...string) (Object, int, error) {
	switch x.Kind(st.nowMs()) {
	case None:
		return Object{}, 0, nil
	case Hash:
	default:
		return Object{}, 0, ErrWrongType
	}
	var d Object
	removed := 0
	for _, f := range fields {
		if _, ok := x.hash.Get(f); ok {
			removed++
			d.hash.Merge(x.hash.Remove(f))
		}
	}
	if x.hash.Len() == 0 {
		del, _ := x.Del(st)
		d.Merge(del)
	}
	return d, removed, nil
}

// Expire sets the key's deadline (Unix milliseconds) and reports whether
// the key exists. A deadline not after the stamp deletes the key, as
// EXPIRE with a past time does in Redis.
func (x *Object) Expire(st Stamp, deadlineMs int64) (Object, bool, error) {
	if !x.Visible(st.nowMs()) {
		return Object{}, false, nil
	}
	if deadlineMs <= st.nowMs() {
		d, _ := x.Del(st)
		return d, true, nil
	}
	t, err := x.ttl.Write(st.Replica, st.TS, encodeDeadline(deadlineMs))
	if err != nil {
		return Object{}, false, err
	}
	return Object{ttl: t}, true, nil
}

// Persist removes the key's deadline and reports whether it had one.
func (x *Object) Persist(st Stamp) (Object, bool, error) {
	if !x.Visible(st.nowMs()) {
		return Object{}, false, nil
	}
	if _, ok := x.Deadline(); !ok {
		return Object{}, false, nil
	}
	t, err := x.ttl.Write(st.Replica, st.TS, nil)
	if err != nil {
		return Object{}, false, err
	}
	return Object{ttl: t}, true, nil
}

// SetCommitted installs a value chosen by the Paxos compare-and-set (a
// present value, or absence) with the LWW order of the operation that chose
// it: ts and writer come from its ballot, so every replica orders
// successive chosen values the same way whatever its own clock says. st
// (this replica's ID and clock) is used for the causal parts.
func (x *Object) SetCommitted(st Stamp, ts clock.Timestamp, writer clock.ReplicaID, value []byte, present bool, deadlineMs int64) (Object, error) {
	if !present {
		d, _ := x.Del(st)
		return d, nil
	}
	if len(value) > MaxValueBytes {
		return Object{}, ErrTooLarge
	}
	d, err := x.prepare(st, String, true)
	if err != nil {
		return Object{}, err
	}
	s, err := x.str.Set(writer, ts, value)
	if err != nil {
		return Object{}, err
	}
	d.str.Merge(s)
	var t crdt.MVRegister
	if deadlineMs > 0 {
		t, err = x.ttl.Write(st.Replica, st.TS, encodeDeadline(deadlineMs))
	} else {
		t, err = x.clearTTL(st)
	}
	if err != nil {
		return Object{}, err
	}
	d.ttl.Merge(t)
	return d, nil
}
