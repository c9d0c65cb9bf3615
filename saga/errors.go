package saga

import (
	"errors"
	"fmt"
)

// Errors returned by the client and the executor. Test them with
// errors.Is.
var (
	// ErrNotFound: no saga has the given ID.
	ErrNotFound = errors.New("saga: not found")
	// ErrConflict: a saga with the given ID exists with another definition
	// or another input (Start is idempotent only for the same request).
	ErrConflict = errors.New("saga: ID already used by a different saga")
	// ErrInvalid: a malformed ID, name or definition.
	ErrInvalid = errors.New("saga: invalid argument")
	// ErrTooLarge: an input, output or definition past its configured
	// bound.
	ErrTooLarge = errors.New("saga: too large")
	// ErrUnknownDefinition: the executor has no definition of that name.
	ErrUnknownDefinition = errors.New("saga: unknown definition")
	// ErrBusy: the executor already runs Config.MaxConcurrent sagas.
	ErrBusy = errors.New("saga: executor at its concurrency bound")
	// ErrFenced: a log write was refused because this executor no longer
	// owns the saga (its lease expired and another executor took over).
	ErrFenced = errors.New("saga: ownership lost (fenced)")
	// ErrWrongStatus: an operator action on a saga not in the status it
	// needs (Retry and Resolve need compensation_failed, Purge a terminal
	// saga).
	ErrWrongStatus = errors.New("saga: wrong status for this operation")
	// ErrCorrupt: a log record that does not decode or does not fit its
	// saga.
	ErrCorrupt = errors.New("saga: corrupt log record")
	// ErrClosed: the executor is closed.
	ErrClosed = errors.New("saga: executor closed")
)

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// panicError is a step function's panic, turned into a permanent error
// whose effect is uncertain.
type panicError struct{ msg string }

func (p *panicError) Error() string { return p.msg }

// Permanent marks err as permanent: a step function returns it to say
// that retrying cannot help and, for an action, that the attempt had no
// effect (a declined card, an unknown customer). The executor stops
// retrying at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent. Every other error is transient and retried with backoff.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
