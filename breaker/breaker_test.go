package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairndb/cairn/breaker"
)

func TestNewBreakerIsClosed(t *testing.T) {
	b := newBreaker(t, testConfig(newFakeClock()))
	wantState(t, b, breaker.Closed)
	for range 100 {
		call(t, b, nil)
	}
	if c := b.Counts(); c.Allowed != 100 || c.Successes != 100 || c.Transitions != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestConsecutiveFailuresTrip(t *testing.T) {
	clk := newFakeClock()
	var rec recorder
	cfg := testConfig(clk)
	cfg.OnStateChange = rec.record
	b := newBreaker(t, cfg)
	// Two failures, a success, two failures: never three in a row.
	for _, err := range []error{errBoom, errBoom, nil, errBoom, errBoom} {
		call(t, b, err)
	}
	wantState(t, b, breaker.Closed)
	call(t, b, errBoom)
	wantState(t, b, breaker.Open)
	want := []breaker.Transition{{From: breaker.Closed, To: breaker.Open, Reason: breaker.ReasonConsecutiveFailures, At: clk.Now()}}
	if got := rec.all(); !slices.Equal(got, want) {
		t.Fatalf("transitions %v, want %v", got, want)
	}
}

func TestOpenRejectsWithRetryAfter(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	trip(t, b)
	clk.Advance(300 * time.Millisecond)
	_, err := b.Allow()
	var oe *breaker.OpenError
	if !errors.Is(err, breaker.ErrOpen) || !errors.As(err, &oe) || oe.RetryAfter != 700*time.Millisecond {
		t.Fatalf("Allow while open = %v, want an OpenError with RetryAfter 700ms", err)
	}
	if err := b.Do(context.Background(), func(context.Context) error { t.Fatal("fn called while open"); return nil }); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Do while open = %v", err)
	}
	if c := b.Counts(); c.RejectedOpen != 2 {
		t.Fatalf("RejectedOpen = %d, want 2", c.RejectedOpen)
	}
	clk.Advance(700 * time.Millisecond)
	wantState(t, b, breaker.HalfOpen)
}

// TestFailureRateTrip: failures interleaved with successes never reach
// three in a row, and trip the breaker only once MinCalls outcomes are in
// the window and half of them failed.
func TestFailureRateTrip(t *testing.T) {
	clk := newFakeClock()
	var rec recorder
	cfg := testConfig(clk)
	cfg.OnStateChange = rec.record
	b := newBreaker(t, cfg)
	// 9 calls, 5 failures: 55% but below MinCalls (10).
	for i := range 9 {
		if i%2 == 0 {
			call(t, b, errBoom)
		} else {
			call(t, b, nil)
		}
	}
	wantState(t, b, breaker.Closed)
	call(t, b, nil) // 10 calls, 50%: a success never trips
	wantState(t, b, breaker.Closed)
	call(t, b, errBoom) // 11 calls, 6 failures: 54.5%
	wantState(t, b, breaker.Open)
	if got := rec.all(); len(got) != 1 || got[0].Reason != breaker.ReasonFailureRate {
		t.Fatalf("transitions %v, want one for the failure rate", got)
	}
}

// TestFailureRateWindowSlides: outcomes older than the window no longer
// count towards the rate.
func TestFailureRateWindowSlides(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	for range 4 { // 8 calls, 4 failures
		call(t, b, errBoom)
		call(t, b, nil)
	}
	clk.Advance(10 * time.Second) // those buckets are now out of the window
	for range 2 {                 // 4 calls, 2 failures: 50% but only 4 calls
		call(t, b, nil)
		call(t, b, errBoom)
	}
	wantState(t, b, breaker.Closed)
	// The same calls within one window trip it.
	b2 := newBreaker(t, testConfig(clk))
	for range 5 {
		call(t, b2, errBoom)
		call(t, b2, nil)
	}
	call(t, b2, errBoom)
	wantState(t, b2, breaker.Open)
}

