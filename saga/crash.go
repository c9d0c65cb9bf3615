package saga

import "fmt"

// Point is a place in the executor's run of a saga where a crash leaves a
// distinct durable state. Together they cover every step boundary and
// every gap between a call and the log write that records it.
type Point uint8

// The crash points, in the order a saga meets them.
const (
	// PointBeforeBegin: a pending saga is claimed; nothing is written yet.
	PointBeforeBegin Point = iota + 1
	// PointBeforeAction: a step boundary, before an action attempt's
	// intent record.
	PointBeforeAction
	// PointAfterActionIntent: the intent is durable; the action not called.
	PointAfterActionIntent
	// PointAfterAction: the action returned; its result is not logged.
	PointAfterAction
	// PointAfterActionLogged: the action's result (done or failed) is
	// durable: a step boundary.
	PointAfterActionLogged
	// PointBeforeCompensation: before a compensation attempt's intent.
	PointBeforeCompensation
	// PointAfterCompensationIntent: the intent is durable; the
	// compensation not called.
	PointAfterCompensationIntent
	// PointAfterCompensation: the compensation returned; its result is not
	// logged.
	PointAfterCompensation
	// PointAfterCompensationLogged: the compensation's result is durable.
	PointAfterCompensationLogged
	// PointBeforeFinish: every step is settled; the final status is not
	// written.
	PointBeforeFinish
)

var pointNames = [...]string{
	PointBeforeBegin:             "before-begin",
	PointBeforeAction:            "before-action",
	PointAfterActionIntent:       "after-action-intent",
	PointAfterAction:             "after-action",
	PointAfterActionLogged:       "after-action-logged",
	PointBeforeCompensation:      "before-compensation",
	PointAfterCompensationIntent: "after-compensation-intent",
	PointAfterCompensation:       "after-compensation",
	PointAfterCompensationLogged: "after-compensation-logged",
	PointBeforeFinish:            "before-finish",
}

func (p Point) String() string {
	if p >= PointBeforeBegin && p <= PointBeforeFinish {
		return pointNames[p]
	}
	return fmt.Sprintf("Point(%d)", uint8(p))
}

// CrashPoint is what ExecutorConfig.CrashHook is asked about.
type CrashPoint struct {
	// Executor is the asking executor's ID.
	Executor string
	// SagaID is the saga being run.
	SagaID string
	// Point is where the executor is.
	Point Point
	// Step is the step's name ("" for PointBeforeBegin and
	// PointBeforeFinish) and Index its position (-1 then).
	Step  string
	Index int
	// Attempt is the attempt about to run or just run (0 where none).
	Attempt int
}

func (c CrashPoint) String() string {
	if c.Step == "" {
		return fmt.Sprintf("%s %s", c.SagaID, c.Point)
	}
	return fmt.Sprintf("%s %s step %s attempt %d", c.SagaID, c.Point, c.Step, c.Attempt)
}
