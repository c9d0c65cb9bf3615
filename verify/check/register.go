package check

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cairndb/cairn/sim/porcupinekv"
	"github.com/cairndb/cairn/verify/history"
)

// RegisterOp is one get, put or compare-and-swap on a register.
type RegisterOp struct {
	// Client is the worker, zero-based (Porcupine's visualization draws
	// one line per client).
	Client int
	// Call and Return bound the operation in time; Return is ignored for
	// an Unknown outcome.
	Call, Return time.Duration
	// Input is the request.
	Input porcupinekv.Input
	// Output is the response; ignored for an Unknown outcome.
	Output porcupinekv.Output
	// Outcome: OK, or Unknown for a write the client gave up on. Failed
	// operations must not be recorded here (they had no effect).
	Outcome history.Outcome
}

// RegisterConfig tunes CheckRegisters.
type RegisterConfig struct {
	// Timeout bounds Porcupine's search; a search that does not finish
	// is a failure. Must be > 0.
	Timeout time.Duration
	// VisualizePath, if set, is where Porcupine's interactive HTML
	// visualization is written when the history is not linearizable.
	VisualizePath string
	// Annotations are drawn in the visualization (the nemesis's faults).
	Annotations []porcupine.Annotation
}

// DefaultRegisterTimeout bounds a register check: Porcupine finishes in
// seconds on per-key histories of a few hundred operations.
const DefaultRegisterTimeout = 3 * time.Minute

// CheckRegisters checks that the history of every key is linearizable.
// Unknown operations may take effect anywhere after their call: they are
// given a return time after every other operation and an output the
// model accepts in any state.
func CheckRegisters(ops []RegisterOp, cfg RegisterConfig) Result {
	const name = "register linearizability"
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRegisterTimeout
	}
	h, unknown := RegisterHistory(ops)
	res, info := porcupine.CheckOperationsVerbose(porcupinekv.Model, h, cfg.Timeout)
	keys := len(porcupinekv.Model.Partition(h))
	summary := fmt.Sprintf("%d ops (%d unknown) on %d keys", len(h), unknown, keys)
	switch res {
	case porcupine.Ok:
		return Result{Checker: name, Verdict: Pass, Summary: "linearizable: " + summary}
	case porcupine.Unknown:
		return Result{Checker: name, Verdict: Fail,
			Summary: fmt.Sprintf("check did not finish within %v (%s): result unknown, counted as a failure", cfg.Timeout, summary)}
	}
	r := Result{Checker: name, Verdict: Fail, Summary: "NOT linearizable: " + summary}
	// porcupinekv names the failing keys and prints the first one's
	// operations and longest linearizable prefix.
	_, details := porcupinekv.CheckLinearizable(h, cfg.Timeout, "")
	r.Details = []string{details}
	if cfg.VisualizePath != "" {
		info.AddAnnotations(cfg.Annotations)
		if err := porcupine.VisualizePath(porcupinekv.Model, info, cfg.VisualizePath); err != nil {
			r.Details = append(r.Details, fmt.Sprintf("writing the visualization failed: %v", err))
		} else {
			r.Artifacts = append(r.Artifacts, cfg.VisualizePath)
		}
	}
	return r
}

// RegisterHistory converts ops into Porcupine operations (times in
// nanoseconds) and counts the unknown ones, which return after every
// other operation with porcupinekv.Unknown().
func RegisterHistory(ops []RegisterOp) (h []porcupine.Operation, unknown int) {
	var end int64
	for _, op := range ops {
		end = max(end, int64(op.Return), int64(op.Call))
	}
	end++
	// The visualization draws one line per client id from 0 up: number
	// the clients densely, in order of first appearance.
	dense := map[int]int{}
	h = make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		id, ok := dense[op.Client]
		if !ok {
			id = len(dense)
			dense[op.Client] = id
		}
		o := porcupine.Operation{ClientId: id, Input: op.Input, Call: int64(op.Call), Output: op.Output, Return: int64(op.Return)}
		if op.Outcome == history.Unknown {
			o.Output, o.Return = porcupinekv.Unknown(), end
			unknown++
		}
		h = append(h, o)
	}
	return h, unknown
}
