package breaker

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Breaker is a circuit breaker guarding calls to one dependency.
//
// A caller asks Allow for a Permit before each call and reports the call's
// error with Permit.Done, or lets Do do both. While closed, the breaker
// counts outcomes and opens after ConsecutiveFailures failures in a row or
// when the failure rate over RateWindow reaches FailureRate. While open,
// it rejects calls until its open duration has passed; then it is
// half-open: at most MaxProbes calls (probes) are in flight at once;
// ProbeSuccesses successes close it, and one failure opens it again for a
// longer time.
//
// Every transition starts a new generation. A permit remembers the
// generation that issued it, and an outcome reported under a later
// generation is counted as stale and otherwise ignored: a slow call that
// began before a trip cannot close a half-open breaker, nor a failure from
// before the breaker closed count against the new closed period.
//
// Time-based changes (open to half-open, a probe's timeout) are applied
// lazily, when Allow (outside the closed state), Done or State next runs.
//
// OnStateChange is called after each transition, never while the
// breaker's lock is held, one call at a time and in the order of the
// transitions, on the goroutine of one of the calls that made or followed
// them: it may call the breaker, must not panic, and should be quick.
// Transitions are at most three per OpenDuration (open, half-open,
// closed), which bounds the callbacks that can queue behind a slow one.
//
// A Breaker is safe for concurrent use. In the closed state Allow is one
// atomic load and one atomic add; Done takes the lock.
type Breaker struct {
	cfg Config
	// word holds generation<<stateBits | state. It is written only under
	// mu, and read without it by Allow's fast path.
	word   atomic.Uint64
	counts counters
	mu     struct {
		sync.Mutex
		// consecutive is the current run of failures while closed.
		consecutive int
		window      rateWindow
		// openUntil is when an open breaker turns half-open.
		openUntil time.Time
		// level counts the failed tests since the breaker last closed;
		// it sets the backoff of the open duration.
		level int
		// successes counts the successful probes of this half-open
		// generation.
		successes int
		// probes are the half-open slots; a slot with seq 0 is free.
		// At most MaxProbes probes are in flight.
		probes   []probe
		probeSeq uint64
		// pending holds the transitions not yet passed to
		// OnStateChange; delivering is set while one goroutine passes
		// them.
		pending    []Transition
		delivering bool
	}
}

const (
	stateBits = 2
	stateMask = 1<<stateBits - 1
)

// probe is a half-open slot in use.
type probe struct {
	seq      uint64 // unique per probe, 0 when the slot is free
	gen      uint64 // generation that admitted the probe
	deadline time.Time
}

// New returns a closed breaker, or the error of cfg.Validate.
func New(cfg Config) (*Breaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Breaker{cfg: cfg}
	b.mu.window = newRateWindow(cfg.Now(), cfg.RateWindow, cfg.RateBuckets)
	b.mu.probes = make([]probe, cfg.MaxProbes)
	b.word.Store(uint64(Closed))
	return b, nil
}

// Permit is the right to make one call. A permit that Allow returned with
// a nil error must be reported exactly once with Done; the zero Permit
// (returned with an error) may be reported too, and Done does nothing.
//
// Reporting a permit twice is a programmer error, like unlocking twice:
// the second report of a closed-state permit is counted again; that of a
// probe is counted as stale.
type Permit struct {
	b    *Breaker
	gen  uint64
	seq  uint64 // probe sequence number; 0 for a closed-state permit
	slot int    // probe slot
}

// Probe reports whether the permit is a half-open probe (whose outcome
// decides whether the breaker closes).
func (p Permit) Probe() bool { return p.seq != 0 }

// Done reports the call's error. It is classified by Config.Classify.
func (p Permit) Done(err error) {
	if p.b == nil {
		return
	}
	p.b.report(p, p.b.cfg.Classify(err))
}

// Allow returns a permit for one call, or an *OpenError (matching
// ErrOpen) while the breaker is open, or ErrTooManyProbes while it is
// half-open with MaxProbes probes in flight.
func (b *Breaker) Allow() (Permit, error) {
	w := b.word.Load()
	if State(w&stateMask) == Closed {
		b.counts.allowed.Add(1)
		return Permit{b: b, gen: w >> stateBits}, nil
	}
	return b.allowSlow()
}

func (b *Breaker) allowSlow() (Permit, error) {
	now := b.cfg.Now()
	b.mu.Lock()
	b.advanceLocked(now)
	var p Permit
	var err error
	switch b.stateLocked() {
	case Closed:
		p = Permit{b: b, gen: b.genLocked()}
	case Open:
		err = &OpenError{RetryAfter: b.mu.openUntil.Sub(now)}
	case HalfOpen:
		p, err = b.admitProbeLocked(now)
	}
	deliver := b.mustDeliverLocked()
	b.mu.Unlock()
	switch {
	case err == nil:
		b.counts.allowed.Add(1)
	case err == ErrTooManyProbes:
		b.counts.rejectedProbes.Add(1)
	default:
		b.counts.rejectedOpen.Add(1)
	}
	if deliver {
		b.deliver()
	}
	return p, err
}

