package saga

import "fmt"

// Status is where a saga is in its life. The zero value is unset; a
// stored record always holds one of the named values.
//
//	pending ──▶ running ──▶ completed
//	               │
//	               ▼
//	         compensating ──▶ compensated
//	               │  ▲
//	               ▼  │ Client.Retry
//	      compensation_failed ──▶ resolved (Client.Resolve)
type Status uint8

// The saga statuses. Completed, Compensated, CompensationFailed and
// Resolved are terminal: no executor owns a saga in them.
const (
	// StatusPending: started by a client, not yet picked up by an executor.
	StatusPending Status = iota + 1
	// StatusRunning: going forward through the actions.
	StatusRunning
	// StatusCompensating: an action failed; going backward through the
	// compensations of the steps whose actions took (or may have taken)
	// effect.
	StatusCompensating
	// StatusCompleted: every action took effect.
	StatusCompleted
	// StatusCompensated: every effect of the saga was undone.
	StatusCompensated
	// StatusCompensationFailed: a compensation failed for good; the saga
	// is stuck half-undone and needs an operator (Client.Retry or
	// Client.Resolve).
	StatusCompensationFailed
	// StatusResolved: an operator closed a failed saga by hand.
	StatusResolved
)

var statusNames = [...]string{
	StatusPending:            "pending",
	StatusRunning:            "running",
	StatusCompensating:       "compensating",
	StatusCompleted:          "completed",
	StatusCompensated:        "compensated",
	StatusCompensationFailed: "compensation_failed",
	StatusResolved:           "resolved",
}

func (s Status) String() string {
	if s.valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= StatusPending && s <= StatusResolved }

// Terminal reports whether no executor will move the saga any more.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusCompensated || s == StatusCompensationFailed || s == StatusResolved
}

// MarshalText encodes the status by name, so that the log reads well in
// etcdctl.
func (s Status) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("saga: invalid status %d", uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n != "" && n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("saga: unknown status %q", b)
}

// ParseStatus parses a status name ("running", "compensation_failed", ...).
func ParseStatus(name string) (Status, error) {
	var s Status
	err := s.UnmarshalText([]byte(name))
	return s, err
}

// StepStatus is where one step is. Steps move forward only:
//
//	pending ─▶ action_started ─▶ action_done ─────────────┐
//	                 │                                     ▼
//	                 └─▶ action_failed ─▶ compensation_started ─▶ compensated
//	                                             │
//	                                             ▼
//	                                   compensation_failed
//
// action_failed is compensated only when the failure is uncertain
// (StepRecord.Uncertain): retries ran out, so an attempt may have taken
// effect. A permanent error on the first attempt means "no effect".
type StepStatus uint8

// The step statuses.
const (
	// StepPending: no record yet; the action has not been tried.
	StepPending StepStatus = iota + 1
	// StepActionStarted: the intent record of an action attempt is durable;
	// the attempt may or may not have run.
	StepActionStarted
	// StepActionDone: the action took effect; its output is recorded.
	StepActionDone
	// StepActionFailed: the action failed for good.
	StepActionFailed
	// StepCompensationStarted: the intent record of a compensation attempt
	// is durable.
	StepCompensationStarted
	// StepCompensated: the compensation took effect.
	StepCompensated
	// StepCompensationFailed: the compensation failed for good.
	StepCompensationFailed
)

var stepStatusNames = [...]string{
	StepPending:             "pending",
	StepActionStarted:       "action_started",
	StepActionDone:          "action_done",
	StepActionFailed:        "action_failed",
	StepCompensationStarted: "compensation_started",
	StepCompensated:         "compensated",
	StepCompensationFailed:  "compensation_failed",
}

func (s StepStatus) String() string {
	if s.valid() {
		return stepStatusNames[s]
	}
	return fmt.Sprintf("StepStatus(%d)", uint8(s))
}

func (s StepStatus) valid() bool { return s >= StepPending && s <= StepCompensationFailed }

// MarshalText encodes the step status by name.
func (s StepStatus) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("saga: invalid step status %d", uint8(s))
	}
	return []byte(stepStatusNames[s]), nil
}

// UnmarshalText decodes a step status name.
func (s *StepStatus) UnmarshalText(b []byte) error {
	for i, n := range stepStatusNames {
		if n != "" && n == string(b) {
			*s = StepStatus(i)
			return nil
		}
	}
	return fmt.Errorf("saga: unknown step status %q", b)
}

// Kind tells an action from a compensation.
type Kind uint8

// The two kinds of step calls.
const (
	// KindAction is a step's forward call.
	KindAction Kind = iota + 1
	// KindCompensation is a step's undo call.
	KindCompensation
)

func (k Kind) String() string {
	switch k {
	case KindAction:
		return "action"
	case KindCompensation:
		return "compensate"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}
