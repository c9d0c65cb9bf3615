package coord

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/eventual/object"
)

// OpCode names a mutation of one key.
type OpCode uint8

// The mutations a coordinator replicates.
const (
	OpSet OpCode = iota + 1
	OpDel
	OpIncr
	OpSAdd
	OpSRem
	OpHSet
	OpHDel
	OpExpire
	OpPersist
	numOps
)

// Op is one mutation of one key, as the coordinator runs it on a replica
// (its own, or the replica it forwards to).
type Op struct {
	Code OpCode
	// Value is SET's value.
	Value []byte
	// SetOpts are SET's options.
	SetOpts object.SetOptions
	// N is INCR's increment, EXPIRE's deadline (Unix ms).
	N int64
	// Members are SADD's and SREM's members, HDEL's fields.
	Members []string
	// Fields are HSET's fields.
	Fields []object.Field
	// Seen is, for a remove (RemovesObserved), the state of the key the
	// requesting connection has seen (its session). The applying replica
	// merges it first, so a remove at any level removes everything the
	// connection wrote or read before: remove-your-writes. It travels
	// beside the op (message.obj), not in its encoding.
	Seen object.Object
}

// Result is what a mutation answers.
type Result struct {
	// N is INCR's new value, or how many members or fields SADD, SREM,
	// HSET, HDEL added or removed.
	N int64
	// OK is DEL's "existed", EXPIRE's and PERSIST's "applied".
	OK bool
	// Delta is what the write changed (the zero Object if nothing): a
	// session merges it into its later reads of the key, which gives
	// read-your-writes at any level.
	Delta object.Object
}

// RemovesObserved reports whether op removes or replaces only the state
// the replica applying it has seen (observed-remove): DEL, SREM, HDEL, and
// EXPIRE and PERSIST, which replace the deadlines seen. An element added
// on replicas the applying one has not heard from yet survives such an op.
func (op Op) RemovesObserved() bool {
	switch op.Code {
	case OpDel, OpSRem, OpHDel, OpExpire, OpPersist:
		return true
	}
	return false
}

// apply runs op on o at st and returns the delta and the result.
func (op Op) apply(o *object.Object, st object.Stamp) (object.Object, Result, error) {
	var (
		d   object.Object
		r   Result
		n   int
		err error
	)
	switch op.Code {
	case OpSet:
		d, err = o.Set(st, op.Value, op.SetOpts)
	case OpDel:
		d, r.OK = o.Del(st)
	case OpIncr:
		d, r.N, err = o.Incr(st, op.N)
	case OpSAdd:
		d, n, err = o.SAdd(st, op.Members...)
	case OpSRem:
		d, n, err = o.SRem(st, op.Members...)
	case OpHSet:
		d, n, err = o.HSet(st, op.Fields...)
	case OpHDel:
		d, n, err = o.HDel(st, op.Members...)
	case OpExpire:
		d, r.OK, err = o.Expire(st, op.N)
	case OpPersist:
		d, r.OK, err = o.Persist(st)
	default:
		err = fmt.Errorf("unknown op %d", op.Code)
	}
	if n != 0 {
		r.N = int64(n)
	}
	return d, r, err
}

func (op Op) appendBinary(b []byte) []byte {
	b = append(b, byte(op.Code))
	b = appendBytes(b, op.Value)
	b = binary.AppendVarint(b, op.SetOpts.DeadlineMs)
	keep := byte(0)
	if op.SetOpts.KeepTTL {
		keep = 1
	}
	b = append(b, keep)
	b = binary.AppendVarint(b, op.N)
	b = binary.AppendUvarint(b, uint64(len(op.Members)))
	for _, m := range op.Members {
		b = appendBytes(b, []byte(m))
	}
	b = binary.AppendUvarint(b, uint64(len(op.Fields)))
	for _, f := range op.Fields {
		b = appendBytes(b, []byte(f.Name))
		b = appendBytes(b, f.Value)
	}
	return b
}

func decodeOp(d *decoder) (Op, error) {
	var op Op
	op.Code = OpCode(d.byte())
	if op.Code == 0 || op.Code >= numOps {
		return op, errors.New("unknown op")
	}
	op.Value = d.bytes()
	op.SetOpts.DeadlineMs = d.varint()
	op.SetOpts.KeepTTL = d.byte() == 1
	op.N = d.varint()
	if n := d.count(); n > 0 {
		op.Members = make([]string, n)
		for i := range op.Members {
			op.Members[i] = string(d.bytes())
		}
	}
	if n := d.count(); n > 0 {
		op.Fields = make([]object.Field, n)
		for i := range op.Fields {
			op.Fields[i] = object.Field{Name: string(d.bytes()), Value: d.bytes()}
		}
	}
	return op, d.err
}

// appendBytes appends v with its length.
func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decoder reads the wire encoding, recording the first error; every length
// is checked against what remains before anything is allocated.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// count reads a collection length; each element takes at least one byte.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("count beyond the input")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length beyond the input")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
