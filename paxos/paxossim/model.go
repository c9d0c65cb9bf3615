package paxossim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairndb/cairn/paxos"
)

// Input is one client operation, as the model sees it.
type Input struct {
	Kind     paxos.OpKind
	Key      string
	Value    string // SET, SETNX, SETXX, CAS
	Expected string // CAS, DELIF
	// NowMs, DeadlineMs and KeepTTL are the paxos.Op fields: the
	// coordinator's wall time that judges expiry, the written value's
	// deadline, and whether the write keeps the live value's deadline.
	NowMs, DeadlineMs int64
	KeepTTL           bool
}

// Output is one answer. Every operation returns the register's previous
// state as it saw it, deadline included, so that writes are checked as
// strictly as reads.
type Output struct {
	Applied      bool
	Prev         string
	PrevPresent  bool
	PrevDeadline int64
	// Expired is paxos.Result.Expired: the register held a value expired
	// at the operation's NowMs.
	Expired bool
	// Unknown marks an operation whose outcome the client never learned;
	// the model accepts it in any state (see porcupinekv for why that is
	// enough).
	Unknown bool
}

// Unknown returns the output History.Operations gives open operations.
func Unknown() Output { return Output{Unknown: true} }

func outputOf(r paxos.Result) Output {
	return Output{Applied: r.Applied, Prev: string(r.Prev.Data), PrevPresent: r.Prev.Present, PrevDeadline: r.Prev.DeadlineMs, Expired: r.Expired}
}

// register is the model's state of one key: what is stored, an expired
// value included (expiry is judged by each operation, as in paxos).
type register struct {
	value    string
	present  bool
	deadline int64 // Unix ms, 0 = never
}

// expiredAt reports whether r holds a value expired at nowMs.
func (r register) expiredAt(nowMs int64) bool {
	return r.present && r.deadline != 0 && r.deadline <= nowMs
}

// Model is the sequential specification of a map of independent
// compare-and-set registers with the operations of paxos.OpKind and
// expiring values, partitioned per key. Each operation judges expiry with
// its own Input.NowMs (the coordinator's clock at submission), as the paxos
// package does: a stored value whose deadline is at or before NowMs is
// absent for the operation, and stays stored unless the operation writes. sim/porcupinekv does not fit: its CAS cannot create
// a key and it has no SET NX, SET XX or conditional delete.
var Model = porcupine.Model{
	Partition:      partitionOps,
	PartitionEvent: partitionEvents,
	Init:           func() any { return register{} },
	Step:           modelStep,
	Hash: func(state any) uint64 {
		r := state.(register)
		h := uint64(14695981039346656037)
		for i := 0; i < len(r.value); i++ {
			h = (h ^ uint64(r.value[i])) * 1099511628211
		}
		h = (h ^ uint64(r.deadline)) * 1099511628211
		if r.present {
			h = ^h
		}
		return h
	},
	DescribeOperation: func(in, out any) string { return describe(in.(Input), out.(Output)) },
	DescribeState: func(state any) string {
		return describeValue(state.(register))
	},
}

func modelStep(state, input, output any) (bool, any) {
	stored, in, out := state.(register), input.(Input), output.(Output)
	expired := stored.expiredAt(in.NowMs)
	r := stored // as the operation sees it
	if expired {
		r = register{}
	}
	written := register{in.Value, true, in.DeadlineMs}
	if in.KeepTTL {
		written.deadline = r.deadline
	}
	var cond bool
	next := r
	switch in.Kind {
	case paxos.OpGet:
		cond = true
	case paxos.OpSet:
		cond, next = true, written
	case paxos.OpSetNX:
		cond, next = !r.present, written
	case paxos.OpSetXX:
		cond, next = r.present, written
	case paxos.OpCAS:
		cond, next = r.present && r.value == in.Expected, written
	case paxos.OpDelete:
		cond, next = r.present, register{}
	case paxos.OpDeleteIf:
		cond, next = r.present && r.value == in.Expected, register{}
	default:
		panic(fmt.Sprintf("paxossim: model: unknown op %v", in.Kind))
	}
	if !out.Unknown {
		if out.PrevPresent != r.present || out.Expired != expired || out.Applied != cond ||
			(r.present && (out.Prev != r.value || out.PrevDeadline != r.deadline)) {
			return false, stored
		}
	}
	if !cond || in.Kind == paxos.OpGet {
		return true, stored // nothing written: an expired value stays stored
	}
	return true, next
}

