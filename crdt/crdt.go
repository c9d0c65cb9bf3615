package crdt

import (
	"errors"
	"fmt"
)

// CRDT is the contract that every state type of this package meets: for a
// type T (GCounter, ORSet, ...), *T implements CRDT[T]. Code that replicates
// values of any type (ship a delta, merge what arrives, persist the result)
// can be written once against it.
type CRDT[T any] interface {
	// Merge joins o into the receiver: the least upper bound of the two
	// states. It is commutative, associative and idempotent, never fails,
	// and never keeps a reference to o's storage.
	Merge(o T)
	// Clone returns a deep copy that shares no storage with the receiver.
	Clone() T
	// Equal reports whether the receiver and o are the same state.
	Equal(o T) bool
	// IsZero reports whether the receiver is the bottom state (the zero
	// value), for example an empty delta that need not be shipped.
	IsZero() bool
	// AppendBinary appends the deterministic encoding of the receiver:
	// equal states give equal bytes.
	AppendBinary(b []byte) []byte
}

// Every state type is a CRDT.
var (
	_ CRDT[CausalContext]        = (*CausalContext)(nil)
	_ CRDT[GCounter]             = (*GCounter)(nil)
	_ CRDT[PNCounter]            = (*PNCounter)(nil)
	_ CRDT[LWWRegister]          = (*LWWRegister)(nil)
	_ CRDT[MVRegister]           = (*MVRegister)(nil)
	_ CRDT[ORSet]                = (*ORSet)(nil)
	_ CRDT[CausalCounter]        = (*CausalCounter)(nil)
	_ CRDT[ORMap[MVRegister]]    = (*ORMap[MVRegister])(nil)
	_ CRDT[ORMap[ORSet]]         = (*ORMap[ORSet])(nil)
	_ CRDT[ORMap[CausalCounter]] = (*ORMap[CausalCounter])(nil)
	_ fmt.Stringer               = Kind(0)
	_ fmt.Stringer               = CausalContext{}
)

// Kind names a state type. It is the second byte of every encoding, so a
// reader can tell what an encoded value is (see KindOf).
type Kind uint8

// The kinds of state, in encoding order. The numbers are part of the
// encoding: never renumber, only append.
const (
	KindCausalContext Kind = iota + 1
	KindGCounter
	KindPNCounter
	KindLWWRegister
	KindMVRegister
	KindORSet
	KindCausalCounter
	KindORMap
)

// String returns the type name, e.g. "ORSet".
func (k Kind) String() string {
	switch k {
	case KindCausalContext:
		return "CausalContext"
	case KindGCounter:
		return "GCounter"
	case KindPNCounter:
		return "PNCounter"
	case KindLWWRegister:
		return "LWWRegister"
	case KindMVRegister:
		return "MVRegister"
	case KindORSet:
		return "ORSet"
	case KindCausalCounter:
		return "CausalCounter"
	case KindORMap:
		return "ORMap"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindCausalContext && k <= KindORMap }

// Limits on what a mutator accepts and a decoder allocates. A decoder checks
// every length it reads against these and against the bytes that remain
// before it allocates, so a corrupt or hostile prefix cannot make it allocate
// more than a small multiple of its input.
const (
	// MaxValueSize is the largest element, field name or register value, in
	// bytes. Mutators return ErrTooLarge beyond it. The eventual tier's own
	// value limit must not exceed it.
	MaxValueSize = 16 << 20
	// MaxEntries is the largest number of entries a decoder accepts in one
	// collection (counter entries, set elements, map fields, dots of one
	// element, cloud dots). Merges do not enforce it, so the tier above must
	// bound the size of one value well below it (see the HAZARD in doc.go).
	MaxEntries = 1 << 24
)

// Errors returned by mutators.
var (
	// ErrOverflow is returned by a counter mutator whose result would not
	// fit, and by Value when concurrent updates pushed a counter out of
	// range. The state is never changed by a failed mutator.
	ErrOverflow = errors.New("crdt: counter overflow")
	// ErrTooLarge is returned for a value larger than MaxValueSize, and by a
	// decoder for a length or count beyond MaxValueSize or MaxEntries.
	ErrTooLarge = errors.New("crdt: size limit exceeded")
)

// Errors returned by decoders, wrapped with the kind being decoded.
var (
	ErrTruncated = errors.New("crdt: encoding is truncated")
	ErrVersion   = errors.New("crdt: unknown encoding version")
	ErrKind      = errors.New("crdt: encoding holds another kind of state")
	ErrInvalid   = errors.New("crdt: encoding is not a valid state")
)
