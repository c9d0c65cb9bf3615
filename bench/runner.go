package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/metricsutil"
)

// Defaults and bounds of RunOptions.
const (
	// DefaultMaxErrors stops a run that fails this often: a target that
	// refuses every request would otherwise spin through errors as fast
	// as the client can make them.
	DefaultMaxErrors = 10_000
	// DefaultDrain is how long the requests still in flight when the run
	// ends may take to finish (a 7 s server-side stall must fit) before
	// they are cancelled and counted as errors.
	DefaultDrain = 30 * time.Second
	// DefaultOpenTimeout bounds Open (connecting, preloading the keys a
	// read workload reads).
	DefaultOpenTimeout = 5 * time.Minute
	// MaxErrorKinds is how many distinct error messages a result keeps;
	// the rest count under "other".
	MaxErrorKinds = 16
	// MaxSeriesPoints bounds a result's per-second series (24 hours); a
	// longer run stops adding points.
	MaxSeriesPoints = 24 * 3600
	// maxErrorLen truncates an error message kept in ErrorKinds.
	maxErrorLen = 240
)

// RunOptions are how a run reports, not what it sends (that is the Spec).
type RunOptions struct {
	// Round is copied into the result (comparisons number their rounds).
	Round int
	// Progress, if set, receives a progress bar (carriage-return updates;
	// give it a terminal only).
	Progress io.Writer
	// MaxErrors stops the run after this many failed requests (default
	// DefaultMaxErrors; the result says why it stopped).
	MaxErrors int64
	// Drain bounds the wait for requests in flight at the end (default
	// DefaultDrain).
	Drain time.Duration
	// OpenTimeout bounds Workload.Open (default DefaultOpenTimeout).
	OpenTimeout time.Duration
	// Logger receives the run's events (nil = slog.Default()).
	Logger *slog.Logger
	// Registerer, if set, gets cairn_bench_requests_total and
	// cairn_bench_errors_total for the run (unregistered at its end).
	Registerer prometheus.Registerer
	// ServerCPU, if set, reads the CPU seconds the target's servers have
	// used so far (Cluster.CPUSeconds). It is read just before the clients
	// start and just after they stop, so that Open (connecting, writing
	// the keys a get reads) is not counted, and fills Result.Server.
	ServerCPU func() (seconds float64, processes int, err error)
}