func describeValue(r register) string {
	if !r.present {
		return "<absent>"
	}
	if r.deadline != 0 {
		return fmt.Sprintf("%q@%dms", r.value, r.deadline)
	}
	return fmt.Sprintf("%q", r.value)
}

func describe(in Input, out Output) string {
	var call string
	switch in.Kind {
	case paxos.OpGet, paxos.OpDelete:
		call = fmt.Sprintf("%v(%q)", in.Kind, in.Key)
	case paxos.OpCAS:
		call = fmt.Sprintf("CAS(%q, %q -> %q)", in.Key, in.Expected, in.Value)
	case paxos.OpDeleteIf:
		call = fmt.Sprintf("DELIF(%q, %q)", in.Key, in.Expected)
	default:
		call = fmt.Sprintf("%v(%q, %q)", in.Kind, in.Key, in.Value)
	}
	switch {
	case in.DeadlineMs != 0:
		call += fmt.Sprintf(" PXAT %d", in.DeadlineMs)
	case in.KeepTTL:
		call += " KEEPTTL"
	}
	if in.NowMs != 0 {
		call += fmt.Sprintf(" at %dms", in.NowMs)
	}
	if out.Unknown {
		return call + " -> ?"
	}
	prev := describeValue(register{out.Prev, out.PrevPresent, out.PrevDeadline})
	if out.Expired {
		prev += " (expired)"
	}
	return fmt.Sprintf("%s -> applied=%v prev=%s", call, out.Applied, prev)
}

func partitionOps(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(Input).Key
		i, ok := index[k]
		if !ok {
			i = len(parts)
			index[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func partitionEvents(history []porcupine.Event) [][]porcupine.Event {
	index := map[string]int{}
	byID := map[int]int{}
	var parts [][]porcupine.Event
	for _, ev := range history {
		var i int
		if ev.Kind == porcupine.CallEvent {
			k := ev.Value.(Input).Key
			var ok bool
			if i, ok = index[k]; !ok {
				i = len(parts)
				index[k] = i
				parts = append(parts, nil)
			}
			byID[ev.Id] = i
		} else {
			i = byID[ev.Id]
		}
		parts[i] = append(parts[i], ev)
	}
	return parts
}

// maxReportOps bounds the operations a failure report lists.
const maxReportOps = 60

// CheckLinearizable checks history against Model within timeout (> 0). A
// check that times out is a failure, never a pass. On failure the details
// list the first failing key's operations by call time.
func CheckLinearizable(history []porcupine.Operation, timeout time.Duration) (bool, string) {
	res := porcupine.CheckOperationsTimeout(Model, history, timeout)
	if res == porcupine.Ok {
		return true, fmt.Sprintf("linearizable: %d ops", len(history))
	}
	var b strings.Builder
	if res == porcupine.Unknown {
		fmt.Fprintf(&b, "linearizability check timed out after %v (%d ops): result unknown", timeout, len(history))
		return false, b.String()
	}
	fmt.Fprintf(&b, "NOT linearizable: %d ops", len(history))
	single := Model
	single.Partition, single.PartitionEvent = nil, nil
	for _, part := range partitionOps(history) {
		if porcupine.CheckOperationsTimeout(single, part, timeout) != porcupine.Illegal {
			continue
		}
		part = slices.Clone(part)
		slices.SortStableFunc(part, func(x, y porcupine.Operation) int { return cmp.Compare(x.Call, y.Call) })
		fmt.Fprintf(&b, "\nkey %q, %d ops by call time:", part[0].Input.(Input).Key, len(part))
		for i, op := range part {
			if i == maxReportOps {
				fmt.Fprintf(&b, "\n  ... %d more", len(part)-i)
				break
			}
			ret := time.Duration(op.Return).String()
			if op.Output.(Output).Unknown {
				ret = "end"
			}
			fmt.Fprintf(&b, "\n  client %d [%v, %s] %s", op.ClientId, time.Duration(op.Call), ret, describe(op.Input.(Input), op.Output.(Output)))
		}
		break
	}
	return false, b.String()
}
