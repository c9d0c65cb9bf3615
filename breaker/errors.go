package breaker

import (
	"errors"
	"fmt"
	"time"
)

// ErrOpen is matched, with errors.Is, by every *OpenError.
var ErrOpen = errors.New("breaker: open")

// OpenError is returned by Allow and Do while the breaker is open.
type OpenError struct {
	// RetryAfter is how long until the breaker lets a probe through.
	RetryAfter time.Duration
}

// Error implements error.
func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: open, retry after %v", e.RetryAfter)
}

// Unwrap returns ErrOpen, so that errors.Is(err, ErrOpen) holds.
func (e *OpenError) Unwrap() error { return ErrOpen }

// ErrTooManyProbes is returned by Allow and Do while the breaker is
// half-open and MaxProbes probes are already in flight.
var ErrTooManyProbes = errors.New("breaker: half-open, too many probes in flight")