// TestCloseForgetsThePast: a breaker that closes starts a fresh window, so
// the failures that tripped it cannot trip it again.
func TestCloseForgetsThePast(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	for range 5 { // 10 calls, 5 failures, then one more failure: 6/11
		call(t, b, errBoom)
		call(t, b, nil)
	}
	call(t, b, errBoom)
	wantState(t, b, breaker.Open)
	clk.Advance(time.Second)
	call(t, b, nil)
	call(t, b, nil)
	wantState(t, b, breaker.Closed)
	// Within the same 10 s window: 13 outcomes with 7 failures if the
	// past were kept.
	call(t, b, errBoom)
	wantState(t, b, breaker.Closed)
}

func TestHalfOpenSuccessesClose(t *testing.T) {
	clk := newFakeClock()
	var rec recorder
	cfg := testConfig(clk)
	cfg.OnStateChange = rec.record
	b := newBreaker(t, cfg)
	trip(t, b)
	clk.Advance(time.Second)
	p1, err := b.Allow()
	if err != nil || !p1.Probe() {
		t.Fatalf("first half-open Allow: probe %v, %v", p1.Probe(), err)
	}
	p1.Done(nil)
	wantState(t, b, breaker.HalfOpen) // one success of two
	call(t, b, nil)
	wantState(t, b, breaker.Closed)
	// Closed again: a fresh window, and the backoff is reset.
	trip(t, b)
	clk.Advance(time.Second)
	wantState(t, b, breaker.HalfOpen)
	var reasons []breaker.Reason
	for _, tr := range rec.all() {
		reasons = append(reasons, tr.Reason)
	}
	want := []breaker.Reason{breaker.ReasonConsecutiveFailures, breaker.ReasonOpenElapsed, breaker.ReasonProbesSucceeded,
		breaker.ReasonConsecutiveFailures, breaker.ReasonOpenElapsed}
	if !slices.Equal(reasons, want) {
		t.Fatalf("reasons %v, want %v", reasons, want)
	}
}

// TestHalfOpenFailureReopensWithBackoff: each failed test doubles the
// open duration, up to MaxOpenDuration.
func TestHalfOpenFailureReopensWithBackoff(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	trip(t, b)
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		clk.Advance(d - time.Millisecond)
		wantState(t, b, breaker.Open)
		clk.Advance(time.Millisecond)
		wantState(t, b, breaker.HalfOpen)
		p, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		p.Done(errBoom)
		wantState(t, b, breaker.Open)
	}
	// A success closes the breaker and resets the backoff.
	clk.Advance(8 * time.Second)
	call(t, b, nil)
	call(t, b, nil)
	wantState(t, b, breaker.Closed)
	trip(t, b)
	clk.Advance(time.Second)
	wantState(t, b, breaker.HalfOpen)
}

func TestHalfOpenCapsProbes(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	trip(t, b)
	clk.Advance(time.Second)
	p1, err1 := b.Allow()
	p2, err2 := b.Allow()
	_, err3 := b.Allow()
	if err1 != nil || err2 != nil || !errors.Is(err3, breaker.ErrTooManyProbes) {
		t.Fatalf("three Allows with MaxProbes 2: %v, %v, %v", err1, err2, err3)
	}
	// An ignored outcome frees its slot without counting.
	p1.Done(context.Canceled)
	p3, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow after a slot was freed: %v", err)
	}
	p2.Done(nil)
	p3.Done(nil)
	wantState(t, b, breaker.Closed)
	if c := b.Counts(); c.RejectedProbes != 1 || c.Ignored != 1 {
		t.Fatalf("counts %+v, want 1 probe rejected and 1 ignored", c)
	}
}

