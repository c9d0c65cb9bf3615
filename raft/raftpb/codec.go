package raftpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The wire codec: a compact, canonical binary encoding of Message, Entry,
// HardState and Snapshot (with its SnapshotMetadata and ConfState), for the
// transport and for durable storage.
//
// Every top-level encoding starts with the format byte codecVersion. Integers
// are minimal uvarints; byte strings are a uvarint length and the bytes;
// lists are a uvarint count and the elements. Layouts (version 1):
//
//	Message   = version type flags(reject=1, snapshot=2)
//	            from to term logTerm index commit rejectHint   (uvarints)
//	            context(bytes) count entry... [snapshot]
//	Entry     = version entry
//	entry     = type term index data(bytes)
//	HardState = version term vote commit
//	Snapshot  = version snapshot
//	snapshot  = index term confState data(bytes)
//	confState = flags(autoLeave=1) voters learners votersOutgoing learnersNext
//	            (each a count and uvarint IDs)
//
// Canonical: each value has exactly one encoding, and a decoder accepts only
// that encoding (minimal varints, known flag bits and enum values, no
// trailing bytes), so decode→encode returns the input bytes. Empty byte
// strings and lists decode as nil, so a value holding a non-nil empty slice
// comes back with nil; a nil *Snapshot and a present empty one differ.

// codecVersion is the format byte of every top-level encoding.
const codecVersion = 1

// Limits on decoded counts. Every count is also bounded by the bytes left in
// the input (each element takes at least one byte), so decoding allocates at
// most a small constant factor of the input size.
const (
	// MaxEntriesPerMessage bounds Message.Entries. The core sends at most
	// MaxSizePerMsg bytes of entries (1 MiB by default, at least 24 bytes
	// each by Entry.Size, so about 44k entries); 1<<20 leaves room for
	// larger configured limits while capping a hostile count.
	MaxEntriesPerMessage = 1 << 20
	// MaxConfStateIDs bounds each ID list of a ConfState: clusters have a
	// handful of members, and 65536 is far beyond any real configuration.
	MaxConfStateIDs = 1 << 16
)

// Sizes of the smallest encodings, used to bound counts by remaining bytes.
const (
	minEntryBytes = 4 // type, term, index, data length
	minIDBytes    = 1
)

// Message flag bits.
const (
	msgFlagReject   = 1 << 0
	msgFlagSnapshot = 1 << 1
	msgFlagsKnown   = msgFlagReject | msgFlagSnapshot
)

// ConfState flag bits.
const (
	confFlagAutoLeave = 1 << 0
	confFlagsKnown    = confFlagAutoLeave
)

// ErrMalformed is matched (errors.Is) by every decoding error of this codec.
var ErrMalformed = errors.New("raftpb: malformed encoding")

// DecodeError describes why and where a decoder rejected its input.
// errors.Is(err, ErrMalformed) holds for every DecodeError.
type DecodeError struct {
	// Kind is the top-level type being decoded ("Message", "Entry", ...).
	Kind string
	// Field is the field being read when decoding failed.
	Field string
	// Offset is the byte offset in the input where that field starts.
	Offset int
	// Reason says what was wrong.
	Reason string
}

// Error formats the error with its location.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("raftpb: malformed %s: %s at byte %d: %s", e.Kind, e.Field, e.Offset, e.Reason)
}

// Is reports whether target is ErrMalformed.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// AppendMessage appends the encoding of m to dst and returns the extended
// slice. It does not validate m: a value with an unknown Type or EntryType
// encodes, but UnmarshalMessage rejects it.
func AppendMessage(dst []byte, m Message) []byte {
	dst = slices.Grow(dst, messageSizeBound(m))
	var flags byte
	if m.Reject {
		flags |= msgFlagReject
	}
	if m.Snapshot != nil {
		flags |= msgFlagSnapshot
	}
	dst = append(dst, codecVersion, byte(m.Type), flags)
	for _, v := range [...]uint64{m.From, m.To, m.Term, m.LogTerm, m.Index, m.Commit, m.RejectHint} {
		dst = binary.AppendUvarint(dst, v)
	}
	dst = appendBytes(dst, m.Context)
	dst = binary.AppendUvarint(dst, uint64(len(m.Entries)))
	for i := range m.Entries {
		dst = appendEntryBody(dst, &m.Entries[i])
	}
	if m.Snapshot != nil {
		dst = appendSnapshotBody(dst, m.Snapshot)
	}
	return dst
}

