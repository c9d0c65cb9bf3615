package breaker_test

import (
	"context"
	"errors"
	"slices"
	"time"

	"testing"

	"pgregory.net/rapid"

	"github.com/cairndb/cairn/breaker"
)

// model is a deliberately naive reference breaker: outcomes in a plain
// list filtered by bucket, probes in a plain list, durations by integer
// doubling. The real breaker must agree with it on every answer, every
// counter and every transition.
type model struct {
	cfg         breaker.Config
	epoch       time.Time
	state       breaker.State
	gen         uint64
	openUntil   time.Time
	level       int
	successes   int
	consecutive int
	outcomes    []modelOutcome // closed-state outcomes since the last close
	probes      []modelProbe   // probes in flight
	nextProbe   int
	counts      breaker.Counts
	transitions []breaker.Transition
}

type modelOutcome struct {
	bucket int64
	failed bool
}

type modelProbe struct {
	id       int
	gen      uint64
	deadline time.Time
}

// modelPermit is the model's view of a permit: its generation and, for a
// probe, its id (0 otherwise).
type modelPermit struct {
	gen   uint64
	probe int
}

func (m *model) bucket(now time.Time) int64 {
	return int64(now.Sub(m.epoch) / (m.cfg.RateWindow / time.Duration(m.cfg.RateBuckets)))
}

func (m *model) openDuration() time.Duration {
	d := m.cfg.OpenDuration
	for range m.level {
		d *= 2 // the model test uses OpenBackoff 2
		if d >= m.cfg.MaxOpenDuration {
			return m.cfg.MaxOpenDuration
		}
	}
	return d
}

func (m *model) transition(to breaker.State, why breaker.Reason, now time.Time) {
	from := m.state
	m.state = to
	m.gen++
	switch to {
	case breaker.Open:
		if from == breaker.HalfOpen {
			m.level++
		}
		m.openUntil = now.Add(m.openDuration())
	case breaker.HalfOpen:
		m.successes = 0
	case breaker.Closed:
		m.consecutive, m.level, m.outcomes = 0, 0, nil
	}
	m.counts.Transitions++
	m.transitions = append(m.transitions, breaker.Transition{From: from, To: to, Reason: why, At: now})
}

func (m *model) advance(now time.Time) {
	if m.state == breaker.Open && !now.Before(m.openUntil) {
		m.transition(breaker.HalfOpen, breaker.ReasonOpenElapsed, now)
	}
	if m.state != breaker.HalfOpen {
		return
	}
	var live []modelProbe
	for _, p := range m.probes {
		if now.Before(p.deadline) {
			live = append(live, p)
			continue
		}
		m.counts.ProbeTimeouts++
		if p.gen == m.gen && m.state == breaker.HalfOpen {
			m.transition(breaker.Open, breaker.ReasonProbeTimedOut, now)
		}
	}
	m.probes = live
}

// allow returns the permit, or the error kind: "open" with the retry
// delay, or "probes".
func (m *model) allow(now time.Time) (modelPermit, string, time.Duration) {
	m.advance(now)
	switch m.state {
	case breaker.Open:
		m.counts.RejectedOpen++
		return modelPermit{}, "open", m.openUntil.Sub(now)
	case breaker.HalfOpen:
		if len(m.probes) >= m.cfg.MaxProbes {
			m.counts.RejectedProbes++
			return modelPermit{}, "probes", 0
		}
		m.nextProbe++
		m.probes = append(m.probes, modelProbe{id: m.nextProbe, gen: m.gen, deadline: now.Add(m.cfg.ProbeTimeout)})
		m.counts.Allowed++
		return modelPermit{gen: m.gen, probe: m.nextProbe}, "", 0
	}
	m.counts.Allowed++
	return modelPermit{gen: m.gen}, "", 0
}

func (m *model) report(p modelPermit, o breaker.Outcome, now time.Time) {
	m.advance(now)
	fresh := p.gen == m.gen
	if p.probe != 0 {
		i := slices.IndexFunc(m.probes, func(q modelProbe) bool { return q.id == p.probe })
		if i < 0 {
			fresh = false
		} else {
			m.probes = slices.Delete(m.probes, i, i+1)
		}
	}
	if !fresh {
		m.counts.Stale++
		return
	}
	switch o {
	case breaker.Ignored:
		m.counts.Ignored++
	case breaker.Success:
		m.counts.Successes++
		if m.state == breaker.HalfOpen {
			m.successes++
			if m.successes >= m.cfg.ProbeSuccesses {
				m.transition(breaker.Closed, breaker.ReasonProbesSucceeded, now)
			}
			return
		}
		m.consecutive = 0
		m.outcomes = append(m.outcomes, modelOutcome{bucket: m.bucket(now)})
	case breaker.Failure:
		m.counts.Failures++
		if m.state == breaker.HalfOpen {
			m.transition(breaker.Open, breaker.ReasonProbeFailed, now)
			return
		}
		m.consecutive++
		m.outcomes = append(m.outcomes, modelOutcome{bucket: m.bucket(now), failed: true})
		if m.consecutive >= m.cfg.ConsecutiveFailures {
			m.transition(breaker.Open, breaker.ReasonConsecutiveFailures, now)
			return
		}
		k := m.bucket(now)
		var total, failures int
		for _, e := range m.outcomes {
			if e.bucket > k-int64(m.cfg.RateBuckets) {
				total++
				if e.failed {
					failures++
				}
			}
		}
		if total >= m.cfg.MinCalls && float64(failures) >= m.cfg.FailureRate*float64(total) {
			m.transition(breaker.Open, breaker.ReasonFailureRate, now)
		}
	}
}

