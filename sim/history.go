package sim

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// OpID names an operation recorded in a History.
type OpID int

// History records client operations for a linearizability check with
// Porcupine, stamped with simulated time. An operation is invoked, then
// either completed with its output, discarded (it certainly had no effect,
// e.g. a request refused before it was proposed), or left open: its
// outcome is unknown (the client timed out, the node it talked to
// crashed). Open operations may or may not have taken effect; Operations
// gives them a return time at the end of the history, which lets the
// checker place them anywhere after their invocation (including "after
// everything", which is the same as never), and an output that the model
// must accept whatever the state is.
type History struct {
	ops    []porcupine.Operation
	state  []opState
	end    int64
	opened int
}

type opState int

const (
	opOpen opState = iota + 1
	opDone
	opDiscarded
)

// Invoke records that client called an operation with input at time at
// and returns its ID. Client IDs are small integers from 0, as Porcupine's
// visualization wants.
func (h *History) Invoke(client int, at time.Duration, input any) OpID {
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: input, Call: int64(at)})
	h.state = append(h.state, opOpen)
	h.end = max(h.end, int64(at))
	h.opened++
	return OpID(len(h.ops) - 1)
}

// Complete records the output of an open operation at time at. Completing
// an operation twice, or a discarded one, panics: it is a harness bug.
func (h *History) Complete(id OpID, at time.Duration, output any) {
	h.mustBeOpen(id)
	if int64(at) < h.ops[id].Call {
		panic(fmt.Sprintf("sim: op %d completes at %v before its call at %v", id, at, time.Duration(h.ops[id].Call)))
	}
	h.ops[id].Output = output
	h.ops[id].Return = int64(at)
	h.state[id] = opDone
	h.end = max(h.end, int64(at))
	h.opened--
}

// Discard removes an open operation that certainly had no effect.
func (h *History) Discard(id OpID) {
	h.mustBeOpen(id)
	h.state[id] = opDiscarded
	h.opened--
}

// IsOpen reports whether operation id is still waiting for its outcome.
func (h *History) IsOpen(id OpID) bool { return h.state[id] == opOpen }

// Open returns the number of operations whose outcome is unknown so far.
func (h *History) Open() int { return h.opened }

// Len returns the number of recorded operations, discarded ones included.
func (h *History) Len() int { return len(h.ops) }

func (h *History) mustBeOpen(id OpID) {
	if id < 0 || int(id) >= len(h.ops) || h.state[id] != opOpen {
		panic(fmt.Sprintf("sim: op %d is not open", id))
	}
}

// Operations returns the history for Porcupine: completed operations as
// recorded, and every open operation with Return one past the last time
// in the history and Output set to unknown (the model's "any output"
// marker). Discarded operations are left out.
func (h *History) Operations(unknown any) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(h.ops))
	for i, op := range h.ops {
		switch h.state[i] {
		case opDone:
			out = append(out, op)
		case opOpen:
			op.Output = unknown
			op.Return = h.end + 1
			out = append(out, op)
		}
	}
	return out
}
