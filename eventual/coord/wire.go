package coord

import (
	"encoding/binary"
	"errors"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
)

// msgType is the first byte of every frame of the eventual channel.
type msgType uint8

const (
	msgMutate msgType = iota + 1 // forward a mutation to a replica that coordinates it
	msgMutateResp
	msgApply // merge a delta (or store it as a hint for HintFor)
	msgApplyResp
	msgRead // return the key's Object
	msgReadResp
	msgTree // a Merkle exchange request (obj: merkle.Request)
	msgTreeResp
	msgRange // stream a token range's entries (obj: rangeRequest)
	msgRangeResp
	msgPaxos // a Paxos message (obj: paxos.Message), one way
	msgKeys  // list a token range's visible keys (obj: keys request)
	msgKeysResp
	msgPurge // drop a tombstone if its state is still obj
	msgPurgeResp
	msgAcceptors // a page of a range's Paxos acceptor states (obj: cursor and ranges)
	msgAcceptorsResp
	numMsgTypes
)

// timestampBytes is the size of an encoded clock.Timestamp.
const timestampBytes = 12

// message is one frame: a request or its response. Fields unused by a type
// are zero.
type message struct {
	typ   msgType
	id    uint64          // request id, echoed by the response
	clock clock.Timestamp // the sender's HLC, merged by the receiver
	key   []byte
	// level is a forwarded mutation's write level.
	level Level
	op    Op
	// hintFor, in msgApply, names the replica the receiver holds the
	// delta for (0: the receiver is a replica and merges it).
	hintFor uint64
	// obj is msgApply's delta, msgReadResp's state or msgMutate's Op.Seen,
	// encoded.
	obj []byte
	// err is a response's error text ("" for success).
	err    string
	result wireResult
}

// wireResult is what a response carries of a Result: the delta travels
// encoded, in obj, and a message without the decoded one is 400 bytes
// smaller (every frame received is decoded into a message).
type wireResult struct {
	N  int64
	OK bool
}

func (m *message) appendBinary(b []byte) []byte {
	b = append(b, byte(m.typ))
	b = binary.BigEndian.AppendUint64(b, m.id)
	b = m.clock.AppendBinary(b)
	switch m.typ {
	case msgMutate:
		b = appendBytes(b, m.key)
		b = append(b, byte(m.level.Kind), byte(m.level.Count))
		b = m.op.appendBinary(b)
		b = appendBytes(b, m.obj) // the op's Seen, encoded (empty: none)
	case msgMutateResp:
		b = appendBytes(b, []byte(m.err))
		b = binary.AppendVarint(b, m.result.N)
		ok := byte(0)
		if m.result.OK {
			ok = 1
		}
		b = append(b, ok)
		b = appendBytes(b, m.obj)
	case msgApply:
		b = appendBytes(b, m.key)
		b = binary.BigEndian.AppendUint64(b, m.hintFor)
		b = appendBytes(b, m.obj)
	case msgApplyResp:
		b = appendBytes(b, []byte(m.err))
	case msgPurge:
		b = appendBytes(b, m.key)
		b = appendBytes(b, m.obj)
	case msgPurgeResp:
		b = appendBytes(b, []byte(m.err))
		b = append(b, boolByte(m.result.OK))
	case msgRead:
		b = appendBytes(b, m.key)
	case msgReadResp, msgTreeResp, msgRangeResp, msgKeysResp, msgAcceptorsResp:
		b = appendBytes(b, []byte(m.err))
		b = appendBytes(b, m.obj)
	case msgTree, msgRange, msgPaxos, msgKeys, msgAcceptors:
		b = appendBytes(b, m.obj)
	}
	return b
}

// decodeMessage decodes a frame. Byte slices in the result alias b.
func decodeMessage(b []byte) (message, error) {
	d := &decoder{b: b}
	var m message
	m.typ = msgType(d.byte())
	if m.typ == 0 || m.typ >= numMsgTypes {
		return m, errors.Join(ErrMalformed, errors.New("unknown message type"))
	}
	m.id = d.uint64()
	if d.err != nil {
		return m, d.err
	}
	if len(d.b) < timestampBytes {
		return m, errors.Join(ErrMalformed, errors.New("truncated clock"))
	}
	ts, err := clock.DecodeTimestamp(d.b[:timestampBytes])
	if err != nil {
		return m, errors.Join(ErrMalformed, err)
	}
	d.b = d.b[timestampBytes:]
	m.clock = ts
	switch m.typ {
	case msgMutate:
		m.key = d.bytes()
		m.level = Level{Kind: LevelKind(d.byte()), Count: int(d.byte())}
		if m.level.Kind < One || m.level.Kind > Explicit {
			d.fail("bad level")
		}
		m.op, err = decodeOp(d)
		if err != nil {
			return m, errors.Join(ErrMalformed, err)
		}
		m.obj = d.bytes()
	case msgMutateResp:
		m.err = string(d.bytes())
		m.result.N = d.varint()
		m.result.OK = d.byte() == 1
		m.obj = d.bytes()
	case msgApply:
		m.key = d.bytes()
		m.hintFor = d.uint64()
		m.obj = d.bytes()
	case msgApplyResp:
		m.err = string(d.bytes())
	case msgPurge:
		m.key = d.bytes()
		m.obj = d.bytes()
	case msgPurgeResp:
		m.err = string(d.bytes())
		m.result.OK = d.byte() == 1
	case msgRead:
		m.key = d.bytes()
	case msgReadResp, msgTreeResp, msgRangeResp, msgKeysResp, msgAcceptorsResp:
		m.err = string(d.bytes())
		m.obj = d.bytes()
	case msgTree, msgRange, msgPaxos, msgKeys, msgAcceptors:
		m.obj = d.bytes()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return m, d.err
}

// errText is the wire form of err; errFromText turns it back into the
// errors clients tell apart.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func errFromText(s string) error {
	if s == "" {
		return nil
	}
	for _, e := range []error{object.ErrWrongType, object.ErrNotInteger, object.ErrOverflow, object.ErrTooLarge, ErrClockSkew} {
		if s == e.Error() {
			return e
		}
	}
	return &RemoteError{Text: s}
}

// RemoteError is an error a peer reported that has no typed counterpart.
type RemoteError struct{ Text string }

func (e *RemoteError) Error() string { return "ERR replica: " + e.Text }

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
