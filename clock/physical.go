package clock

import (
	"fmt"
	"sync/atomic"
	"time"
)

// PhysicalClock is the source of physical time for an HLC: Now returns
// nanoseconds since the Unix epoch. It may step backwards (an NTP
// correction, an operator, a virtual machine migration); the HLC stays
// monotonic regardless. Implementations must be safe for concurrent use.
type PhysicalClock interface {
	Now() int64
}

// Compile-time checks that the clocks below are PhysicalClocks.
var (
	_ PhysicalClock = SystemClock{}
	_ PhysicalClock = (*ManualClock)(nil)
	_ PhysicalClock = (*SkewedClock)(nil)
)

// SystemClock reads the operating system's wall clock. It is the physical
// clock of a production node.
type SystemClock struct{}

// Now returns time.Now().UnixNano(): wall time, which can step backwards.
func (SystemClock) Now() int64 { return time.Now().UnixNano() }

// ManualClock is a physical clock that moves only when told to. It exists for
// tests and the simulator; a node must never run on one. The zero value reads
// 0. It is safe for concurrent use and must not be copied after first use.
type ManualClock struct {
	ns atomic.Int64
}

// NewManualClock returns a ManualClock that reads start nanoseconds.
func NewManualClock(start int64) *ManualClock {
	m := &ManualClock{}
	m.ns.Store(start)
	return m
}

// Now returns the time last set.
func (m *ManualClock) Now() int64 { return m.ns.Load() }

// Set moves the clock to ns, which may be earlier than now (a step back).
func (m *ManualClock) Set(ns int64) { m.ns.Store(ns) }

// Advance moves the clock by d, which may be negative (a step back).
func (m *ManualClock) Advance(d time.Duration) { m.ns.Add(int64(d)) }

// MaxSkew bounds the offset a SkewedClock accepts: a day is far beyond any
// skew worth injecting, and the bound keeps Now clear of int64 overflow for
// any real wall time.
const MaxSkew = 24 * time.Hour

// SkewedClock wraps a PhysicalClock and adds an adjustable offset to every
// reading. It is how fault injection (a guarded admin call, the verification
// harness's clock nemesis) skews one node's clock without touching the
// machine's. Its offset starts at 0. It is safe for concurrent use and must
// not be copied after first use.
type SkewedClock struct {
	base   PhysicalClock
	offset atomic.Int64 // nanoseconds, within [-MaxSkew, MaxSkew]
}

// NewSkewedClock returns a SkewedClock over base with offset 0. It panics if
// base is nil.
func NewSkewedClock(base PhysicalClock) *SkewedClock {
	if base == nil {
		panic("clock: NewSkewedClock with a nil base clock")
	}
	return &SkewedClock{base: base}
}

// Now returns the base clock's reading plus the offset.
func (s *SkewedClock) Now() int64 { return s.base.Now() + s.offset.Load() }

// Offset returns the offset currently added to the base clock.
func (s *SkewedClock) Offset() time.Duration { return time.Duration(s.offset.Load()) }

// SetOffset makes later readings d ahead of the base clock (behind if d is
// negative). It returns an error, and changes nothing, if |d| > MaxSkew.
func (s *SkewedClock) SetOffset(d time.Duration) error {
	if d < -MaxSkew || d > MaxSkew {
		return fmt.Errorf("clock: skew %v out of range [-%v, %v]", d, MaxSkew, MaxSkew)
	}
	s.offset.Store(int64(d))
	return nil
}
