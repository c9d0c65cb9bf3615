package clock

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DVV is a dotted version vector (Preguiça et al.): the clock of one stored
// version of a value. Dot names the write that created the version; Context
// is the version vector of everything the writer had seen. The version's
// causal history is Context's history plus Dot, and Dot may lie past a gap
// (Dot.Counter > Context.Get(Dot.Replica)+1): that is what lets two writes
// coordinated by one replica with the same client context be told apart as
// concurrent instead of one silently replacing the other.
//
// A well-formed DVV has Dot.Counter > Context.Get(Dot.Replica) (see
// Validate). Comparisons assume the DVVs come from this protocol (Event or
// Put at a coordinator), whose histories are closed under happened-before:
// a version's history then contains another's exactly when it contains the
// other's dot, which makes every comparison one lookup.
type DVV struct {
	// Dot is the write that created this version.
	Dot Dot
	// Context is what the writer had seen: the causal context of its read.
	Context VersionVector
}

// Errors returned by DVV.Validate and DecodeDVV.
var (
	ErrDVVTruncated = errors.New("clock: dotted version vector encoding is truncated")
	ErrDVVInvalid   = errors.New("clock: invalid dotted version vector")
)

// Covers reports whether event x is in d's causal history.
func (d DVV) Covers(x Dot) bool { return x == d.Dot || d.Context.Contains(x) }

// Descends reports whether d's history includes o's: d is o or a later
// version that was written by someone who had seen o.
func (d DVV) Descends(o DVV) bool { return d.Covers(o.Dot) }

// Compare returns how d relates to o: Equal for the same version, Before if o
// supersedes d, After if d supersedes o, and Concurrent if neither has seen
// the other (both must be kept, as siblings).
func (d DVV) Compare(o DVV) Ordering {
	switch {
	case d.Dot == o.Dot:
		return Equal
	case o.Covers(d.Dot):
		return Before
	case d.Covers(o.Dot):
		return After
	}
	return Concurrent
}

// ObsoletedBy reports whether a client that presents context ctx has seen
// this version, so that the client's write supersedes it.
func (d DVV) ObsoletedBy(ctx VersionVector) bool { return ctx.Contains(d.Dot) }

// History returns d's causal history as a version vector: Context with Dot
// added. Where Dot lies past a gap the vector claims the gap too; see the
// HAZARD on whole-set replication in the package documentation.
func (d DVV) History() VersionVector {
	h := d.Context.Clone()
	h.Witness(d.Dot)
	return h
}

// Validate returns an error wrapping ErrDVVInvalid unless d names a real
// event (Counter > 0) that its own context does not already contain.
func (d DVV) Validate() error {
	if d.Dot.Counter == 0 {
		return fmt.Errorf("%w: dot %s has counter 0", ErrDVVInvalid, d.Dot)
	}
	if d.Context.Contains(d.Dot) {
		return fmt.Errorf("%w: context %s already contains dot %s", ErrDVVInvalid, d.Context, d.Dot)
	}
	return nil
}

// String formats d as (replica:counter, {context}).
func (d DVV) String() string { return fmt.Sprintf("(%s, %s)", d.Dot, d.Context) }

// AppendBinary appends the compact encoding of d: the dot's replica and
// counter as uvarints, then the context as VersionVector.AppendBinary writes
// it.
func (d DVV) AppendBinary(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(d.Dot.Replica))
	b = binary.AppendUvarint(b, d.Dot.Counter)
	return d.Context.AppendBinary(b)
}

// DecodeDVV decodes one DVV from the front of b and returns it with the
// number of bytes consumed. Bad or non-canonical input, or a DVV that fails
// Validate, yields an error, never a panic.
func DecodeDVV(b []byte) (DVV, int, error) {
	r, off := uvarint(b)
	if off <= 0 {
		return DVV{}, 0, uvarintError(off, ErrDVVTruncated, ErrDVVInvalid)
	}
	c, k := uvarint(b[off:])
	if k <= 0 {
		return DVV{}, 0, uvarintError(k, ErrDVVTruncated, ErrDVVInvalid)
	}
	off += k
	ctx, k, err := DecodeVersionVector(b[off:])
	if err != nil {
		return DVV{}, 0, fmt.Errorf("clock: dotted version vector context: %w", err)
	}
	off += k
	d := DVV{Dot: Dot{Replica: ReplicaID(r), Counter: c}, Context: ctx}
	if err := d.Validate(); err != nil {
		return DVV{}, 0, err
	}
	return d, off, nil
}