// outstanding pairs a real permit with the model's.
type outstanding struct {
	real  breaker.Permit
	model modelPermit
}

// TestBreakerMatchesModel drives the breaker and the model with random
// Allow, report (success, failure, ignored), clock and State actions, and
// compares every answer, the counters and the transitions.
func TestBreakerMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := newFakeClock()
		cfg := breaker.DefaultConfig()
		cfg.ConsecutiveFailures = rapid.IntRange(1, 5).Draw(t, "consecutive")
		cfg.FailureRate = rapid.SampledFrom([]float64{0.25, 0.5, 1}).Draw(t, "rate")
		cfg.RateWindow = 4 * time.Second
		cfg.RateBuckets = rapid.SampledFrom([]int{1, 2, 4}).Draw(t, "buckets")
		cfg.MinCalls = rapid.IntRange(1, 6).Draw(t, "minCalls")
		cfg.OpenDuration = time.Second
		cfg.OpenBackoff = 2
		cfg.MaxOpenDuration = 4 * time.Second
		cfg.MaxProbes = rapid.IntRange(1, 3).Draw(t, "maxProbes")
		cfg.ProbeSuccesses = rapid.IntRange(1, 3).Draw(t, "probeSuccesses")
		cfg.ProbeTimeout = 3 * time.Second
		cfg.Now = clk.Now
		var rec recorder
		cfg.OnStateChange = rec.record
		b, err := breaker.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m := &model{cfg: cfg, epoch: clk.Now(), state: breaker.Closed}
		var out []outstanding

		actions := map[string]func(*rapid.T){
			"allow": func(t *rapid.T) {
				p, err := b.Allow()
				mp, kind, retry := m.allow(clk.Now())
				var open *breaker.OpenError
				switch {
				case kind == "open" && (!errors.As(err, &open) || open.RetryAfter != retry):
					t.Fatalf("Allow = %v, model: open, retry after %v", err, retry)
				case kind == "probes" && !errors.Is(err, breaker.ErrTooManyProbes):
					t.Fatalf("Allow = %v, model: too many probes", err)
				case kind == "" && err != nil:
					t.Fatalf("Allow = %v, model: allowed", err)
				case kind == "" && p.Probe() != (mp.probe != 0):
					t.Fatalf("Allow: probe %v, model: probe %v", p.Probe(), mp.probe != 0)
				}
				if kind == "" {
					out = append(out, outstanding{p, mp})
				}
			},
			"report": func(t *rapid.T) {
				if len(out) == 0 {
					t.Skip("no permit outstanding")
				}
				i := rapid.IntRange(0, len(out)-1).Draw(t, "permit")
				o := rapid.SampledFrom([]breaker.Outcome{breaker.Success, breaker.Failure, breaker.Ignored}).Draw(t, "outcome")
				err := map[breaker.Outcome]error{breaker.Success: nil, breaker.Failure: errBoom, breaker.Ignored: context.Canceled}[o]
				out[i].real.Done(err)
				m.report(out[i].model, o, clk.Now())
				out = slices.Delete(out, i, i+1)
			},
			"advance": func(t *rapid.T) {
				clk.Advance(time.Duration(rapid.Int64Range(0, 2000).Draw(t, "ms")) * time.Millisecond)
			},
			"state": func(t *rapid.T) {
				got := b.State()
				m.advance(clk.Now())
				if got != m.state {
					t.Fatalf("State = %v, model %v", got, m.state)
				}
			},
			"": func(t *rapid.T) {
				if got := b.Counts(); got != m.counts {
					t.Fatalf("counts\n%+v\nmodel\n%+v", got, m.counts)
				}
				if got := rec.all(); !slices.Equal(got, m.transitions) {
					t.Fatalf("transitions\n%v\nmodel\n%v", got, m.transitions)
				}
			},
		}
		// Five runs of about 30 actions each: long enough histories to
		// go through several trips and closes.
		for range 5 {
			t.Repeat(actions)
		}
	})
}
