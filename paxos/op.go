package paxos

import (
	"bytes"
	"fmt"
)

// OpKind names a register operation.
type OpKind uint8

const (
	// OpGet reads the register linearizably.
	OpGet OpKind = iota + 1
	// OpSet writes Value unconditionally.
	OpSet
	// OpSetNX writes Value if the register is absent (SET key value NX).
	OpSetNX
	// OpSetXX writes Value if the register is present (SET key value XX).
	OpSetXX
	// OpCAS writes Value if the register is present and holds Expected.
	OpCAS
	// OpDelete makes the register absent.
	OpDelete
	// OpDeleteIf makes the register absent if it is present and holds
	// Expected.
	OpDeleteIf
)

// String returns the kind's name.
func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "GET"
	case OpSet:
		return "SET"
	case OpSetNX:
		return "SETNX"
	case OpSetXX:
		return "SETXX"
	case OpCAS:
		return "CAS"
	case OpDelete:
		return "DEL"
	case OpDeleteIf:
		return "DELIF"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one operation on a key's register.
type Op struct {
	Kind OpKind
	// Value is what OpSet, OpSetNX, OpSetXX and OpCAS write.
	Value []byte
	// Expected is what OpCAS and OpDeleteIf compare the register with.
	Expected []byte
}

// Result is an operation's answer.
type Result struct {
	// Applied reports whether the operation's condition held: always for
	// OpGet and OpSet, for OpDelete whether the register was present, for
	// the conditional kinds whether they wrote.
	Applied bool
	// Prev is the register's state just before the operation (for OpGet,
	// the state read), as Redis's SET ... GET returns it.
	Prev Value
}

func (op Op) validate(lim Limits) error {
	if op.Kind < OpGet || op.Kind > OpDeleteIf {
		return fmt.Errorf("%w: unknown operation %v", ErrInvalidOp, op.Kind)
	}
	usesValue := op.Kind == OpSet || op.Kind == OpSetNX || op.Kind == OpSetXX || op.Kind == OpCAS
	usesExpected := op.Kind == OpCAS || op.Kind == OpDeleteIf
	switch {
	case !usesValue && op.Value != nil:
		return fmt.Errorf("%w: %v takes no value", ErrInvalidOp, op.Kind)
	case !usesExpected && op.Expected != nil:
		return fmt.Errorf("%w: %v takes no expected value", ErrInvalidOp, op.Kind)
	case len(op.Value) > lim.MaxValueBytes || len(op.Expected) > lim.MaxValueBytes:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, max(len(op.Value), len(op.Expected)), lim.MaxValueBytes)
	}
	return nil
}

// apply computes op on the state cur: the next state, the answer, and
// whether the operation writes (false: the register keeps cur, and the
// operation is answered as a read).
func (op Op) apply(cur Value) (next Value, res Result, writes bool) {
	res.Prev = cur
	set := Value{Present: true, Data: op.Value}
	matches := cur.Present && bytes.Equal(cur.Data, op.Expected)
	switch op.Kind {
	case OpGet:
		return cur, Result{Applied: true, Prev: cur}, false
	case OpSet:
		res.Applied = true
	case OpSetNX:
		res.Applied = !cur.Present
	case OpSetXX:
		res.Applied = cur.Present
	case OpCAS:
		res.Applied = matches
	case OpDelete:
		res.Applied, set = cur.Present, Value{}
	case OpDeleteIf:
		res.Applied, set = matches, Value{}
	default:
		panic(fmt.Sprintf("paxos: apply of unvalidated op %v", op.Kind))
	}
	if !res.Applied {
		return cur, res, false
	}
	return set, res, true
}
