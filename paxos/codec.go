package paxos

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The codec: a compact, canonical binary encoding of Message (for the
// transport) and AcceptorState (for the replica's store).
//
// Every top-level encoding starts with the format byte codecVersion.
// Integers are minimal uvarints; byte strings are a uvarint length and the
// bytes. Layouts (version 1):
//
//	Message       = version type key(bytes) body
//	  Prepare, Accepted: ballot
//	  Promise:           ballot proposal(accepted) proposal(committed) links
//	  Accept, Commit:    proposal
//	  Reject:            ballot ballot(promised)
//	AcceptorState = version ballot(promised) proposal(accepted) proposal(committed) links
//	ballot        = wall(uint64 of the int64) logical epoch node
//	proposal      = ballot, and if it is not zero: ballot(origin) ballot(base)
//	                flags(present=1, deadline=2) [deadline(uvarint, > 0) if deadline]
//	                [data(bytes) if present]
//	links         = count (at most MaxRecent), then ballot(origin) ballot(base) each
//
// Empty link lists decode as nil. The flags are 0 (absent), 1 (present)
// or 3 (present with a deadline): the deadline flag extended version 1
// canonically, so encodings of values without a deadline are unchanged
// (states stored before it decode as they did), and a decoder that
// predates it refuses a value with a deadline (unknown flags) rather than
// misread it. A deadline costs 1 flag bit and its uvarint (6 bytes for
// today's Unix milliseconds, at most 9) per proposal.
//
// Canonical: each value has one encoding and the decoders accept only it
// (minimal varints, known flags, no trailing bytes), then check the same
// invariants as Message.Validate (without Limits beyond the hard bounds
// KeyBytesLimit and ValueBytesLimit) and AcceptorState.Validate, so that
// decode then encode returns the input. Empty byte strings decode as nil.
// Decoded keys and values are copies: they do not alias the input.

const codecVersion = 1

// Proposal value flags.
const (
	flagPresent  = 1
	flagDeadline = 2
)

// AppendMessage appends the encoding of m to b. It does not validate m: a
// malformed message encodes, and the receiver's decoder refuses it.
func AppendMessage(b []byte, m Message) []byte {
	b = append(b, codecVersion, byte(m.Type))
	b = appendBytes(b, []byte(m.Key))
	switch m.Type {
	case MsgPrepare, MsgAccepted:
		b = appendBallot(b, m.Ballot)
	case MsgPromise:
		b = appendBallot(b, m.Ballot)
		b = appendProposal(b, m.Accepted)
		b = appendProposal(b, m.Committed)
		b = appendLinks(b, m.Recent)
	case MsgAccept, MsgCommit:
		b = appendProposal(b, m.Proposal)
	case MsgReject:
		b = appendBallot(b, m.Ballot)
		b = appendBallot(b, m.Promised)
	}
	return b
}

// EncodeMessage returns the encoding of m.
func EncodeMessage(m Message) []byte { return AppendMessage(nil, m) }

// DecodeMessage decodes and validates a message written by AppendMessage.
// Errors match ErrMalformed.
func DecodeMessage(b []byte) (Message, error) {
	d := decoder{b: b, what: "Message"}
	d.version()
	var m Message
	m.Type = MsgType(d.byte("type"))
	m.Key = string(d.bytes("key", KeyBytesLimit))
	switch m.Type {
	case MsgPrepare, MsgAccepted:
		m.Ballot = d.ballot("ballot")
	case MsgPromise:
		m.Ballot = d.ballot("ballot")
		m.Accepted = d.proposal("accepted")
		m.Committed = d.proposal("committed")
		m.Recent = d.links("recent")
	case MsgAccept, MsgCommit:
		m.Proposal = d.proposal("proposal")
	case MsgReject:
		m.Ballot = d.ballot("ballot")
		m.Promised = d.ballot("promised")
	default:
		d.fail("type", fmt.Sprintf("unknown message type %d", m.Type))
	}
	d.end()
	if d.err != nil {
		return Message{}, d.err
	}
	if err := m.validateShape(); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

// AppendAcceptorState appends the encoding of s to b (without validating
// it).
func AppendAcceptorState(b []byte, s AcceptorState) []byte {
	b = append(b, codecVersion)
	b = appendBallot(b, s.Promised)
	b = appendProposal(b, s.Accepted)
	b = appendProposal(b, s.Committed)
	return appendLinks(b, s.Recent)
}

// EncodeAcceptorState returns the encoding of s.
func EncodeAcceptorState(s AcceptorState) []byte { return AppendAcceptorState(nil, s) }

// DecodeAcceptorState decodes and validates a state written by
// AppendAcceptorState. Errors match ErrMalformed.
func DecodeAcceptorState(b []byte) (AcceptorState, error) {
	d := decoder{b: b, what: "AcceptorState"}
	d.version()
	var s AcceptorState
	s.Promised = d.ballot("promised")
	s.Accepted = d.proposal("accepted")
	s.Committed = d.proposal("committed")
	s.Recent = d.links("recent")
	d.end()
	if d.err != nil {
		return AcceptorState{}, d.err
	}
	if err := s.Validate(); err != nil {
		return AcceptorState{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return s, nil
}

func appendBytes(b, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendLinks(b []byte, links []Link) []byte {
	b = binary.AppendUvarint(b, uint64(len(links)))
	for _, l := range links {
		b = appendBallot(b, l.Origin)
		b = appendBallot(b, l.Base)
	}
	return b
}

func appendBallot(b []byte, x Ballot) []byte {
	b = binary.AppendUvarint(b, uint64(x.Time.WallTime))
	b = binary.AppendUvarint(b, uint64(x.Time.Logical))
	b = binary.AppendUvarint(b, x.Epoch)
	return binary.AppendUvarint(b, uint64(x.Node))
}

func appendProposal(b []byte, p Proposal) []byte {
	b = appendBallot(b, p.Ballot)
	if p.Ballot.IsZero() {
		return b
	}
	b = appendBallot(b, p.Origin)
	b = appendBallot(b, p.Base)
	if !p.Value.Present {
		return append(b, 0)
	}
	if p.Value.DeadlineMs == 0 {
		b = append(b, flagPresent)
	} else {
		b = append(b, flagPresent|flagDeadline)
		b = binary.AppendUvarint(b, uint64(p.Value.DeadlineMs))
	}
	return appendBytes(b, p.Value.Data)
}

// decoder reads an encoding; the first error sticks and later reads
// return zeros.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (d *decoder) fail(field, why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s.%s: %s", ErrMalformed, d.what, field, why)
	}
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(field, "truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) version() {
	if v := d.byte("version"); d.err == nil && v != codecVersion {
		d.fail("version", fmt.Sprintf("format %d, want %d", v, codecVersion))
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.fail(field, "truncated")
		return 0
	case n < 0:
		d.fail(field, "varint overflows 64 bits")
		return 0
	case n != uvarintLen(v):
		d.fail(field, "varint not minimal")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (d *decoder) bytes(field string, limit int) []byte {
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) {
		d.fail(field, fmt.Sprintf("%d bytes, limit %d", n, limit))
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(field, "truncated")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]byte, n)
	copy(out, d.b)
	d.b = d.b[n:]
	return out
}

func (d *decoder) ballot(field string) Ballot {
	var b Ballot
	b.Time.WallTime = int64(d.uvarint(field + ".wall"))
	logical := d.uvarint(field + ".logical")
	if logical > math.MaxUint32 {
		d.fail(field+".logical", "above 2^32-1")
	}
	b.Time.Logical = uint32(logical)
	b.Epoch = d.uvarint(field + ".epoch")
	b.Node = NodeID(d.uvarint(field + ".node"))
	return b
}

func (d *decoder) proposal(field string) Proposal {
	var p Proposal
	p.Ballot = d.ballot(field + ".ballot")
	if p.Ballot.IsZero() || d.err != nil {
		return p
	}
	p.Origin = d.ballot(field + ".origin")
	p.Base = d.ballot(field + ".base")
	switch flags := d.byte(field + ".flags"); flags {
	case 0:
	case flagPresent:
		p.Value.Present = true
		p.Value.Data = d.bytes(field+".value", ValueBytesLimit)
	case flagPresent | flagDeadline:
		p.Value.Present = true
		p.Value.DeadlineMs = d.deadline(field + ".deadline")
		p.Value.Data = d.bytes(field+".value", ValueBytesLimit)
	default:
		d.fail(field+".flags", fmt.Sprintf("unknown flags %#x", flags))
	}
	return p
}

// deadline reads a value's deadline: flagged, so never 0, and an int64.
func (d *decoder) deadline(field string) int64 {
	v := d.uvarint(field)
	if d.err == nil && (v == 0 || v > math.MaxInt64) {
		d.fail(field, fmt.Sprintf("deadline %d out of 1..2^63-1", v))
		return 0
	}
	return int64(v)
}

func (d *decoder) links(field string) []Link {
	n := d.uvarint(field + ".count")
	if d.err != nil || n == 0 {
		return nil
	}
	if n > MaxRecent {
		d.fail(field+".count", fmt.Sprintf("%d links, at most %d", n, MaxRecent))
		return nil
	}
	out := make([]Link, n)
	for i := range out {
		out[i].Origin = d.ballot(field + ".origin")
		out[i].Base = d.ballot(field + ".base")
	}
	return out
}

func (d *decoder) end() {
	if d.err == nil && len(d.b) > 0 {
		d.fail("end", fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
}
