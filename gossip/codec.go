package gossip

import (
	"encoding/binary"
	"fmt"
)

// The wire format, version 1. Integers are unsigned varints (uv):
//
//	message := version:u8 kind:u8 flags:u8 from:uv to:uv seq:uv target:uv
//	           count:uv update*count
//	update  := state:u8 member:uv incarnation:uv from:uv
//	           len(addr):uv addr len(meta):uv meta
//
// flags is reserved and must be 0. A decoder rejects
// unknown versions, kinds and states, counts and lengths over its Limits,
// and trailing bytes. There is no checksum: UDP and TCP carry their own.

// wireVersion is the first byte of every encoded message.
const wireVersion = 1

// Sizes used to bound messages before encoding them.
const (
	maxUvarint = binary.MaxVarintLen64
	// maxHeaderBytes bounds the encoding of everything but the updates.
	maxHeaderBytes = 3 + 5*maxUvarint
	// minUpdateBytes is the smallest encoded update: a state byte and five
	// one-byte varints.
	minUpdateBytes = 6
	// maxDatagramUpdates is the most updates any datagram may carry,
	// whatever the configuration.
	maxDatagramUpdates = 1024
)

// maxUpdateBytes bounds the encoding of one update with the given limits.
func maxUpdateBytes(maxAddr, maxMeta int) int {
	return 1 + 5*maxUvarint + maxAddr + maxMeta
}