func (o *RunOptions) defaults() {
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.Drain <= 0 {
		o.Drain = DefaultDrain
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Run runs spec against target and returns its result. A target that
// cannot be reached or fails too often gives a result with Error set (and
// the same error returned), never a panic; ctx ending (Ctrl-C) stops the
// run early and returns what was measured so far with ctx's error.
func Run(ctx context.Context, spec Spec, target Target, opts RunOptions) (*Result, error) {
	opts.defaults()
	res := &Result{Target: target.Label(spec.Kind), Spec: spec, Round: opts.Round, Start: time.Now().UTC(), Series: []Point{}, Histogram: &Histogram{}}
	fail := func(err error) (*Result, error) {
		res.Error = err.Error()
		return res, err
	}
	if err := res.Spec.Validate(); err != nil {
		return fail(err)
	}
	spec = res.Spec
	w, err := newWorkload(spec, target)
	if err != nil {
		return fail(err)
	}
	defer w.Close()
	openCtx, cancel := context.WithTimeout(ctx, opts.OpenTimeout)
	err = w.Open(openCtx)
	cancel()
	if err != nil {
		return fail(err)
	}
	res.LoadAvg = loadAvg()[0]
	r := newRun(spec, opts)
	unregister, err := r.register(opts.Registerer, res.Target)
	if err != nil {
		return fail(err)
	}
	defer unregister()
	opts.Logger.Debug("bench: run starting", "target", res.Target, "workload", spec.Name)
	var cpu0 float64
	cpuErr := errors.New("not measured")
	if opts.ServerCPU != nil {
		cpu0, _, cpuErr = opts.ServerCPU()
	}
	r.execute(ctx, w)
	var cpu1 float64
	var procs int
	if cpuErr == nil {
		cpu1, procs, cpuErr = opts.ServerCPU()
	}
	r.fill(res)
	if es, ok := w.(eventSource); ok {
		res.Events = es.events(ctx, res.Requests, res.Elapsed.D(), opts.Drain)
	}
	if cpuErr == nil {
		res.Server = serverUsage(res, cpu1-cpu0, procs)
	}
	switch {
	case r.stopErr != nil:
		return fail(r.stopErr)
	case ctx.Err() != nil:
		return fail(ctx.Err())
	}
	return res, nil
}

// serverUsage is the servers' CPU per operation of the headline: per
// event for watch (what the table's rate counts), per request otherwise.
func serverUsage(res *Result, cpu float64, procs int) *ServerUsage {
	u := &ServerUsage{Processes: procs, CPUSeconds: cpu}
	ops := res.Requests
	if res.Events != nil {
		ops = res.Events.Received
	}
	if ops > 0 {
		u.CPUPerOpMicros = cpu * 1e6 / float64(ops)
	}
	return u
}

// run is the shared state of one execution.
type run struct {
	spec  Spec
	opts  RunOptions
	start time.Time

	tickets atomic.Int64 // requests claimed so far (Total mode)
	done    atomic.Int64 // requests answered
	failed  atomic.Int64 // requests failed
	latSum  atomic.Int64 // nanoseconds, of answered requests (for the series' mean)
	last    atomic.Int64 // nanoseconds since start of the latest completion

	mu struct {
		sync.Mutex
		hist    Histogram
		kinds   map[string]int64
		stopErr error
	}
	stopErr error
	series  []Point
}

func newRun(spec Spec, opts RunOptions) *run {
	r := &run{spec: spec, opts: opts}
	r.mu.kinds = map[string]int64{}
	return r
}

// register exposes the run's counters; the returned func unregisters them.
func (r *run) register(reg prometheus.Registerer, target string) (func(), error) {
	if reg == nil {
		return func() {}, nil
	}
	labels := prometheus.Labels{"target": target, "workload": r.spec.Name}
	reqs := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cairn_bench_requests_total", Help: "Requests answered without error.", ConstLabels: labels},
		func() float64 { return float64(r.done.Load()) })
	errs := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cairn_bench_errors_total", Help: "Requests that failed.", ConstLabels: labels},
		func() float64 { return float64(r.failed.Load()) })
	if err := metricsutil.Register(reg, "bench", reqs, errs); err != nil {
		return nil, err
	}
	return func() { reg.Unregister(reqs); reg.Unregister(errs) }, nil
}

// execute runs the clients until the spec's total or duration, ctx's end,
// or MaxErrors; then waits for (or, after Drain, cancels) what is in
// flight.
func (r *run) execute(ctx context.Context, w Workload) {
	// stop ends the sending; reqCtx the requests themselves, Drain later,
	// so that requests in flight at the end are answered, not dropped.
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()
	r.start = time.Now()
	if r.spec.Total == 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithDeadline(stop, r.start.Add(r.spec.Duration.D()))
		defer cancel()
	}
	var pacer *Pacer
	if r.spec.Rate > 0 {
		// One slot per round trip: a pipeline of P paces at Rate/P.
		pacer, _ = NewPacer(r.spec.Rate/float64(r.spec.Batch()), r.start)
	}

	var wg sync.WaitGroup
	for c := range r.spec.Clients {
		wg.Go(func() { r.client(ctx, stop, reqCtx, stopNow, w, c, pacer) })
	}
	clients := make(chan struct{})
	go func() { wg.Wait(); close(clients) }()

	samplerDone := make(chan struct{})
	go r.sample(clients, samplerDone)
	var progressDone chan struct{}
	if r.opts.Progress != nil {
		progressDone = make(chan struct{})
		go r.progress(clients, progressDone)
	}

	select {
	case <-clients:
	case <-stop.Done():
		// The sending has ended; give what is in flight Drain to finish.
		t := time.NewTimer(r.opts.Drain)
		select {
		case <-clients:
		case <-t.C:
			cancelReqs()
			<-clients
		}
		t.Stop()
	}
	<-samplerDone
	if progressDone != nil {
		<-progressDone
	}
	r.stopErr = r.mu.stopErr
}

