package breaker

import "sync/atomic"

// counters are the breaker's metrics.
type counters struct {
	allowed, rejectedOpen, rejectedProbes atomic.Uint64
	successes, failures, ignored, stale   atomic.Uint64
	probeTimeouts, transitions            atomic.Uint64
}

// Counts is a snapshot of a breaker's counters, for metrics. Each counter
// only grows.
type Counts struct {
	// Allowed counts permits issued; RejectedOpen and RejectedProbes
	// count Allow calls refused with an *OpenError and with
	// ErrTooManyProbes.
	Allowed, RejectedOpen, RejectedProbes uint64
	// Successes, Failures and Ignored count the outcomes reported for
	// permits of the current generation, as classified.
	Successes, Failures, Ignored uint64
	// Stale counts outcomes discarded because their permit's generation
	// had ended or their probe had timed out.
	Stale uint64
	// ProbeTimeouts counts probes that timed out unreported.
	ProbeTimeouts uint64
	// Transitions counts state changes.
	Transitions uint64
}

// Counts returns a snapshot of the counters. The counters are read one by
// one, so a snapshot taken during calls may be off by those calls.
func (b *Breaker) Counts() Counts {
	c := &b.counts
	return Counts{
		Allowed:        c.allowed.Load(),
		RejectedOpen:   c.rejectedOpen.Load(),
		RejectedProbes: c.rejectedProbes.Load(),
		Successes:      c.successes.Load(),
		Failures:       c.failures.Load(),
		Ignored:        c.ignored.Load(),
		Stale:          c.stale.Load(),
		ProbeTimeouts:  c.probeTimeouts.Load(),
		Transitions:    c.transitions.Load(),
	}
}