// TestProbeSlotsSpanGenerations: a probe still in flight from an earlier
// half-open period holds its slot, so the next period admits fewer.
func TestProbeSlotsSpanGenerations(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	trip(t, b)
	clk.Advance(time.Second)
	slow, _ := b.Allow() // hangs
	fail, _ := b.Allow()
	fail.Done(errBoom) // reopens for 2 s
	clk.Advance(2 * time.Second)
	p, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Allow(); !errors.Is(err, breaker.ErrTooManyProbes) {
		t.Fatalf("second probe with an old one in flight: %v, want ErrTooManyProbes", err)
	}
	slow.Done(nil) // frees its slot, counts as stale
	if c := b.Counts(); c.Stale != 1 || c.Successes != 0 {
		t.Fatalf("counts %+v, want the old probe stale", c)
	}
	if _, err := b.Allow(); err != nil {
		t.Fatalf("Allow after the old probe reported: %v", err)
	}
	p.Done(nil)
}

// TestProbeTimeout: a probe that is never reported counts as a failure
// once ProbeTimeout has passed, and its late report is stale.
func TestProbeTimeout(t *testing.T) {
	clk := newFakeClock()
	var rec recorder
	cfg := testConfig(clk)
	cfg.OnStateChange = rec.record
	b := newBreaker(t, cfg)
	trip(t, b)
	clk.Advance(time.Second)
	lost, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(5*time.Second - 1)
	wantState(t, b, breaker.HalfOpen)
	clk.Advance(1)
	wantState(t, b, breaker.Open)
	lost.Done(nil)
	c := b.Counts()
	if c.ProbeTimeouts != 1 || c.Stale != 1 || c.Successes != 0 {
		t.Fatalf("counts %+v, want one timeout and one stale report", c)
	}
	if ts := rec.all(); ts[len(ts)-1].Reason != breaker.ReasonProbeTimedOut {
		t.Fatalf("last transition %v, want probe-timed-out", ts[len(ts)-1])
	}
}

// TestStaleOutcomesAreIgnored: calls that began before a trip report
// after it; they must neither close the half-open breaker nor reopen it,
// nor count against a later closed period.
func TestStaleOutcomesAreIgnored(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	var slow []breaker.Permit
	for range 4 {
		p, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		slow = append(slow, p)
	}
	trip(t, b)
	clk.Advance(time.Second)
	wantState(t, b, breaker.HalfOpen)
	slow[0].Done(nil)
	slow[1].Done(nil)
	wantState(t, b, breaker.HalfOpen) // two successes, but stale
	slow[2].Done(errBoom)
	wantState(t, b, breaker.HalfOpen) // a failure, but stale
	call(t, b, nil)
	call(t, b, nil)
	wantState(t, b, breaker.Closed)
	call(t, b, errBoom)
	call(t, b, errBoom)
	slow[3].Done(errBoom) // would be the third failure in a row
	wantState(t, b, breaker.Closed)
	if c := b.Counts(); c.Stale != 4 {
		t.Fatalf("Stale = %d, want 4", c.Stale)
	}
}

func TestIgnoredOutcomesDoNotCount(t *testing.T) {
	b := newBreaker(t, testConfig(newFakeClock()))
	for range 10 {
		call(t, b, context.Canceled)
		call(t, b, fmt.Errorf("wrapped: %w", context.Canceled))
	}
	call(t, b, errBoom)
	call(t, b, context.Canceled) // does not break the run of failures
	call(t, b, errBoom)
	call(t, b, errBoom)
	wantState(t, b, breaker.Open)
	if c := b.Counts(); c.Ignored != 21 || c.Failures != 3 {
		t.Fatalf("counts %+v", c)
	}
}

// TestCustomClassify: errors that are the caller's fault count as
// successes.
func TestCustomClassify(t *testing.T) {
	errNotFound := errors.New("not found")
	cfg := testConfig(newFakeClock())
	cfg.Classify = func(err error) breaker.Outcome {
		if errors.Is(err, errNotFound) {
			return breaker.Success
		}
		return breaker.DefaultClassify(err)
	}
	b := newBreaker(t, cfg)
	for range 10 {
		call(t, b, errNotFound)
	}
	wantState(t, b, breaker.Closed)
	trip(t, b)
}

func TestDoReportsOutcome(t *testing.T) {
	b := newBreaker(t, testConfig(newFakeClock()))
	for range 3 {
		if err := b.Do(context.Background(), func(context.Context) error { return errBoom }); err != errBoom {
			t.Fatalf("Do = %v, want errBoom", err)
		}
	}
	wantState(t, b, breaker.Open)
}

