package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeWorkload answers in memory. It checks the runner's contract: a
// client's calls never overlap, and n never exceeds the batch.
type fakeWorkload struct {
	batch   int
	calls   atomic.Int64
	sent    atomic.Int64 // sum of n
	busy    []atomic.Bool
	failN   int64 // every failN-th call fails (0: never)
	delay   time.Duration
	overlap atomic.Bool
	tooBig  atomic.Bool
}

func newFake(clients, batch int) *fakeWorkload {
	return &fakeWorkload{batch: batch, busy: make([]atomic.Bool, clients)}
}

func (f *fakeWorkload) Open(context.Context) error { return nil }
func (f *fakeWorkload) Close() error               { return nil }
func (f *fakeWorkload) Do(ctx context.Context, c, n int) error {
	if !f.busy[c].CompareAndSwap(false, true) {
		f.overlap.Store(true)
	}
	defer f.busy[c].Store(false)
	if n < 1 || n > f.batch {
		f.tooBig.Store(true)
	}
	call := f.calls.Add(1)
	f.sent.Add(int64(n))
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.failN > 0 && call%f.failN == 0 {
		return fmt.Errorf("injected failure")
	}
	return nil
}

// runFake runs spec against w through the runner's internals.
func runFake(t *testing.T, ctx context.Context, spec Spec, w Workload, opts RunOptions) (*Result, error) {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	opts.defaults()
	r := newRun(spec, opts)
	r.execute(ctx, w)
	res := &Result{Spec: spec}
	r.fill(res)
	return res, r.stopErr
}

func checkCounts(t *testing.T, res *Result) {
	t.Helper()
	var series, serr int64
	for _, p := range res.Series {
		series += p.Requests
		serr += p.Errors
	}
	if series != res.Requests || serr != res.Errors {
		t.Errorf("series adds up to %d answered, %d failed; result says %d, %d", series, serr, res.Requests, res.Errors)
	}
	if res.Histogram.Count() != uint64(res.Requests) {
		t.Errorf("histogram holds %d values for %d requests", res.Histogram.Count(), res.Requests)
	}
	var kinds int64
	for _, n := range res.ErrorKinds {
		kinds += n
	}
	if kinds != res.Errors {
		t.Errorf("error kinds add up to %d, errors %d", kinds, res.Errors)
	}
}

