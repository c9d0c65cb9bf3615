package detector

import (
	"errors"
	"time"
)

// Detector is the contract shared by the failure detectors of this package.
//
// A detector is fed the arrival times of a node's heartbeats and answers, for
// a given moment, how suspicious the node's silence is. Every method takes the
// time as an argument: the detector never reads a clock, so the caller's
// clock (time.Now in the node, the simulator's fake clock in tests) is the
// injected clock. Times should come from one monotonic source (values
// returned by time.Now carry a monotonic reading that time.Time.Sub uses).
//
// Implementations are safe for concurrent use.
type Detector[K comparable] interface {
	// Heartbeat records that a heartbeat from node arrived at at. A heartbeat
	// that is not after the node's last recorded one (a duplicate or a
	// reordered message) is ignored. Heartbeat returns ErrTooManyNodes, and
	// records nothing, if node is new and the detector already tracks its
	// configured maximum number of nodes.
	Heartbeat(node K, at time.Time) error
	// Suspicion returns a finite, non-negative level that grows with the
	// time since node's last heartbeat (never NaN, never +Inf). Its scale
	// is the detector's own (phi for PhiAccrual, elapsed/timeout for
	// FixedTimeout). A node that has never sent a heartbeat, or that was
	// removed, has suspicion 0.
	Suspicion(node K, now time.Time) float64
	// Available reports whether node is trusted at now: whether its
	// suspicion is below the detector's threshold. An unknown node is
	// available: a detector cannot suspect a node it has never heard from;
	// deciding whether that node exists is membership's job.
	Available(node K, now time.Time) bool
	// Remove forgets node and frees its state. A later heartbeat starts a
	// fresh history. A heartbeat that races with Remove is either lost or
	// starts the fresh history.
	Remove(node K)
}

// ErrTooManyNodes is returned by Heartbeat when a new node would exceed the
// detector's MaxNodes bound.
var ErrTooManyNodes = errors.New("detector: too many tracked nodes")

// Compile-time checks that both detectors satisfy the interface.
var (
	_ Detector[string] = (*PhiAccrual[string])(nil)
	_ Detector[string] = (*FixedTimeout[string])(nil)
)
