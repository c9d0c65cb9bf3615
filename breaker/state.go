package breaker

import (
	"fmt"
	"time"
)

// State is the position of a breaker.
type State uint8

// The states of a breaker. The zero State is not a state.
const (
	// Closed lets every call through and counts failures.
	Closed State = iota + 1
	// Open rejects every call with an *OpenError until its open duration
	// has passed.
	Open
	// HalfOpen lets at most MaxProbes calls through at a time to test
	// the dependency, and rejects the others with ErrTooManyProbes.
	HalfOpen
)

// String returns the state's name in lower case, e.g. "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Reason is why a breaker changed state.
type Reason uint8

// The reasons for a transition.
const (
	// ReasonConsecutiveFailures: Closed to Open after
	// Config.ConsecutiveFailures failures in a row.
	ReasonConsecutiveFailures Reason = iota + 1
	// ReasonFailureRate: Closed to Open because the failure rate over the
	// window reached Config.FailureRate.
	ReasonFailureRate
	// ReasonOpenElapsed: Open to HalfOpen once the open duration passed.
	ReasonOpenElapsed
	// ReasonProbeFailed: HalfOpen to Open after a probe failed.
	ReasonProbeFailed
	// ReasonProbeTimedOut: HalfOpen to Open after a probe went
	// unreported for Config.ProbeTimeout.
	ReasonProbeTimedOut
	// ReasonProbesSucceeded: HalfOpen to Closed after
	// Config.ProbeSuccesses probes succeeded.
	ReasonProbesSucceeded
)

// String returns the reason in lower case with hyphens, e.g.
// "consecutive-failures", fit for a metric label.
func (r Reason) String() string {
	switch r {
	case ReasonConsecutiveFailures:
		return "consecutive-failures"
	case ReasonFailureRate:
		return "failure-rate"
	case ReasonOpenElapsed:
		return "open-elapsed"
	case ReasonProbeFailed:
		return "probe-failed"
	case ReasonProbeTimedOut:
		return "probe-timed-out"
	case ReasonProbesSucceeded:
		return "probes-succeeded"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Transition is a change of state, as passed to Config.OnStateChange.
type Transition struct {
	From, To State
	Reason   Reason
	// At is the breaker clock's reading when the change was made.
	At time.Time
}

// Outcome is how a call's result counts for the breaker.
type Outcome uint8

// The outcomes of a call.
const (
	// Success: the dependency did its job (this includes answers such as
	// "not found" that are the caller's problem, not the dependency's).
	Success Outcome = iota + 1
	// Failure: the dependency failed or did not answer in time.
	Failure
	// Ignored: the call says nothing about the dependency (the caller
	// gave up): it counts neither way.
	Ignored
)

// String returns the outcome's name in lower case.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}
