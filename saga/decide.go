package saga

// The decision core: given what the log says, what does a saga do next?
// It is a pure function of the log (no clock, no I/O), so an executor
// that takes over a saga decides exactly as the crashed one would have,
// and the table of cases is tested on its own (decide_test.go).

// moveKind is what the executor does next.
type moveKind uint8

const (
	// moveBegin: write status running (and the step list).
	moveBegin moveKind = iota + 1
	// moveAction: run (or re-run) step's action.
	moveAction
	// moveCompensate: run (or re-run) step's compensation.
	moveCompensate
	// moveTurnBack: the log shows a failed step while running; write
	// status compensating. (The executor writes the failure and the turn
	// in one Txn, so this only repairs a log written otherwise.)
	moveTurnBack
	// moveFinish: write the final status (completed or compensated) and
	// release the saga.
	moveFinish
	// moveNone: the saga is terminal; nothing to do.
	moveNone
)

type move struct {
	kind   moveKind
	step   int    // for moveAction, moveCompensate, moveTurnBack
	status Status // for moveFinish
}

// needsCompensation reports whether a step's effects may exist and are
// not yet known to be undone.
func needsCompensation(r *StepRecord) bool {
	switch r.Status {
	case StepActionStarted, StepActionDone, StepCompensationStarted, StepCompensationFailed:
		// compensation_failed appears here only after Client.Retry turned
		// the saga back to compensating.
		return true
	case StepActionFailed:
		return r.Uncertain
	}
	return false
}

// nextMove decides from the saga's status and its step records (one per
// step, StepPending where none exists) what to do. compensable[i] says
// whether step i has a compensation.
func nextMove(st Status, steps []StepRecord, compensable []bool) move {
	switch st {
	case StatusPending:
		return move{kind: moveBegin}
	case StatusRunning:
		for i := range steps {
			switch steps[i].Status {
			case StepPending, StepActionStarted:
				return move{kind: moveAction, step: i}
			case StepActionDone:
				continue
			default:
				return move{kind: moveTurnBack, step: i}
			}
		}
		return move{kind: moveFinish, status: StatusCompleted}
	case StatusCompensating:
		// Reverse order: the last step that may have an effect first.
		for i := len(steps) - 1; i >= 0; i-- {
			if compensable[i] && needsCompensation(&steps[i]) {
				return move{kind: moveCompensate, step: i}
			}
		}
		return move{kind: moveFinish, status: StatusCompensated}
	}
	return move{kind: moveNone}
}