func TestDoWithDoneContext(t *testing.T) {
	clk := newFakeClock()
	b := newBreaker(t, testConfig(clk))
	trip(t, b)
	clk.Advance(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Do(ctx, func(context.Context) error { t.Fatal("fn called"); return nil }); err != context.Canceled {
		t.Fatalf("Do with a done context = %v", err)
	}
	if c := b.Counts(); c.Allowed != 3 { // only trip's calls
		t.Fatalf("Allowed = %d: a done context took a permit", c.Allowed)
	}
}

func TestDoReportsPanicAsFailure(t *testing.T) {
	cfg := testConfig(newFakeClock())
	cfg.ConsecutiveFailures = 1
	b := newBreaker(t, cfg)
	func() {
		defer func() {
			if r := recover(); r != "oops" {
				t.Fatalf("recovered %v, want the original panic", r)
			}
		}()
		_ = b.Do(context.Background(), func(context.Context) error { panic("oops") })
	}()
	wantState(t, b, breaker.Open)
}

// TestCallbackMayCallBreaker: callbacks run outside the lock, so they may
// use the breaker; transitions they cause are delivered after them, in
// order.
func TestCallbackMayCallBreaker(t *testing.T) {
	clk := newFakeClock()
	var got []string
	var b *breaker.Breaker
	cfg := testConfig(clk)
	cfg.OnStateChange = func(tr breaker.Transition) {
		got = append(got, fmt.Sprintf("%v->%v", tr.From, tr.To))
		if tr.To == breaker.Open {
			clk.Advance(time.Second)
			_ = b.State() // turns half-open from inside the callback
			_ = b.Counts()
		}
	}
	b = newBreaker(t, cfg)
	for range 3 {
		call(t, b, errBoom)
	}
	want := []string{"closed->open", "open->half-open"}
	if !slices.Equal(got, want) {
		t.Fatalf("callbacks %v, want %v", got, want)
	}
}

func TestCallbackPanicDoesNotWedgeDelivery(t *testing.T) {
	clk := newFakeClock()
	calls := 0
	cfg := testConfig(clk)
	cfg.OnStateChange = func(tr breaker.Transition) {
		calls++
		if calls == 1 {
			panic("callback bug")
		}
	}
	b := newBreaker(t, cfg)
	func() {
		defer func() { _ = recover() }()
		trip(t, b)
	}()
	clk.Advance(time.Second)
	wantState(t, b, breaker.HalfOpen)
	if calls != 2 {
		t.Fatalf("callback calls = %d, want 2 (delivery resumed after the panic)", calls)
	}
}

func TestZeroPermitDoneIsNoop(t *testing.T) {
	var p breaker.Permit
	p.Done(errBoom)
	if p.Probe() {
		t.Fatal("zero permit is a probe")
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{breaker.Closed.String(), "closed"},
		{breaker.Open.String(), "open"},
		{breaker.HalfOpen.String(), "half-open"},
		{breaker.State(0).String(), "State(0)"},
		{breaker.ReasonConsecutiveFailures.String(), "consecutive-failures"},
		{breaker.ReasonFailureRate.String(), "failure-rate"},
		{breaker.ReasonOpenElapsed.String(), "open-elapsed"},
		{breaker.ReasonProbeFailed.String(), "probe-failed"},
		{breaker.ReasonProbeTimedOut.String(), "probe-timed-out"},
		{breaker.ReasonProbesSucceeded.String(), "probes-succeeded"},
		{breaker.Reason(0).String(), "Reason(0)"},
		{breaker.Success.String(), "success"},
		{breaker.Failure.String(), "failure"},
		{breaker.Ignored.String(), "ignored"},
		{breaker.Outcome(9).String(), "Outcome(9)"},
		{(&breaker.OpenError{RetryAfter: time.Second}).Error(), "breaker: open, retry after 1s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
