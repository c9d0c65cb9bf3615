package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Target is where a workload sends: the etcd v3 endpoints (host:port) for
// the strong tier's workloads, the RESP addresses for the eventual tier's.
// Clients are spread over the addresses round-robin.
type Target struct {
	// Name labels the target in results ("cairn", "etcd", "redis"); empty
	// means the endpoints themselves.
	Name      string
	Endpoints []string
	Redis     []string
}

// Label is Name, or the addresses when Name is empty.
func (t Target) Label(k Kind) string {
	if t.Name != "" {
		return t.Name
	}
	if k.Strong() {
		return fmt.Sprint(t.Endpoints)
	}
	return fmt.Sprint(t.Redis)
}

// A Workload is the client side of one Spec against one Target. The
// runner calls Open once, then Do from Spec.Clients goroutines (client c
// from its own goroutine only, so per-client state needs no lock), then
// Close.
type Workload interface {
	// Open connects and prepares what the workload needs (the key a range
	// reads, the keys a get reads, the watch streams). It is not timed. An
	// unreachable target fails here with an error that says so.
	Open(ctx context.Context) error
	// Do sends n requests as client c in one round trip (n is 1 unless the
	// spec pipelines) and returns when they are answered.
	Do(ctx context.Context, c, n int) error
	// Close releases every connection and goroutine.
	Close() error
}

// eventSource is a workload that measures latency outside Do (watch):
// after the run, it waits up to drain for the events still in flight and
// reports what its watchers saw.
type eventSource interface {
	events(ctx context.Context, puts int64, elapsed, drain time.Duration) *EventResult
}

// newWorkload is NewWorkload; tests put a fake in its place.
var newWorkload = NewWorkload

// NewWorkload builds the workload of spec against target. spec must have
// passed Validate.
func NewWorkload(spec Spec, t Target) (Workload, error) {
	if spec.Kind.Strong() {
		if len(t.Endpoints) == 0 {
			return nil, errors.New("no etcd v3 endpoints to send to")
		}
		return newStrongWorkload(spec, t.Endpoints), nil
	}
	if len(t.Redis) == 0 {
		return nil, errors.New("no RESP addresses to send to")
	}
	return newRESPWorkload(spec, t.Redis), nil
}
