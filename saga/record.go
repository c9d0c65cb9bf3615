package saga

import (
	"encoding/json"
	"fmt"
	"time"
)

// The log's records are JSON, so that an operator can read a saga with
// etcdctl get --prefix /cairn/saga/. Each carries a version; a decoder
// refuses versions it does not know rather than guess.
const recordVersion = 1

// Hard bounds that hold whatever the configuration: a record past them is
// corrupt. The configured bounds (Config) are smaller.
const (
	// maxStepsHard: step keys carry a 3-digit index.
	maxStepsHard = 1000
	// maxRecordBytes is etcd's default request bound (1.5 MiB).
	maxRecordBytes = 1536 * 1024
	// maxAttemptsHard bounds a stored attempt counter.
	maxAttemptsHard = 1 << 20
)

// stateRecord is the saga record at state/<id>.
//
// Invariants (valid): Status is a named status; Steps is empty only while
// pending (the first executor fixes the step list from its definition
// when it begins the saga) and holds at most maxStepsHard valid names.
type stateRecord struct {
	V          int       `json:"v"`
	ID         string    `json:"id"`
	Definition string    `json:"definition"`
	Steps      []string  `json:"steps,omitempty"`
	Status     Status    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Executor   string    `json:"executor,omitempty"`
	Resolution string    `json:"resolution,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

func (s *stateRecord) valid() error {
	switch {
	case s.V != recordVersion:
		return fmt.Errorf("%w: state record version %d, want %d", ErrCorrupt, s.V, recordVersion)
	case validID(s.ID) != nil:
		return fmt.Errorf("%w: state record ID %q", ErrCorrupt, s.ID)
	case validName(s.Definition) != nil:
		return fmt.Errorf("%w: state record definition %q", ErrCorrupt, s.Definition)
	case !s.Status.valid():
		return fmt.Errorf("%w: state record status %d", ErrCorrupt, s.Status)
	case len(s.Steps) > maxStepsHard:
		return fmt.Errorf("%w: %d steps", ErrCorrupt, len(s.Steps))
	case len(s.Steps) == 0 && s.Status != StatusPending:
		return fmt.Errorf("%w: a %s saga without steps", ErrCorrupt, s.Status)
	}
	for _, n := range s.Steps {
		if validName(n) != nil {
			return fmt.Errorf("%w: step name %q", ErrCorrupt, n)
		}
	}
	return nil
}

func encodeState(s *stateRecord) []byte {
	s.V = recordVersion
	if err := s.valid(); err != nil {
		panic(fmt.Sprintf("saga: encoding an invalid state record: %v", err)) // a programmer error
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

func decodeState(b []byte) (*stateRecord, error) {
	if len(b) > maxRecordBytes {
		return nil, fmt.Errorf("%w: state record of %d bytes", ErrCorrupt, len(b))
	}
	var s stateRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: state record: %v", ErrCorrupt, err)
	}
	if err := s.valid(); err != nil {
		return nil, err
	}
	return &s, nil
}

// StepRecord is the log's record of one step, at step/<id>/<index>.
//
// Invariants (valid): Status is a named status other than pending (a
// pending step has no record); the attempt counters are the attempts
// begun so far, each counted before it runs (so a crash mid-attempt still
// uses one up); Output is what the action returned, kept for the
// compensation and for later steps.
type StepRecord struct {
	// Name is the step's name in its definition.
	Name string `json:"name"`
	// Status is where the step is.
	Status StepStatus `json:"status"`
	// ActionAttempts counts the action attempts begun.
	ActionAttempts int `json:"action_attempts,omitempty"`
	// CompensationAttempts counts the compensation attempts begun.
	CompensationAttempts int `json:"compensation_attempts,omitempty"`
	// Uncertain marks a failed action that may have taken effect (its
	// retries ran out, or it failed permanently after earlier attempts):
	// such a step is compensated too.
	Uncertain bool `json:"uncertain,omitempty"`
	// Output is the action's result.
	Output []byte `json:"output,omitempty"`
	// Error is the last error of the step, truncated to
	// Config.MaxErrorBytes.
	Error string `json:"error,omitempty"`
	// Executor is the executor that wrote the record.
	Executor string `json:"executor,omitempty"`
	// Updated is when the record was written (the writer's clock).
	Updated time.Time `json:"updated"`
}

// stepWire adds the version to a StepRecord on the wire.
type stepWire struct {
	V int `json:"v"`
	StepRecord
}

func (r *StepRecord) valid() error {
	switch {
	case validName(r.Name) != nil:
		return fmt.Errorf("%w: step name %q", ErrCorrupt, r.Name)
	case !r.Status.valid() || r.Status == StepPending:
		return fmt.Errorf("%w: step status %d", ErrCorrupt, r.Status)
	case r.ActionAttempts < 0 || r.ActionAttempts > maxAttemptsHard,
		r.CompensationAttempts < 0 || r.CompensationAttempts > maxAttemptsHard:
		return fmt.Errorf("%w: attempt counters %d, %d", ErrCorrupt, r.ActionAttempts, r.CompensationAttempts)
	}
	return nil
}

func encodeStep(r *StepRecord) []byte {
	if err := r.valid(); err != nil {
		panic(fmt.Sprintf("saga: encoding an invalid step record: %v", err))
	}
	b, err := json.Marshal(stepWire{V: recordVersion, StepRecord: *r})
	if err != nil {
		panic(err)
	}
	return b
}

func decodeStep(b []byte) (*StepRecord, error) {
	if len(b) > maxRecordBytes {
		return nil, fmt.Errorf("%w: step record of %d bytes", ErrCorrupt, len(b))
	}
	var w stepWire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: step record: %v", ErrCorrupt, err)
	}
	if w.V != recordVersion {
		return nil, fmt.Errorf("%w: step record version %d, want %d", ErrCorrupt, w.V, recordVersion)
	}
	if err := w.StepRecord.valid(); err != nil {
		return nil, err
	}
	return &w.StepRecord, nil
}

// truncate cuts s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…(truncated)"
	if n <= len(mark) {
		return s[:n]
	}
	return s[:n-len(mark)] + mark
}