// admitProbeLocked takes a free probe slot, if any.
func (b *Breaker) admitProbeLocked(now time.Time) (Permit, error) {
	for i := range b.mu.probes {
		if b.mu.probes[i].seq != 0 {
			continue
		}
		b.mu.probeSeq++
		gen := b.genLocked()
		b.mu.probes[i] = probe{seq: b.mu.probeSeq, gen: gen, deadline: now.Add(b.cfg.ProbeTimeout)}
		return Permit{b: b, gen: gen, seq: b.mu.probeSeq, slot: i}, nil
	}
	return Permit{}, ErrTooManyProbes
}

// Do calls fn if the breaker allows it, reports its error and returns it.
// It returns ctx.Err() without calling fn (and without taking a probe
// slot) if ctx is already done, and the breaker's error if it rejects the
// call. If fn panics, the call is reported as a failure and the panic goes
// on.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := b.Allow()
	if err != nil {
		return err
	}
	reported := false
	defer func() {
		if !reported { // fn panicked or called runtime.Goexit
			b.report(p, Failure)
		}
	}()
	err = fn(ctx)
	reported = true
	p.Done(err)
	return err
}

// State returns the breaker's state now, after applying any time-based
// change that is due.
func (b *Breaker) State() State {
	now := b.cfg.Now()
	b.mu.Lock()
	b.advanceLocked(now)
	s := b.stateLocked()
	deliver := b.mustDeliverLocked()
	b.mu.Unlock()
	if deliver {
		b.deliver()
	}
	return s
}

// report applies the outcome of permit p.
func (b *Breaker) report(p Permit, o Outcome) {
	now := b.cfg.Now()
	b.mu.Lock()
	b.advanceLocked(now)
	fresh := true
	if p.seq != 0 {
		pr := &b.mu.probes[p.slot]
		if pr.seq == p.seq {
			*pr = probe{}
		} else {
			fresh = false // timed out, or reported twice
		}
	}
	if p.gen != b.genLocked() {
		fresh = false
	}
	if fresh {
		b.applyLocked(o, now)
	} else {
		b.counts.stale.Add(1)
	}
	deliver := b.mustDeliverLocked()
	b.mu.Unlock()
	if deliver {
		b.deliver()
	}
}

// applyLocked counts an outcome of the current generation.
func (b *Breaker) applyLocked(o Outcome, now time.Time) {
	state := b.stateLocked()
	if state == Open {
		panic("breaker: outcome of the current generation while open") // open issues no permits
	}
	switch o {
	case Success:
		b.counts.successes.Add(1)
		if state == Closed {
			b.mu.consecutive = 0
			b.mu.window.record(now, false)
			return
		}
		b.mu.successes++
		if b.mu.successes >= b.cfg.ProbeSuccesses {
			b.transitionLocked(Closed, ReasonProbesSucceeded, now)
		}
	case Failure:
		b.counts.failures.Add(1)
		if state == HalfOpen {
			b.transitionLocked(Open, ReasonProbeFailed, now)
			return
		}
		b.mu.consecutive++
		b.mu.window.record(now, true)
		if b.mu.consecutive >= b.cfg.ConsecutiveFailures {
			b.transitionLocked(Open, ReasonConsecutiveFailures, now)
			return
		}
		total, failures := b.mu.window.counts(now)
		if total >= int64(b.cfg.MinCalls) && float64(failures) >= b.cfg.FailureRate*float64(total) {
			b.transitionLocked(Open, ReasonFailureRate, now)
		}
	case Ignored:
		b.counts.ignored.Add(1)
	default:
		panic(fmt.Sprintf("breaker: Classify returned invalid %v", o))
	}
}

// advanceLocked applies the changes due by now: an open breaker whose time
// is up turns half-open; in the half-open state, probes past their
// deadline free their slots, and one of the current generation counts as
// a failed test.
func (b *Breaker) advanceLocked(now time.Time) {
	switch b.stateLocked() {
	case Closed:
		return
	case Open:
		if now.Before(b.mu.openUntil) {
			return
		}
		b.transitionLocked(HalfOpen, ReasonOpenElapsed, now)
	}
	for i := range b.mu.probes {
		pr := &b.mu.probes[i]
		if pr.seq == 0 || now.Before(pr.deadline) {
			continue
		}
		gen := pr.gen
		*pr = probe{}
		b.counts.probeTimeouts.Add(1)
		if gen == b.genLocked() && b.stateLocked() == HalfOpen {
			b.transitionLocked(Open, ReasonProbeTimedOut, now)
		}
	}
}

func (b *Breaker) stateLocked() State { return State(b.word.Load() & stateMask) }
func (b *Breaker) genLocked() uint64  { return b.word.Load() >> stateBits }
func (b *Breaker) setLocked(s State)  { b.word.Store((b.genLocked()+1)<<stateBits | uint64(s)) }

// transitionLocked moves to state to, starting a new generation.
func (b *Breaker) transitionLocked(to State, why Reason, now time.Time) {
	from := b.stateLocked()
	if from == to {
		panic(fmt.Sprintf("breaker: transition from %v to itself", from))
	}
	b.setLocked(to)
	switch to {
	case Open:
		if from == HalfOpen {
			b.mu.level++
		}
		b.mu.openUntil = now.Add(b.cfg.openDuration(b.mu.level))
	case HalfOpen:
		b.mu.successes = 0
	case Closed:
		b.mu.consecutive = 0
		b.mu.level = 0
		b.mu.window.reset()
	}
	b.counts.transitions.Add(1)
	if b.cfg.OnStateChange != nil {
		b.mu.pending = append(b.mu.pending, Transition{From: from, To: to, Reason: why, At: now})
	}
}