// UnmarshalMessage decodes the output of AppendMessage. Bad input returns a
// *DecodeError (matching ErrMalformed); it never panics.
//
// Aliasing: Context, every Entry.Data and Snapshot.Data alias b (they are
// sub-slices capped at their length, so appending to them copies). The
// caller must not modify b afterwards; the transport hands each received
// message a fresh buffer, so decoding copies no payload.
func UnmarshalMessage(b []byte) (Message, error) {
	d := decoder{kind: "Message", b: b}
	d.version()
	m := Message{Type: MessageType(d.byte("type"))}
	if d.err == nil && !m.Type.Valid() {
		d.failAt(d.off-1, "type", fmt.Sprintf("unknown message type %d", m.Type))
	}
	flags := d.flags("flags", msgFlagsKnown)
	m.Reject = flags&msgFlagReject != 0
	m.From = d.uvarint("from")
	m.To = d.uvarint("to")
	m.Term = d.uvarint("term")
	m.LogTerm = d.uvarint("logTerm")
	m.Index = d.uvarint("index")
	m.Commit = d.uvarint("commit")
	m.RejectHint = d.uvarint("rejectHint")
	m.Context = d.bytes("context")
	if n := d.count("entries", minEntryBytes, MaxEntriesPerMessage); n > 0 {
		m.Entries = make([]Entry, n)
		for i := 0; i < n && d.err == nil; i++ {
			d.entryBody(&m.Entries[i])
		}
	}
	if flags&msgFlagSnapshot != 0 {
		m.Snapshot = new(Snapshot)
		d.snapshotBody(m.Snapshot)
	}
	if err := d.finish(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// AppendEntry appends the encoding of e to dst and returns the extended
// slice.
func AppendEntry(dst []byte, e Entry) []byte {
	dst = slices.Grow(dst, 1+entrySizeBound(&e))
	dst = append(dst, codecVersion)
	return appendEntryBody(dst, &e)
}

// UnmarshalEntry decodes the output of AppendEntry. Entry.Data aliases b
// (capped at its length); bad input returns a *DecodeError.
func UnmarshalEntry(b []byte) (Entry, error) {
	d := decoder{kind: "Entry", b: b}
	d.version()
	var e Entry
	d.entryBody(&e)
	if err := d.finish(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// AppendHardState appends the encoding of h to dst and returns the extended
// slice.
func AppendHardState(dst []byte, h HardState) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, h.Term)
	dst = binary.AppendUvarint(dst, h.Vote)
	return binary.AppendUvarint(dst, h.Commit)
}

// UnmarshalHardState decodes the output of AppendHardState; bad input
// returns a *DecodeError.
func UnmarshalHardState(b []byte) (HardState, error) {
	d := decoder{kind: "HardState", b: b}
	d.version()
	h := HardState{Term: d.uvarint("term"), Vote: d.uvarint("vote"), Commit: d.uvarint("commit")}
	if err := d.finish(); err != nil {
		return HardState{}, err
	}
	return h, nil
}

// AppendSnapshot appends the encoding of s (metadata, configuration and
// data) to dst and returns the extended slice.
func AppendSnapshot(dst []byte, s Snapshot) []byte {
	dst = slices.Grow(dst, 1+snapshotSizeBound(&s))
	dst = append(dst, codecVersion)
	return appendSnapshotBody(dst, &s)
}

// UnmarshalSnapshot decodes the output of AppendSnapshot. Snapshot.Data
// aliases b (capped at its length); the ConfState ID lists are fresh. Bad
// input returns a *DecodeError.
func UnmarshalSnapshot(b []byte) (Snapshot, error) {
	d := decoder{kind: "Snapshot", b: b}
	d.version()
	var s Snapshot
	d.snapshotBody(&s)
	if err := d.finish(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func appendBytes(dst, p []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(p)))
	return append(dst, p...)
}

func appendEntryBody(dst []byte, e *Entry) []byte {
	dst = append(dst, byte(e.Type))
	dst = binary.AppendUvarint(dst, e.Term)
	dst = binary.AppendUvarint(dst, e.Index)
	return appendBytes(dst, e.Data)
}

func appendSnapshotBody(dst []byte, s *Snapshot) []byte {
	dst = binary.AppendUvarint(dst, s.Metadata.Index)
	dst = binary.AppendUvarint(dst, s.Metadata.Term)
	dst = appendConfStateBody(dst, &s.Metadata.ConfState)
	return appendBytes(dst, s.Data)
}

func appendConfStateBody(dst []byte, c *ConfState) []byte {
	var flags byte
	if c.AutoLeave {
		flags |= confFlagAutoLeave
	}
	dst = append(dst, flags)
	for _, ids := range [...][]uint64{c.Voters, c.Learners, c.VotersOutgoing, c.LearnersNext} {
		dst = binary.AppendUvarint(dst, uint64(len(ids)))
		for _, id := range ids {
			dst = binary.AppendUvarint(dst, id)
		}
	}
	return dst
}

// Upper bounds of encoded sizes, so that an Append grows dst at most once.
const maxUvarint = binary.MaxVarintLen64

func messageSizeBound(m Message) int {
	n := 3 + 7*maxUvarint + maxUvarint + len(m.Context) + maxUvarint
	for i := range m.Entries {
		n += entrySizeBound(&m.Entries[i])
	}
	if m.Snapshot != nil {
		n += snapshotSizeBound(m.Snapshot)
	}
	return n
}

func entrySizeBound(e *Entry) int { return 1 + 3*maxUvarint + len(e.Data) }

func snapshotSizeBound(s *Snapshot) int {
	c := &s.Metadata.ConfState
	ids := len(c.Voters) + len(c.Learners) + len(c.VotersOutgoing) + len(c.LearnersNext)
	return 2*maxUvarint + 1 + (4+ids)*maxUvarint + maxUvarint + len(s.Data)
}

// decoder reads one encoding. The first failure is kept in err and turns
// every later read into a no-op returning zero, so callers check err once
// at the end (and in loops, to stop early).
type decoder struct {
	kind string
	b    []byte
	off  int
	err  *DecodeError
}

func (d *decoder) failAt(off int, field, reason string) {
	if d.err == nil {
		d.err = &DecodeError{Kind: d.kind, Field: field, Offset: off, Reason: reason}
	}
}

func (d *decoder) version() {
	if v := d.byte("version"); d.err == nil && v != codecVersion {
		d.failAt(0, "version", fmt.Sprintf("unknown format version %d (want %d)", v, codecVersion))
	}
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.failAt(d.off, field, "unexpected end of input")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// flags reads a flag byte and rejects bits outside known.
func (d *decoder) flags(field string, known byte) byte {
	f := d.byte(field)
	if f&^known != 0 {
		d.failAt(d.off-1, field, fmt.Sprintf("unknown flag bits %#x", f&^known))
		return 0
	}
	return f
}

// uvarint reads a minimal uvarint.
func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		d.failAt(d.off, field, "unexpected end of input")
		return 0
	case n < 0:
		d.failAt(d.off, field, "varint overflows 64 bits")
		return 0
	case n > 1 && d.b[d.off+n-1] == 0:
		// A trailing zero group adds nothing: the value has a shorter
		// encoding, and accepting both would make the codec non-canonical.
		d.failAt(d.off, field, "non-minimal varint")
		return 0
	}
	d.off += n
	return v
}

// count reads a list length and checks it against max and against the
// bytes left, given that each element takes at least minElem bytes.
func (d *decoder) count(field string, minElem, max int) int {
	start := d.off
	n := d.uvarint(field)
	if d.err != nil {
		return 0
	}
	if n > uint64(max) {
		d.failAt(start, field, fmt.Sprintf("count %d exceeds limit %d", n, max))
		return 0
	}
	if n > uint64((len(d.b)-d.off)/minElem) {
		d.failAt(start, field, fmt.Sprintf("count %d needs at least %d bytes, %d left", n, n*uint64(minElem), len(d.b)-d.off))
		return 0
	}
	return int(n)
}

// bytes reads a length-prefixed byte string. The result aliases the input,
// capped at its length; an empty string is nil.
func (d *decoder) bytes(field string) []byte {
	start := d.off
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.failAt(start, field, fmt.Sprintf("length %d exceeds the %d bytes left", n, len(d.b)-d.off))
		return nil
	}
	if n == 0 {
		return nil
	}
	end := d.off + int(n)
	p := d.b[d.off:end:end]
	d.off = end
	return p
}

