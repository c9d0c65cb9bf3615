package crdt

import (
	"encoding/binary"
	"fmt"

	"github.com/cairndb/cairn/clock"
)

// Every encoding starts with a two-byte header: the format version, then the
// Kind. An ORMap adds a third byte, the Kind of its values. Integers are
// uvarints (zigzag varints where signed); byte strings are a uvarint length
// then the bytes; sorted lists of dots store each replica ID as the uvarint
// difference from the previous one. Decoders accept only this canonical
// form (sorted, compact, shortest uvarints), so a state has exactly one
// encoding: decoding then encoding gives back the input bytes.
const (
	encodingVersion byte = 1
	headerSize           = 2
)

// KindOf returns the kind of state encoded in b, so that a reader can pick
// the decoder. It checks only the header.
func KindOf(b []byte) (Kind, error) {
	if len(b) < headerSize {
		return 0, ErrTruncated
	}
	if b[0] != encodingVersion {
		return 0, ErrVersion
	}
	k := Kind(b[1])
	if !k.valid() {
		return 0, fmt.Errorf("%w: unknown kind %d", ErrInvalid, b[1])
	}
	return k, nil
}

func appendHeader(b []byte, k Kind) []byte { return append(b, encodingVersion, byte(k)) }

func appendBytes(b []byte, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendDotList appends a count and the sorted dots.
func appendDotList(b []byte, dots []clock.Dot) []byte {
	b = binary.AppendUvarint(b, uint64(len(dots)))
	var prev clock.ReplicaID
	for _, d := range dots {
		b = appendDot(b, d, prev)
		prev = d.Replica
	}
	return b
}

// appendDot appends d with its replica as a difference from prev, the
// replica of the dot before it in a sorted list.
func appendDot(b []byte, d clock.Dot, prev clock.ReplicaID) []byte {
	b = binary.AppendUvarint(b, uint64(d.Replica-prev))
	return binary.AppendUvarint(b, d.Counter)
}

// minDotSize is the smallest encoding of a dot: two one-byte uvarints.
const minDotSize = 2

// decoder reads an encoding front to back. The first error sticks: every
// later read returns a zero value, so decoding functions check d.err once
// at the end (and wherever a bad value would make them loop or allocate).
type decoder struct {
	b   []byte
	err error
}

// newDecoder checks the header of b for kind k.
func newDecoder(b []byte, k Kind) *decoder {
	d := &decoder{b: b}
	got, err := KindOf(b)
	switch {
	case err != nil:
		d.fail(err)
	case got != k:
		d.fail(fmt.Errorf("%w: %v", ErrKind, got))
	default:
		d.b = b[headerSize:]
	}
	return d
}

// finish returns the decoding error, if any, wrapped with the kind; bytes
// left over are an error too.
func (d *decoder) finish(k Kind) error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%w: %d trailing bytes", ErrInvalid, len(d.b)))
	}
	if d.err != nil {
		return fmt.Errorf("decoding %v: %w", k, d.err)
	}
	return nil
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) invalid(format string, args ...any) {
	d.fail(fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...)))
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail(ErrTruncated)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// uvarint reads a uvarint in its shortest form. Accepting longer forms
// would give one state several encodings.
func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	var buf [binary.MaxVarintLen64]byte
	switch {
	case n == 0:
		d.fail(ErrTruncated)
		return 0
	case n < 0:
		d.invalid("uvarint overflows 64 bits")
		return 0
	case n != binary.PutUvarint(buf[:], v):
		d.invalid("uvarint not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a zigzag varint in its shortest form.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a collection length, bounded by MaxEntries and by the number
// of entries of at least minSize bytes that the rest of the input can hold,
// so that the caller may allocate that many.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	switch {
	case d.err != nil:
		return 0
	case n > MaxEntries:
		d.fail(fmt.Errorf("%w: %d entries", ErrTooLarge, n))
		return 0
	case n > uint64(len(d.b)/minSize):
		d.fail(ErrTruncated)
		return 0
	}
	return int(n)
}

// length reads a byte-string length bounded by MaxValueSize and the input.
func (d *decoder) length() int {
	n := d.uvarint()
	switch {
	case d.err != nil:
		return 0
	case n > MaxValueSize:
		d.fail(fmt.Errorf("%w: %d bytes", ErrTooLarge, n))
		return 0
	case n > uint64(len(d.b)):
		d.fail(ErrTruncated)
		return 0
	}
	return int(n)
}

// bytes reads a byte string into new storage; an empty string is nil.
func (d *decoder) bytes() []byte {
	n := d.length()
	if n == 0 {
		return nil
	}
	v := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.length()
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *decoder) timestamp() clock.Timestamp {
	if len(d.b) < clock.TimestampSize {
		d.fail(ErrTruncated)
		return clock.Timestamp{}
	}
	ts, err := clock.DecodeTimestamp(d.b[:clock.TimestampSize])
	if err != nil {
		d.fail(err)
		return clock.Timestamp{}
	}
	d.b = d.b[clock.TimestampSize:]
	return ts
}

func (d *decoder) versionVector() clock.VersionVector {
	if d.err != nil {
		return clock.VersionVector{}
	}
	vv, n, err := clock.DecodeVersionVector(d.b)
	if err != nil {
		d.fail(err)
		return clock.VersionVector{}
	}
	d.b = d.b[n:]
	return vv
}

// dot reads a dot written by appendDot after a dot of replica prev; it must
// sort strictly after prev unless it is the first dot of its list.
func (d *decoder) dot(prev clock.Dot, first bool) clock.Dot {
	delta := d.uvarint()
	c := d.uvarint()
	if d.err != nil {
		return clock.Dot{}
	}
	r := prev.Replica + clock.ReplicaID(delta)
	dot := clock.Dot{Replica: r, Counter: c}
	switch {
	case r < prev.Replica:
		d.invalid("replica ID overflows")
	case c == 0:
		d.invalid("dot %v has counter 0", dot)
	case !first && compareDots(prev, dot) >= 0:
		d.invalid("dots out of order: %v then %v", prev, dot)
	}
	return dot
}

// dotList reads a list written by appendDotList: strictly sorted dots with
// nonzero counters.
func (d *decoder) dotList() []clock.Dot {
	n := d.count(minDotSize)
	if n == 0 {
		return nil
	}
	dots := make([]clock.Dot, 0, n)
	var prev clock.Dot
	for i := range n {
		prev = d.dot(prev, i == 0)
		if d.err != nil {
			return nil
		}
		dots = append(dots, prev)
	}
	return dots
}

func appendUvarintLen(b []byte, n int) []byte { return binary.AppendUvarint(b, uint64(n)) }

// decodeCausal decodes a causal CRDT written as header, context, store, and
// checks that the context covers every dot of the store.
func decodeCausal[V Embeddable[V]](b []byte) (V, error) {
	var zero V
	k := zero.kind()
	d := newDecoder(b, k)
	ctx := d.context()
	v := zero.decodeStore(d)
	d.covered(v.appendStoreDots(nil), &ctx)
	if err := d.finish(k); err != nil {
		return zero, err
	}
	return v.withContext(ctx), nil
}

// covered checks that c has seen every dot of a decoded store: the
// invariant of a causal CRDT, without which a join would misread a dot the
// store holds as one the context never saw.
func (d *decoder) covered(dots []clock.Dot, c *CausalContext) {
	if d.err != nil {
		return
	}
	for _, x := range dots {
		if !c.Contains(x) {
			d.invalid("dot %v is not in the causal context", x)
			return
		}
	}
}
