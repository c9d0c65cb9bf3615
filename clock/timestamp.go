package clock

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Timestamp is a hybrid logical clock reading: a physical wall time in
// nanoseconds since the Unix epoch and a logical counter that orders events
// sharing the same wall time. It is not an MVCC revision and not a Lamport
// time: those have their own types.
//
// Timestamps are totally ordered by (WallTime, Logical). The zero Timestamp
// is "unset" and sorts before every real reading.
type Timestamp struct {
	// WallTime is the physical component, in nanoseconds since the Unix epoch.
	WallTime int64
	// Logical orders events that share WallTime.
	Logical uint32
}

// TimestampSize is the length of Timestamp's binary encoding.
const TimestampSize = 12

// ErrTimestampSize is returned when decoding a buffer of the wrong length.
var ErrTimestampSize = errors.New("clock: encoded timestamp must be 12 bytes")

// IsZero reports whether t is the unset timestamp.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// Compare returns -1 if t sorts before u, +1 if after, and 0 if equal.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.WallTime < u.WallTime:
		return -1
	case t.WallTime > u.WallTime:
		return 1
	case t.Logical < u.Logical:
		return -1
	case t.Logical > u.Logical:
		return 1
	}
	return 0
}

// Less reports whether t sorts strictly before u.
func (t Timestamp) Less(u Timestamp) bool { return t.Compare(u) < 0 }

// String formats t as wall.logical, e.g. "1700000000000000000.3".
func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallTime, t.Logical) }

// AppendBinary appends the 12-byte encoding of t to b. The encoding is
// big-endian with the sign bit of WallTime flipped, so that comparing two
// encodings byte by byte gives the same order as Compare (useful as a key
// suffix in an ordered store).
func (t Timestamp) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.WallTime)^(1<<63))
	return binary.BigEndian.AppendUint32(b, t.Logical)
}

// DecodeTimestamp decodes the 12-byte encoding written by AppendBinary.
func DecodeTimestamp(b []byte) (Timestamp, error) {
	if len(b) != TimestampSize {
		return Timestamp{}, ErrTimestampSize
	}
	return Timestamp{
		WallTime: int64(binary.BigEndian.Uint64(b) ^ (1 << 63)),
		Logical:  binary.BigEndian.Uint32(b[8:]),
	}, nil
}
