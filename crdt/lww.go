package crdt

import (
	"bytes"
	"cmp"
	"encoding/binary"

	"github.com/cairndb/cairn/clock"
)

// LWWRegister is a last-writer-wins register (Shapiro et al. 2011): it
// holds the value of the write that sorts last by hybrid logical clock
// timestamp, then by the writing replica's ID, then by the bytes of the
// value. Timestamps and replica IDs make writes unique in practice; the
// bytes make merge deterministic even for two writes that share both.
//
// Concurrent writes are not kept: the one with the lower timestamp is lost,
// which is what "last writer wins" means. The order is only as meaningful as
// the clocks behind the timestamps (see the HAZARD in doc.go); MVRegister
// keeps concurrent writes instead.
//
// The zero value is the unset register. A write with the zero timestamp by
// replica 0 of an empty value cannot be told from it, and a real hybrid
// logical clock never reads zero.
type LWWRegister struct {
	ts      clock.Timestamp
	replica clock.ReplicaID
	value   []byte // nil when empty
}

// Set writes value on replica r, which must be the local replica, at
// timestamp ts, which should come from the local hybrid logical clock. It
// returns the delta: the write as a register of its own. If the register
// already holds a write that sorts after this one, the write loses at once
// and the register is unchanged; the delta is still valid (merging it
// anywhere is harmless). It returns ErrTooLarge if value is larger than
// MaxValueSize. The register keeps a copy of value.
func (l *LWWRegister) Set(r clock.ReplicaID, ts clock.Timestamp, value []byte) (LWWRegister, error) {
	if len(value) > MaxValueSize {
		return LWWRegister{}, ErrTooLarge
	}
	delta := LWWRegister{ts: ts, replica: r, value: bytes.Clone(value)}
	if len(delta.value) == 0 {
		delta.value = nil
	}
	l.Merge(delta)
	return delta, nil
}

// Value returns a copy of the winning write's value (nil if it is empty or
// the register is unset; IsZero tells those apart).
func (l LWWRegister) Value() []byte { return bytes.Clone(l.value) }

// Timestamp returns the timestamp of the winning write.
func (l LWWRegister) Timestamp() clock.Timestamp { return l.ts }

// Replica returns the replica that made the winning write.
func (l LWWRegister) Replica() clock.ReplicaID { return l.replica }

// compare orders writes: timestamp, then replica, then value bytes.
func (l LWWRegister) compare(o LWWRegister) int {
	if c := l.ts.Compare(o.ts); c != 0 {
		return c
	}
	if c := cmp.Compare(l.replica, o.replica); c != 0 {
		return c
	}
	return bytes.Compare(l.value, o.value)
}

// Merge keeps the write that sorts last.
func (l *LWWRegister) Merge(o LWWRegister) {
	if o.compare(*l) > 0 {
		*l = o.Clone()
	}
}

// Clone returns a copy that shares no storage with l.
func (l LWWRegister) Clone() LWWRegister {
	l.value = bytes.Clone(l.value)
	return l
}

// Equal reports whether l and o hold the same write.
func (l LWWRegister) Equal(o LWWRegister) bool { return l.compare(o) == 0 }

// IsZero reports whether the register is unset.
func (l LWWRegister) IsZero() bool { return l.Equal(LWWRegister{}) }

// AppendBinary appends the encoding of l: header, timestamp, replica, value.
func (l LWWRegister) AppendBinary(b []byte) []byte {
	b = appendHeader(b, KindLWWRegister)
	b = l.ts.AppendBinary(b)
	b = binary.AppendUvarint(b, uint64(l.replica))
	return appendBytes(b, l.value)
}

// DecodeLWWRegister decodes an encoding written by LWWRegister.AppendBinary.
func DecodeLWWRegister(b []byte) (LWWRegister, error) {
	d := newDecoder(b, KindLWWRegister)
	l := LWWRegister{ts: d.timestamp(), replica: clock.ReplicaID(d.uvarint()), value: d.bytes()}
	if err := d.finish(KindLWWRegister); err != nil {
		return LWWRegister{}, err
	}
	return l, nil
}
