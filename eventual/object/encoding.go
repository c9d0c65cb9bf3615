package object

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/crdt"
)

// encodingVersion is the first byte of every encoded Object.
const encodingVersion = 1

// MaxEncodedSize bounds an encoded Object that Decode accepts: a key's whole
// state, all slots included.
const MaxEncodedSize = 64 << 20

// ErrCorrupt wraps every Decode failure.
var ErrCorrupt = errors.New("object: corrupt encoding")

// The slots, in encoding order; bit i of the presence byte is slot i.
const (
	slotKinds = iota
	slotType
	slotString
	slotCounter
	slotSet
	slotHash
	slotTTL
	numSlots
)

// AppendBinary appends x's canonical encoding to b: equal Objects give equal
// bytes.
func (x Object) AppendBinary(b []byte) []byte {
	b = append(b, encodingVersion)
	presentAt := len(b)
	b = append(b, 0)
	var present byte
	put := func(slot int, zero bool, enc func([]byte) []byte) {
		if zero {
			return
		}
		present |= 1 << slot
		b = appendPrefixed(b, enc)
	}
	put(slotKinds, x.kinds.IsZero(), x.kinds.AppendBinary)
	put(slotType, x.typ.IsZero(), x.typ.AppendBinary)
	put(slotString, x.str.IsZero(), x.str.AppendBinary)
	put(slotCounter, x.ctr.IsZero(), x.ctr.AppendBinary)
	put(slotSet, x.set.IsZero(), x.set.AppendBinary)
	put(slotHash, x.hash.IsZero(), x.hash.AppendBinary)
	put(slotTTL, x.ttl.IsZero(), x.ttl.AppendBinary)
	b[presentAt] = present
	return b
}

// appendPrefixed appends what enc appends, preceded by its length as a
// uvarint. The body is encoded in place and moved up by the length's size,
// rather than encoded into a buffer of its own and copied.
func appendPrefixed(b []byte, enc func([]byte) []byte) []byte {
	start := len(b)
	b = enc(b)
	n := len(b) - start
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	b = append(b, pre[:k]...)
	copy(b[start+k:], b[start:start+n])
	copy(b[start:], pre[:k])
	return b
}

// Decode decodes an encoding written by AppendBinary. It never keeps b.
func Decode(b []byte) (Object, error) {
	var x Object
	if len(b) > MaxEncodedSize {
		return x, fmt.Errorf("%w: %d bytes, more than %d", ErrCorrupt, len(b), MaxEncodedSize)
	}
	if len(b) < 2 {
		return x, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != encodingVersion {
		return x, fmt.Errorf("%w: version %d", ErrCorrupt, b[0])
	}
	present := b[1]
	if present>>numSlots != 0 {
		return x, fmt.Errorf("%w: unknown slots %#x", ErrCorrupt, present)
	}
	b = b[2:]
	for slot := range numSlots {
		if present&(1<<slot) == 0 {
			continue
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return Object{}, fmt.Errorf("%w: slot %d length", ErrCorrupt, slot)
		}
		body := b[k : k+int(n)]
		b = b[k+int(n):]
		if err := x.decodeSlot(slot, body); err != nil {
			return Object{}, fmt.Errorf("%w: slot %d: %v", ErrCorrupt, slot, err)
		}
	}
	if len(b) != 0 {
		return Object{}, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b))
	}
	return x, nil
}

func (x *Object) decodeSlot(slot int, body []byte) error {
	var err error
	var zero bool
	switch slot {
	case slotKinds:
		x.kinds, err = crdt.DecodeORSet(body)
		zero = x.kinds.IsZero()
	case slotType:
		x.typ, err = crdt.DecodeLWWRegister(body)
		zero = x.typ.IsZero()
	case slotString:
		x.str, err = crdt.DecodeLWWRegister(body)
		zero = x.str.IsZero()
	case slotCounter:
		x.ctr, err = crdt.DecodeCausalCounter(body)
		zero = x.ctr.IsZero()
	case slotSet:
		x.set, err = crdt.DecodeORSet(body)
		zero = x.set.IsZero()
	case slotHash:
		x.hash, err = crdt.DecodeORMap[crdt.MVRegister](body)
		zero = x.hash.IsZero()
	case slotTTL:
		x.ttl, err = crdt.DecodeMVRegister(body)
		zero = x.ttl.IsZero()
	}
	if err == nil && zero {
		err = errors.New("a present slot holds the zero state") // not canonical
	}
	return err
}
