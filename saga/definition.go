package saga

import (
	"context"
	"fmt"
	"math"
	"time"
)

// ActionFunc is a step's forward call. It must be idempotent by
// Call.Key: called again with the same key (after a crash, a timeout or a
// takeover) it must not apply twice, and should return the same output.
// A nil error means the action took effect; an error marked Permanent
// means it did not and never will; any other error is retried.
type ActionFunc func(ctx context.Context, c *Call) (output []byte, err error)

// CompensateFunc undoes a step's action. It must be idempotent by
// Call.Key and must succeed as a no-op when the action never took effect:
// the executor compensates a step whose action's outcome is uncertain.
type CompensateFunc func(ctx context.Context, c *Call) error

// Step is one step of a saga.
type Step struct {
	// Name identifies the step within its definition; it is part of the
	// idempotency keys and of the log, so renaming a step breaks the sagas
	// in flight (see the package HAZARD).
	Name string
	// Action is the forward call. Required.
	Action ActionFunc
	// Compensate undoes Action; nil means there is nothing to undo (a
	// notification, a read).
	Compensate CompensateFunc
}

// Definition is a named, ordered list of steps. Executors that register
// the same name must register the same steps: an executor refuses to run
// a saga whose recorded step list differs from its definition.
type Definition struct {
	// Name identifies the definition; Start names it.
	Name string
	// Steps run in order; compensations run in reverse order.
	Steps []Step
	// Retry bounds the attempts of each action; the zero value takes
	// ExecutorConfig.ActionRetry.
	Retry RetryPolicy
	// CompensationRetry bounds the attempts of each compensation; the zero
	// value takes ExecutorConfig.CompensationRetry.
	CompensationRetry RetryPolicy
	// StepTimeout bounds one attempt of a call; past it the call's context
	// is cancelled and the attempt counts as a transient failure. Zero
	// takes ExecutorConfig.StepTimeout.
	StepTimeout time.Duration
}

func (d *Definition) validate(maxSteps int) error {
	if err := validName(d.Name); err != nil {
		return fmt.Errorf("definition: %w", err)
	}
	if len(d.Steps) == 0 {
		return fmt.Errorf("%w: definition %q has no steps", ErrInvalid, d.Name)
	}
	if len(d.Steps) > maxSteps {
		return fmt.Errorf("%w: definition %q has %d steps, the bound is %d (MaxSteps)", ErrTooLarge, d.Name, len(d.Steps), maxSteps)
	}
	seen := map[string]bool{}
	for i, s := range d.Steps {
		if err := validName(s.Name); err != nil {
			return fmt.Errorf("definition %q step %d: %w", d.Name, i, err)
		}
		if seen[s.Name] {
			return fmt.Errorf("%w: definition %q has two steps named %q", ErrInvalid, d.Name, s.Name)
		}
		seen[s.Name] = true
		if s.Action == nil {
			return fmt.Errorf("%w: definition %q step %q has no action", ErrInvalid, d.Name, s.Name)
		}
	}
	for _, p := range []RetryPolicy{d.Retry, d.CompensationRetry} {
		if p != (RetryPolicy{}) {
			if err := p.Validate(); err != nil {
				return fmt.Errorf("definition %q: %w", d.Name, err)
			}
		}
	}
	if d.StepTimeout < 0 {
		return fmt.Errorf("%w: definition %q has a negative StepTimeout", ErrInvalid, d.Name)
	}
	return nil
}

func (d *Definition) stepNames() []string {
	names := make([]string, len(d.Steps))
	for i, s := range d.Steps {
		names[i] = s.Name
	}
	return names
}

// Call is what a step function is told about its call.
type Call struct {
	// SagaID is the saga's ID.
	SagaID string
	// Definition is the saga's definition name.
	Definition string
	// Step is the step's name and Index its position.
	Step  string
	Index int
	// Kind says whether this is the action or the compensation.
	Kind Kind
	// Key is the idempotency key: IdempotencyKey(SagaID, Step, Kind). It
	// is the same for every attempt by any executor.
	Key string
	// Attempt counts the attempts of this call, from 1, across executors.
	Attempt int
	// Input is the saga's input payload. Do not modify it.
	Input []byte
	// ActionOutput is, for a compensation, what the action returned (nil
	// if the action's outcome is uncertain).
	ActionOutput []byte

	outputs map[string][]byte
}

// Output returns the output of an earlier step whose action is done.
func (c *Call) Output(step string) ([]byte, bool) {
	b, ok := c.outputs[step]
	return b, ok
}

// RetryPolicy bounds the attempts of a call and spaces them out with
// exponential backoff and jitter. Attempt n (n >= 2) waits
// min(MaxBackoff, InitialBackoff * Multiplier^(n-2)) scaled by a random
// factor in [1-Jitter, 1], so executors that failed together do not retry
// in lockstep.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts, counted across executors: an
	// attempt cut short by a crash counts. At the bound an action fails
	// (the saga compensates) and a compensation fails (the saga ends in
	// compensation_failed). At least 1.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt. Positive.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait. At least InitialBackoff.
	MaxBackoff time.Duration
	// Multiplier grows the wait per attempt. At least 1.
	Multiplier float64
	// Jitter is the fraction of each wait that is random, in [0, 1].
	Jitter float64
}

// Validate checks the policy's bounds.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("%w: retry MaxAttempts %d, want at least 1", ErrInvalid, p.MaxAttempts)
	case p.InitialBackoff <= 0:
		return fmt.Errorf("%w: retry InitialBackoff must be positive", ErrInvalid)
	case p.MaxBackoff < p.InitialBackoff:
		return fmt.Errorf("%w: retry MaxBackoff %v below InitialBackoff %v", ErrInvalid, p.MaxBackoff, p.InitialBackoff)
	case p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0):
		return fmt.Errorf("%w: retry Multiplier %v, want at least 1", ErrInvalid, p.Multiplier)
	case !(p.Jitter >= 0 && p.Jitter <= 1):
		return fmt.Errorf("%w: retry Jitter %v outside [0, 1]", ErrInvalid, p.Jitter)
	}
	return nil
}

// Backoff is the wait before attempt (>= 2), given a uniform random u in
// [0, 1). It is pure, so tests can pin it.
func (p RetryPolicy) Backoff(attempt int, u float64) time.Duration {
	if attempt < 2 {
		return 0
	}
	d := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(attempt-2))
	if d > float64(p.MaxBackoff) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.MaxBackoff)
	}
	d *= 1 - p.Jitter*u
	return time.Duration(d)
}

// orDefault returns p, or def when p is the zero value.
func (p RetryPolicy) orDefault(def RetryPolicy) RetryPolicy {
	if p == (RetryPolicy{}) {
		return def
	}
	return p
}
