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
//
// Expiry: a value written with a DeadlineMs expires at that time, judged by
// each operation with its own NowMs. An operation whose NowMs is at or
// after the register's deadline sees the register as absent (Redis: an
// expired key does not exist), for its condition and for Result.Prev; a
// write replaces the expired value, an operation that does not write leaves
// it in place. NowMs is part of the operation: it is fixed when the driver
// proposes it, so every attempt and re-computation of the operation decides
// the same way (see the package doc's hazards about clocks).
type Op struct {
	Kind OpKind
	// Value is what OpSet, OpSetNX, OpSetXX and OpCAS write.
	Value []byte
	// Expected is what OpCAS and OpDeleteIf compare the register with.
	Expected []byte
	// NowMs is the proposer's wall time in Unix milliseconds when the
	// operation was submitted (the driver fills it from its HLC); >= 0. It
	// decides which values are expired for this operation. 0 sees no value
	// as expired (every deadline is after it), as an operation of a driver
	// that knows nothing of expiry.
	NowMs int64
	// DeadlineMs is the deadline of the value OpSet, OpSetNX, OpSetXX or
	// OpCAS writes, in Unix milliseconds (Redis's PX 30000 is NowMs+30000);
	// 0 means the value never expires. It needs NowMs; it may be at or
	// before NowMs (the value written is expired at once).
	DeadlineMs int64
	// KeepTTL makes OpSet, OpSetXX or OpCAS keep the deadline of the value
	// it replaces, if that value is present (and not expired), as Redis's
	// SET ... KEEPTTL; otherwise the written value never expires. Not with
	// DeadlineMs; allowed with OpSetNX, where it changes nothing (that
	// writes only on an absent register).
	KeepTTL bool
}

// Result is an operation's answer.
type Result struct {
	// Applied reports whether the operation's condition held: always for
	// OpGet and OpSet, for OpDelete whether the register was present, for
	// the conditional kinds whether they wrote.
	Applied bool
	// Prev is the register's state just before the operation as the
	// operation saw it (for OpGet, the state read), as Redis's SET ... GET
	// returns it: absent if the register held a value expired at the
	// operation's NowMs. Prev.DeadlineMs is the live value's deadline
	// (Redis's PTTL is Prev.DeadlineMs - NowMs).
	Prev Value
	// Expired reports that the register held a value expired at the
	// operation's NowMs, which the operation saw as absent (Prev is then
	// absent); for metrics, and for a driver that purges expired keys.
	Expired bool
}

func (op Op) validate(lim Limits) error {
	if op.Kind < OpGet || op.Kind > OpDeleteIf {
		return fmt.Errorf("%w: unknown operation %v", ErrInvalidOp, op.Kind)
	}
	usesValue := op.writesValue()
	usesExpected := op.Kind == OpCAS || op.Kind == OpDeleteIf
	switch {
	case !usesValue && op.Value != nil:
		return fmt.Errorf("%w: %v takes no value", ErrInvalidOp, op.Kind)
	case !usesExpected && op.Expected != nil:
		return fmt.Errorf("%w: %v takes no expected value", ErrInvalidOp, op.Kind)
	case len(op.Value) > lim.MaxValueBytes || len(op.Expected) > lim.MaxValueBytes:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, max(len(op.Value), len(op.Expected)), lim.MaxValueBytes)
	case op.NowMs < 0 || op.DeadlineMs < 0:
		return fmt.Errorf("%w: negative time (now %d, deadline %d)", ErrInvalidOp, op.NowMs, op.DeadlineMs)
	case !usesValue && (op.DeadlineMs != 0 || op.KeepTTL):
		return fmt.Errorf("%w: %v writes no value, so takes no deadline", ErrInvalidOp, op.Kind)
	case op.DeadlineMs != 0 && op.KeepTTL:
		return fmt.Errorf("%w: a deadline and KeepTTL", ErrInvalidOp)
	case op.DeadlineMs != 0 && op.NowMs == 0:
		// Without the proposer's time no value could ever be seen expired:
		// a driver that sets deadlines must set NowMs.
		return fmt.Errorf("%w: a deadline without NowMs", ErrInvalidOp)
	}
	return nil
}

// writesValue reports whether op's kind writes a value (rather than
// reading or deleting).
func (op Op) writesValue() bool {
	return op.Kind == OpSet || op.Kind == OpSetNX || op.Kind == OpSetXX || op.Kind == OpCAS
}

// apply computes op on the stored state: the next state, the answer, and
// whether the operation writes (false: the register keeps stored, and the
// operation is answered as a read). A stored value expired at op.NowMs is
// absent for the condition and for Result.Prev, but an operation that does
// not write leaves it stored. apply is a function of op and stored alone,
// so every computation of one operation on one state agrees.
func (op Op) apply(stored Value) (next Value, res Result, writes bool) {
	cur := stored.AsOf(op.NowMs)
	res.Prev, res.Expired = cur, stored.Expired(op.NowMs)
	set := Value{Present: true, Data: op.Value, DeadlineMs: op.DeadlineMs}
	if op.KeepTTL {
		set.DeadlineMs = cur.DeadlineMs // 0 if cur is absent or expired
	}
	matches := cur.Present && bytes.Equal(cur.Data, op.Expected)
	switch op.Kind {
	case OpGet:
		res.Applied = true
		return stored, res, false
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
		return stored, res, false
	}
	return set, res, true
}
