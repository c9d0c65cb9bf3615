package ring

import (
	"encoding/binary"
	"fmt"
)

// Token is a position on the ring: a 64-bit hash. Keys and virtual nodes
// are both hashed to tokens; a key belongs to the first virtual node at or
// after its token, wrapping past the largest token to the smallest.
type Token uint64

// String formats t as 16 hex digits.
func (t Token) String() string { return fmt.Sprintf("%016x", uint64(t)) }

// HashKey returns the token of key. It is the same on every node and in
// every version (see the hazard in doc.go).
func HashKey(key []byte) Token { return Token(xxh64(key, 0)) }

// vnodeTokenLen is the largest input to vnodeToken: an ID and a 4-byte index.
const vnodeTokenLen = MaxNameLen + 4

// vnodeToken returns the token of virtual node i of the node id: the hash
// of the ID's bytes followed by i as 4 big-endian bytes. The index has a
// fixed length, so two different (id, i) pairs never give the same input.
// buf is scratch space of capacity vnodeTokenLen.
func vnodeToken(buf []byte, id NodeID, i uint32) Token {
	buf = append(buf[:0], id...)
	buf = binary.BigEndian.AppendUint32(buf, i)
	return Token(xxh64(buf, 0))
}

// TokenRange is an arc of the ring: the tokens t with Start < t <= End,
// wrapping past the largest token when End < Start. Start == End means the
// whole ring (a ring with a single owner has one such range).
type TokenRange struct {
	// Start is the exclusive lower end: the token of the previous virtual
	// node on the ring.
	Start Token
	// End is the inclusive upper end: the token of the virtual node that
	// owns the arc.
	End Token
	// Primary is the node that owns the arc (Lookup's answer for every key
	// in it). Every key in a range has the same replicas, those of End.
	Primary NodeID
}

// Contains reports whether t lies in the range.
func (r TokenRange) Contains(t Token) bool {
	switch {
	case r.Start == r.End:
		return true
	case r.Start < r.End:
		return r.Start < t && t <= r.End
	default: // wraps past the largest token
		return t > r.Start || t <= r.End
	}
}

// String formats r as "(start, end] primary".
func (r TokenRange) String() string { return fmt.Sprintf("(%v, %v] %s", r.Start, r.End, r.Primary) }
