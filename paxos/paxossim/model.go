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
}

// Output is one answer. Every operation returns the register's previous
// state, so that writes are checked as strictly as reads.
type Output struct {
	Applied     bool
	Prev        string
	PrevPresent bool
	// Unknown marks an operation whose outcome the client never learned;
	// the model accepts it in any state (see porcupinekv for why that is
	// enough).
	Unknown bool
}

// Unknown returns the output History.Operations gives open operations.
func Unknown() Output { return Output{Unknown: true} }

func outputOf(r paxos.Result) Output {
	return Output{Applied: r.Applied, Prev: string(r.Prev.Data), PrevPresent: r.Prev.Present}
}

type register struct {
	value   string
	present bool
}

// Model is the sequential specification of a map of independent
// compare-and-set registers with the operations of paxos.OpKind,
// partitioned per key. sim/porcupinekv does not fit: its CAS cannot create
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
		if r.present {
			h = ^h
		}
		return h
	},
	DescribeOperation: func(in, out any) string { return describe(in.(Input), out.(Output)) },
	DescribeState: func(state any) string {
		if r := state.(register); r.present {
			return fmt.Sprintf("%q", r.value)
		}
		return "<absent>"
	},
}

func modelStep(state, input, output any) (bool, any) {
	r, in, out := state.(register), input.(Input), output.(Output)
	var cond bool
	next := r
	switch in.Kind {
	case paxos.OpGet:
		cond = true
	case paxos.OpSet:
		cond, next = true, register{in.Value, true}
	case paxos.OpSetNX:
		cond, next = !r.present, register{in.Value, true}
	case paxos.OpSetXX:
		cond, next = r.present, register{in.Value, true}
	case paxos.OpCAS:
		cond, next = r.present && r.value == in.Expected, register{in.Value, true}
	case paxos.OpDelete:
		cond, next = r.present, register{}
	case paxos.OpDeleteIf:
		cond, next = r.present && r.value == in.Expected, register{}
	default:
		panic(fmt.Sprintf("paxossim: model: unknown op %v", in.Kind))
	}
	if !out.Unknown {
		if out.PrevPresent != r.present || (r.present && out.Prev != r.value) || out.Applied != cond {
			return false, r
		}
	}
	if !cond {
		return true, r
	}
	return true, next
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
	if out.Unknown {
		return call + " -> ?"
	}
	prev := "<absent>"
	if out.PrevPresent {
		prev = fmt.Sprintf("%q", out.Prev)
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