func TestRunTotalIsExact(t *testing.T) {
	for _, tc := range []struct{ clients, pipeline, total int }{{1, 1, 50}, {7, 1, 1000}, {7, 3, 1000}, {64, 16, 999}, {3, 10, 2}} {
		spec := DefaultSpec(KindSet)
		spec.Clients, spec.Pipeline, spec.Total = tc.clients, tc.pipeline, int64(tc.total)
		w := newFake(tc.clients, tc.pipeline)
		res, err := runFake(t, context.Background(), spec, w, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if w.sent.Load() != int64(tc.total) || res.Requests != int64(tc.total) || res.Errors != 0 {
			t.Fatalf("%+v: sent %d, answered %d, failed %d; want %d", tc, w.sent.Load(), res.Requests, res.Errors, tc.total)
		}
		if w.overlap.Load() || w.tooBig.Load() {
			t.Fatalf("%+v: a client's calls overlapped (%v) or exceeded the batch (%v)", tc, w.overlap.Load(), w.tooBig.Load())
		}
		checkCounts(t, res)
	}
}

func TestRunCountsFailures(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Total = 5, 1000
	w := newFake(5, 1)
	w.failN = 4
	res, err := runFake(t, context.Background(), spec, w, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests+res.Errors != 1000 || res.Errors != 250 {
		t.Fatalf("answered %d + failed %d, want 750 + 250", res.Requests, res.Errors)
	}
	if res.ErrorKinds["injected failure"] != 250 {
		t.Fatalf("error kinds %v", res.ErrorKinds)
	}
	checkCounts(t, res)
}

func TestRunStopsAfterMaxErrors(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Duration = 4, Secs(time.Hour)
	w := newFake(4, 1)
	w.failN = 1
	done := make(chan struct{})
	var res *Result
	var err error
	go func() {
		defer close(done)
		res, err = runFake(t, context.Background(), spec, w, RunOptions{MaxErrors: 100})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a run failing every request did not stop at MaxErrors")
	}
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("err = %v, want the stop reason with the first failure", err)
	}
	if res.Errors < 100 || res.Errors > 100+4 || res.Requests != 0 {
		t.Fatalf("failed %d answered %d, want 100..104 and 0", res.Errors, res.Requests)
	}
}

func TestRunPacedNeverRunsAhead(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Total, spec.Rate = 4, 100, 1000
	w := newFake(4, 1)
	start := time.Now()
	res, err := runFake(t, context.Background(), spec, w, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Slot 99 is due 99 ms after the start: the run cannot end sooner (a
	// lower bound, which a loaded machine cannot break).
	if el := time.Since(start); el < 99*time.Millisecond {
		t.Fatalf("100 requests at 1000/s took %v", el)
	}
	if res.Requests != 100 {
		t.Fatalf("answered %d, want 100", res.Requests)
	}
	checkCounts(t, res)
}

func TestRunDurationLetsRequestsInFlightFinish(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Duration = 3, Secs(100*time.Millisecond)
	w := newFake(3, 1)
	w.delay = 40 * time.Millisecond
	res, err := runFake(t, context.Background(), spec, w, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests != w.calls.Load() {
		t.Fatalf("%d calls, answered %d, failed %d: requests in flight at the end were dropped", w.calls.Load(), res.Requests, res.Errors)
	}
	checkCounts(t, res)
}

func TestRunDrainCancelsStuckRequests(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Duration = 2, Secs(10*time.Millisecond)
	w := newFake(2, 1)
	w.delay = time.Hour
	res, _ := runFake(t, context.Background(), spec, w, RunOptions{Drain: 50 * time.Millisecond})
	if res.Errors != 2 || res.Requests != 0 {
		t.Fatalf("answered %d, failed %d; want the 2 stuck requests failed", res.Requests, res.Errors)
	}
	for k := range res.ErrorKinds {
		if !strings.Contains(k, "drain") {
			t.Fatalf("error kind %q does not say the request was cut at the end", k)
		}
	}
}

func TestRunCallerCancelIsNotAFailure(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Duration = 2, Secs(time.Hour)
	w := newFake(2, 1)
	w.delay = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	res, _ := runFake(t, ctx, spec, w, RunOptions{})
	if res.Errors != 0 {
		t.Fatalf("Ctrl-C counted %d failures", res.Errors)
	}
	checkCounts(t, res)
}

func TestErrorKindsAreBounded(t *testing.T) {
	kinds := map[string]int64{}
	for i := range 100 {
		addKind(kinds, fmt.Sprint("error ", i), 1)
	}
	if len(kinds) > MaxErrorKinds+1 || kinds["other"] != 100-MaxErrorKinds {
		t.Fatalf("%d kinds, other %d", len(kinds), kinds["other"])
	}
	long := errorKind(errors.New(strings.Repeat("x", 10_000)))
	if len(long) > maxErrorLen+3 {
		t.Fatalf("kept an error of %d bytes", len(long))
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func TestRunUnreachableTargetIsAnError(t *testing.T) {
	for _, k := range []Kind{KindPut, KindSet} {
		spec := DefaultSpec(k)
		spec.Duration = Secs(time.Second)
		addr := closedAddr(t)
		res, err := Run(context.Background(), spec, Target{Name: "nobody", Endpoints: []string{addr}, Redis: []string{addr}}, RunOptions{})
		if err == nil || res.Error == "" || !strings.Contains(res.Error, addr) {
			t.Fatalf("%s against a closed port: err %v, result error %q; want an error naming %s", k, err, res.Error, addr)
		}
		if res.Requests != 0 {
			t.Fatalf("%s: %d requests answered by nobody", k, res.Requests)
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		frac float64
		want string
	}{{0, "[>      "}, {0.5, "[===============>"}, {1, "[==============================]"}, {7, "100%"}, {-1, "  0%"}} {
		line := renderProgress("put", tc.frac, 10, 1, 2*time.Second)
		if !strings.Contains(line, tc.want) || !strings.Contains(line, "5 req/s") {
			t.Errorf("renderProgress(%v) = %q, want %q and the rate", tc.frac, line, tc.want)
		}
	}
}

func TestRunMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	spec := DefaultSpec(KindSet)
	r := newRun(spec, RunOptions{})
	unregister, err := r.register(reg, "t")
	if err != nil {
		t.Fatal(err)
	}
	r.done.Add(7)
	r.failed.Add(2)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
	}
	if got["cairn_bench_requests_total"] != 7 || got["cairn_bench_errors_total"] != 2 {
		t.Fatalf("metrics %v", got)
	}
	unregister()
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("%d metric families left after the run", len(mfs))
	}
}

// openedFake is a fakeWorkload that records whether Open has run.
type openedFake struct {
	*fakeWorkload
	opened atomic.Bool
}

func (f *openedFake) Open(context.Context) error { f.opened.Store(true); return nil }

func TestServerCPUCoversOnlyTheTimedPart(t *testing.T) {
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Total = 2, 10
	fake := &openedFake{fakeWorkload: newFake(2, 1)}
	defer func(f func(Spec, Target) (Workload, error)) { newWorkload = f }(newWorkload)
	newWorkload = func(Spec, Target) (Workload, error) { return fake, nil }
	var reads []int64 // requests sent at each reading
	cpu := func() (float64, int, error) {
		if !fake.opened.Load() {
			t.Error("server CPU read before Open finished")
		}
		reads = append(reads, fake.sent.Load())
		return float64(len(reads)) * 0.5, 3, nil // 0.5 s, then 1 s
	}
	res, err := Run(context.Background(), spec, Target{}, RunOptions{ServerCPU: cpu})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 2 || reads[0] != 0 || reads[1] != 10 {
		t.Fatalf("CPU read with %v requests sent, want before the first and after the last", reads)
	}
	if s := res.Server; s == nil || s.Processes != 3 || s.CPUSeconds != 0.5 || s.CPUPerOpMicros != 0.5e6/10 {
		t.Fatalf("server usage %+v, want 0.5 s over 10 requests", s)
	}
}