// client is one sender's loop.
func (r *run) client(ctx, stop, reqCtx context.Context, stopAll context.CancelFunc, w Workload, c int, pacer *Pacer) {
	var hist Histogram
	kinds := map[string]int64{}
	batch := int64(r.spec.Batch())
	defer func() {
		r.mu.Lock()
		r.mu.hist.Merge(&hist)
		for k, v := range kinds {
			addKind(r.mu.kinds, k, v)
		}
		r.mu.Unlock()
	}()
	for stop.Err() == nil {
		n := batch
		if r.spec.Total > 0 {
			got := r.tickets.Add(batch)
			if got-batch >= r.spec.Total {
				return
			}
			n = min(batch, r.spec.Total-(got-batch))
		}
		var begin time.Time
		if pacer != nil {
			due, err := pacer.Wait(stop, time.Now)
			if err != nil || (r.spec.Total == 0 && !due.Before(r.start.Add(r.spec.Duration.D()))) {
				return // the stop timer fires a little late: no slot past the end
			}
			begin = due
		} else {
			begin = time.Now()
		}
		err := w.Do(reqCtx, c, int(n))
		end := time.Now()
		r.last.Store(int64(end.Sub(r.start)))
		if err != nil {
			if ctx.Err() != nil {
				return // the caller gave up (Ctrl-C): not the target's failure
			}
			addKind(kinds, errorKind(err), n)
			if r.failed.Add(n) >= r.opts.MaxErrors {
				r.mu.Lock()
				if r.mu.stopErr == nil {
					r.mu.stopErr = fmt.Errorf("stopped after %d failed requests; first: %w", r.failed.Load(), err)
				}
				r.mu.Unlock()
				stopAll()
			}
			continue
		}
		lat := end.Sub(begin)
		hist.RecordN(lat, uint64(n))
		r.latSum.Add(int64(lat) * n)
		r.done.Add(n)
	}
}

// addKind counts n failures of message k, folding messages past
// MaxErrorKinds into "other".
func addKind(kinds map[string]int64, k string, n int64) {
	if _, ok := kinds[k]; !ok && len(kinds) >= MaxErrorKinds {
		k = "other"
	}
	kinds[k] += n
}

func errorKind(err error) string {
	if errors.Is(err, context.Canceled) {
		return "cancelled while in flight at the end of the run (drain timeout)"
	}
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen] + "..."
	}
	return s
}

// snapshot is the run's cumulative counters at one moment.
type snapshot struct {
	t              time.Time
	req, fail, lat int64
}

func (r *run) snap(now time.Time) snapshot {
	return snapshot{t: now, req: r.done.Load(), fail: r.failed.Load(), lat: r.latSum.Load()}
}

// point is what happened between two snapshots.
func (r *run) point(from, to snapshot) Point {
	p := Point{T: to.t.Sub(r.start).Seconds(), Requests: to.req - from.req, Errors: to.fail - from.fail}
	if dt := to.t.Sub(from.t).Seconds(); dt > 0 {
		p.RPS = float64(p.Requests) / dt
	}
	if p.Requests > 0 {
		p.MeanMS = ms(time.Duration((to.lat - from.lat) / p.Requests))
	}
	return p
}

// sample appends a Point every second until the clients are done.
func (r *run) sample(clients <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	prev := snapshot{t: r.start}
	var before snapshot // the snapshot prev was measured from
	for {
		select {
		case now := <-t.C:
			cur := r.snap(now)
			if len(r.series) < MaxSeriesPoints {
				r.series = append(r.series, r.point(prev, cur))
			}
			before, prev = prev, cur
		case <-clients:
			cur := r.snap(time.Now())
			if cur.req == prev.req && cur.fail == prev.fail {
				return
			}
			// The last, partial second. A sliver (under a quarter second)
			// would give a rate from a handful of requests: it joins the
			// previous second instead.
			if n := len(r.series); n > 0 && n < MaxSeriesPoints && cur.t.Sub(prev.t) < time.Second/4 {
				r.series[n-1] = r.point(before, cur)
				return
			}
			if len(r.series) < MaxSeriesPoints {
				r.series = append(r.series, r.point(prev, cur))
			}
			return
		}
	}
}

// fill copies the run's outcome into res.
func (r *run) fill(res *Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Requests, res.Errors = r.done.Load(), r.failed.Load()
	res.Elapsed = Secs(time.Duration(r.last.Load()))
	if res.Elapsed > 0 {
		res.Throughput = float64(res.Requests) / float64(res.Elapsed)
	}
	h := r.mu.hist.Clone()
	res.Histogram, res.Latency = h, h.Summary()
	if len(r.mu.kinds) > 0 {
		res.ErrorKinds = r.mu.kinds
	}
	res.Series = r.series
}

// topKinds lists error kinds by count, most frequent first.
func topKinds(kinds map[string]int64) []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if kinds[out[i]] != kinds[out[j]] {
			return kinds[out[i]] > kinds[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}
