package porcupinekv

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// OpKind names a key-value operation.
type OpKind int

const (
	// OpGet reads a key.
	OpGet OpKind = iota + 1
	// OpPut writes a key.
	OpPut
	// OpCAS writes Value to a key if it exists and holds Expected.
	OpCAS
)

// String returns the operation's name.
func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "get"
	case OpPut:
		return "put"
	case OpCAS:
		return "cas"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Input is one client request.
type Input struct {
	Kind OpKind
	Key  string
	// Value is the value a put or a successful CAS writes.
	Value string
	// Expected is the value a CAS compares against.
	Expected string
}

// Output is one client response. The zero Output of a put is its only
// successful response.
type Output struct {
	// Value and Found are a get's result.
	Value string
	Found bool
	// OK reports whether a CAS swapped.
	OK bool
	// Unknown marks an operation whose outcome the client never learned;
	// the model accepts it whatever the state. Build it with Unknown().
	Unknown bool
}

// Unknown returns the output that History.Operations should give to
// operations whose outcome is unknown.
func Unknown() Output { return Output{Unknown: true} }

// register is the state of one key: the model is partitioned by key, so
// each partition's state is a single register.
type register struct {
	value  string
	exists bool
}

// Model is the sequential specification of a map of independent registers
// with get, put and compare-and-swap, partitioned per key. An operation with
// an Unknown output is accepted in any state: a put takes effect, a CAS
// swaps if it would, a get changes nothing. That is enough for "may or may
// not have happened", because the checker may also linearize it after
// every other operation, where its effect is invisible.
var Model = porcupine.Model{
	Partition:      partitionOps,
	PartitionEvent: partitionEvents,
	Init:           func() any { return register{} },
	Step:           step,
	Hash: func(state any) uint64 {
		r := state.(register)
		h := uint64(14695981039346656037)
		for i := 0; i < len(r.value); i++ {
			h = (h ^ uint64(r.value[i])) * 1099511628211
		}
		if r.exists {
			h = ^h
		}
		return h
	},
	DescribeOperation: func(input, output any) string { return describe(input.(Input), output.(Output)) },
	DescribeState: func(state any) string {
		r := state.(register)
		if !r.exists {
			return "<none>"
		}
		return fmt.Sprintf("%q", r.value)
	},
}

func step(state, input, output any) (bool, any) {
	r, in, out := state.(register), input.(Input), output.(Output)
	switch in.Kind {
	case OpGet:
		if out.Unknown {
			return true, r
		}
		return out.Found == r.exists && (!out.Found || out.Value == r.value), r
	case OpPut:
		return true, register{value: in.Value, exists: true}
	case OpCAS:
		match := r.exists && r.value == in.Expected
		if !out.Unknown && out.OK != match {
			return false, r
		}
		if match {
			return true, register{value: in.Value, exists: true}
		}
		return true, r
	}
	panic(fmt.Sprintf("porcupinekv: unknown op kind %v", in.Kind))
}

func describe(in Input, out Output) string {
	var call string
	switch in.Kind {
	case OpGet:
		call = fmt.Sprintf("get(%q)", in.Key)
	case OpPut:
		call = fmt.Sprintf("put(%q, %q)", in.Key, in.Value)
	case OpCAS:
		call = fmt.Sprintf("cas(%q, %q -> %q)", in.Key, in.Expected, in.Value)
	default:
		call = in.Kind.String()
	}
	switch {
	case out.Unknown:
		return call + " -> ?"
	case in.Kind == OpGet && !out.Found:
		return call + " -> <none>"
	case in.Kind == OpGet:
		return fmt.Sprintf("%s -> %q", call, out.Value)
	case in.Kind == OpCAS:
		return fmt.Sprintf("%s -> %v", call, out.OK)
	}
	return call
}

// partitionOps splits a history by key, keys in order of first appearance.
func partitionOps(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(Input).Key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// partitionEvents splits an event history by key; a return event goes with
// its call, matched by ID.
func partitionEvents(history []porcupine.Event) [][]porcupine.Event {
	index := map[string]int{}
	byID := map[int]int{}
	var parts [][]porcupine.Event
	for _, ev := range history {
		var i int
		if ev.Kind == porcupine.CallEvent {
			key := ev.Value.(Input).Key
			var ok bool
			if i, ok = index[key]; !ok {
				i = len(parts)
				index[key] = i
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