// Limits bound what Decode accepts. Config.Limits gives the limits that
// match a node's configuration; a receiver must use limits at least as
// wide as every sender's configuration.
type Limits struct {
	// MaxDatagramUpdates bounds the updates of every kind but push-pull.
	MaxDatagramUpdates int
	// MaxStreamUpdates bounds the entries of a push-pull or its reply.
	MaxStreamUpdates int
	// MaxAddrBytes and MaxMetaBytes bound each update's address and
	// metadata.
	MaxAddrBytes int
	// MaxMetaBytes: see MaxAddrBytes.
	MaxMetaBytes int
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// encodedUpdateSize is the exact encoded size of u.
func encodedUpdateSize(u *Update) int {
	return 1 + uvarintLen(uint64(u.Member)) + uvarintLen(u.Incarnation) + uvarintLen(uint64(u.From)) +
		uvarintLen(uint64(len(u.Addr))) + len(u.Addr) + uvarintLen(uint64(len(u.Meta))) + len(u.Meta)
}

// EncodedSize returns the exact length of m's encoding.
func EncodedSize(m *Message) int {
	n := 3 + uvarintLen(uint64(m.From)) + uvarintLen(uint64(m.To)) + uvarintLen(m.Seq) +
		uvarintLen(uint64(m.Target)) + uvarintLen(uint64(len(m.Updates)))
	for i := range m.Updates {
		n += encodedUpdateSize(&m.Updates[i])
	}
	return n
}

// AppendEncode appends m's encoding to b and returns the result. It
// encodes whatever it is given; Step and Decode are where limits apply.
func AppendEncode(b []byte, m *Message) []byte {
	b = append(b, wireVersion, byte(m.Kind), 0)
	b = binary.AppendUvarint(b, uint64(m.From))
	b = binary.AppendUvarint(b, uint64(m.To))
	b = binary.AppendUvarint(b, m.Seq)
	b = binary.AppendUvarint(b, uint64(m.Target))
	b = binary.AppendUvarint(b, uint64(len(m.Updates)))
	for i := range m.Updates {
		u := &m.Updates[i]
		b = append(b, byte(u.State))
		b = binary.AppendUvarint(b, uint64(u.Member))
		b = binary.AppendUvarint(b, u.Incarnation)
		b = binary.AppendUvarint(b, uint64(u.From))
		b = binary.AppendUvarint(b, uint64(len(u.Addr)))
		b = append(b, u.Addr...)
		b = binary.AppendUvarint(b, uint64(len(u.Meta)))
		b = append(b, u.Meta...)
	}
	return b
}

// Encode returns m's encoding.
func Encode(m *Message) []byte { return AppendEncode(make([]byte, 0, EncodedSize(m)), m) }

// decoder reads the wire format; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated at %s", field)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint at %s", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str(field string, limit int) string {
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) {
		d.fail("%s of %d bytes over the limit of %d", field, n, limit)
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("truncated in %s", field)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Decode parses one message and checks it against lim. The result shares
// no memory with b.
func Decode(b []byte, lim Limits) (Message, error) {
	d := decoder{b: b}
	var m Message
	if v := d.byte("version"); d.err == nil && v != wireVersion {
		d.fail("version %d, want %d", v, wireVersion)
	}
	m.Kind = MsgKind(d.byte("kind"))
	flags := d.byte("flags")
	if d.err == nil && flags != 0 {
		d.fail("unknown flags %#x", flags)
	}
	m.From = NodeID(d.uvarint("from"))
	m.To = NodeID(d.uvarint("to"))
	m.Seq = d.uvarint("seq")
	m.Target = NodeID(d.uvarint("target"))
	count := d.uvarint("count")
	if d.err != nil {
		return Message{}, d.err
	}
	if err := checkKindAndCount(m.Kind, count, lim); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// Each update takes at least minUpdateBytes: checking the count
	// against what is left bounds the allocation by the input's size.
	if count > uint64(len(d.b)/minUpdateBytes) {
		return Message{}, fmt.Errorf("%w: %d updates cannot fit in %d bytes", ErrMalformed, count, len(d.b))
	}
	if count > 0 {
		m.Updates = make([]Update, count)
	}
	for i := range m.Updates {
		u := &m.Updates[i]
		u.State = State(d.byte("state"))
		u.Member = NodeID(d.uvarint("member"))
		u.Incarnation = d.uvarint("incarnation")
		u.From = NodeID(d.uvarint("accuser"))
		u.Addr = d.str("addr", lim.MaxAddrBytes)
		u.Meta = d.str("meta", lim.MaxMetaBytes)
	}
	if d.err != nil {
		return Message{}, d.err
	}
	if len(d.b) != 0 {
		return Message{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	if err := validateMessage(&m, lim); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

func checkKindAndCount(k MsgKind, count uint64, lim Limits) error {
	if !k.Valid() {
		return fmt.Errorf("unknown kind %d", uint8(k))
	}
	max := lim.MaxDatagramUpdates
	if k.Stream() {
		max = lim.MaxStreamUpdates
	}
	if count > uint64(max) {
		return fmt.Errorf("%s with %d updates, limit %d", k, count, max)
	}
	return nil
}

// validateMessage checks what both Decode and Step require of a message.
func validateMessage(m *Message, lim Limits) error {
	if err := checkKindAndCount(m.Kind, uint64(len(m.Updates)), lim); err != nil {
		return err
	}
	if m.From == 0 {
		return fmt.Errorf("%s without a sender", m.Kind)
	}
	if m.Kind == MsgPingReq && m.Target == 0 {
		return fmt.Errorf("ping-req without a target")
	}
	for i := range m.Updates {
		u := &m.Updates[i]
		switch {
		case !u.State.Valid():
			return fmt.Errorf("update %d: unknown state %d", i, uint8(u.State))
		case u.Member == 0:
			return fmt.Errorf("update %d: member 0", i)
		case u.Incarnation == 0 || u.Incarnation >= maxIncarnation:
			return fmt.Errorf("update %d: incarnation %d out of 1..%d", i, u.Incarnation, uint64(maxIncarnation-1))
		case len(u.Addr) > lim.MaxAddrBytes:
			return fmt.Errorf("update %d: address of %d bytes, limit %d", i, len(u.Addr), lim.MaxAddrBytes)
		case len(u.Meta) > lim.MaxMetaBytes:
			return fmt.Errorf("update %d: metadata of %d bytes, limit %d", i, len(u.Meta), lim.MaxMetaBytes)
		}
	}
	return nil
}