func (d *decoder) entryBody(e *Entry) {
	e.Type = EntryType(d.byte("entry type"))
	if d.err == nil && e.Type != EntryNormal && e.Type != EntryConfChange {
		d.failAt(d.off-1, "entry type", fmt.Sprintf("unknown entry type %d", e.Type))
	}
	e.Term = d.uvarint("entry term")
	e.Index = d.uvarint("entry index")
	e.Data = d.bytes("entry data")
}

func (d *decoder) snapshotBody(s *Snapshot) {
	s.Metadata.Index = d.uvarint("snapshot index")
	s.Metadata.Term = d.uvarint("snapshot term")
	c := &s.Metadata.ConfState
	c.AutoLeave = d.flags("conf state flags", confFlagsKnown)&confFlagAutoLeave != 0
	c.Voters = d.ids("voters")
	c.Learners = d.ids("learners")
	c.VotersOutgoing = d.ids("voters outgoing")
	c.LearnersNext = d.ids("learners next")
	s.Data = d.bytes("snapshot data")
}

// ids reads an ID list; node 0 is never a member, so it is rejected.
func (d *decoder) ids(field string) []uint64 {
	n := d.count(field, minIDBytes, MaxConfStateIDs)
	if n == 0 {
		return nil
	}
	ids := make([]uint64, n)
	for i := range ids {
		start := d.off
		if ids[i] = d.uvarint(field); d.err != nil {
			return nil
		}
		if ids[i] == 0 {
			d.failAt(start, field, "node ID 0")
			return nil
		}
	}
	return ids
}

// finish reports the first error, or an error if input is left over.
func (d *decoder) finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.failAt(d.off, "end", fmt.Sprintf("%d trailing bytes", len(d.b)-d.off))
	}
	if d.err != nil {
		return d.err
	}
	return nil
}
