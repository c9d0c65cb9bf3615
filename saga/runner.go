package saga

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ownership is an executor's hold on one saga.
type ownership struct {
	// rev is the create revision of the owner key: every log write
	// compares it, so a write after the key was deleted (lease ended) or
	// re-created (another owner) fails.
	rev   int64
	lease clientv3.LeaseID
	// epoch ends when the lease ends; step calls run under it.
	epoch context.Context
}

// errCrashed: the crash hook stopped the executor dead.
var errCrashed = errors.New("saga: executor crashed (crash hook)")

// runner drives one saga for its owner. It keeps the log's state in
// memory, changing it only after the write that records the change
// succeeded, so memory never runs ahead of the log.
type runner struct {
	e   *Executor
	def *Definition
	id  string
	own ownership
	log *slog.Logger

	st          *stateRecord
	input       []byte
	steps       []StepRecord // one per step; StepPending where no record exists
	compensable []bool

	actionRetry, compRetry RetryPolicy
	stepTimeout            time.Duration
}

func newRunner(e *Executor, id string, def *Definition, own ownership) *runner {
	r := &runner{
		e: e, def: def, id: id, own: own,
		log:         e.log.With("saga", id, "definition", def.Name),
		actionRetry: def.Retry.orDefault(e.cfg.ActionRetry),
		compRetry:   def.CompensationRetry.orDefault(e.cfg.CompensationRetry),
		stepTimeout: def.StepTimeout,
	}
	if r.stepTimeout == 0 {
		r.stepTimeout = e.cfg.StepTimeout
	}
	r.compensable = make([]bool, len(def.Steps))
	for i, s := range def.Steps {
		r.compensable[i] = s.Compensate != nil
	}
	return r
}

// run drives the saga until it is terminal, this executor loses it, or
// the executor stops.
func (r *runner) run() error {
	if err := r.load(); err != nil {
		return err
	}
	// Each move settles a step or the status, so a saga of n steps takes
	// at most 2n+3 moves (begin, n actions, one turn back, n
	// compensations, finish); more means a bug in the decision core.
	for moves := 0; moves <= 2*len(r.steps)+3; moves++ {
		m := nextMove(r.st.Status, r.steps, r.compensable)
		var err error
		switch m.kind {
		case moveNone:
			return nil
		case moveBegin:
			err = r.begin()
		case moveAction:
			err = r.runAction(m.step)
		case moveCompensate:
			err = r.runCompensation(m.step)
		case moveTurnBack:
			err = r.turnBack(m.step)
		case moveFinish:
			err = r.finish(m.status)
		}
		if err != nil {
			return err
		}
	}
	panic(fmt.Sprintf("saga %s: no progress after %d moves (status %s)", r.id, 2*len(r.steps)+3, r.st.Status))
}

// load reads the saga and checks that it fits the definition and that
// the ownership is still ours.
func (r *runner) load() error {
	snap, err := r.e.client.read(r.e.ctx, r.id)
	if err != nil {
		if r.e.ctx.Err() != nil {
			return errStopped
		}
		return err
	}
	if snap.ownerRev != r.own.rev {
		return ErrFenced
	}
	st := snap.st
	if st.Definition != r.def.Name {
		return fmt.Errorf("%w: saga %s is a %s saga, not %s", ErrCorrupt, r.id, st.Definition, r.def.Name)
	}
	names := r.def.stepNames()
	if st.Status == StatusPending {
		st.Steps = nil // fixed by begin
		r.steps = make([]StepRecord, len(names))
		for i, n := range names {
			r.steps[i] = StepRecord{Name: n, Status: StepPending}
		}
	} else {
		if !slices.Equal(st.Steps, names) {
			return fmt.Errorf("%w: saga %s was started with steps %v, this executor's %s has %v", ErrCorrupt, r.id, st.Steps, r.def.Name, names)
		}
		r.steps = snap.stepList()
	}
	r.st, r.input = st, snap.input
	if st.Status.Terminal() {
		// Claimable only while active; a terminal saga that still has an
		// owner lost its release. Let it go.
		r.e.release(r.id, r.own)
	}
	return nil
}

// crash asks the crash hook whether to stop dead here.
func (r *runner) crash(p Point, i, attempt int) bool {
	h := r.e.cfg.CrashHook
	if h == nil {
		return false
	}
	cp := CrashPoint{Executor: r.e.id, SagaID: r.id, Point: p, Index: -1, Attempt: attempt}
	if i >= 0 {
		cp.Step, cp.Index = r.steps[i].Name, i
	}
	if !h(cp) {
		return false
	}
	r.e.halt(cp)
	return true
}

func (r *runner) begin() error {
	if r.crash(PointBeforeBegin, -1, 0) {
		return errCrashed
	}
	st := *r.st
	st.Status, st.Steps = StatusRunning, r.def.stepNames()
	r.stamp(&st)
	if err := r.write(false, r.putState(&st)); err != nil {
		return err
	}
	r.st = &st
	r.e.m.started.WithLabelValues(r.def.Name).Inc()
	r.log.Info("saga running", "steps", len(st.Steps))
	return nil
}

func (r *runner) stamp(st *stateRecord) {
	st.Executor, st.Updated = r.e.id, time.Now().UTC()
}

func (r *runner) putState(st *stateRecord) clientv3.Op {
	return clientv3.OpPut(r.e.keys.state(r.id), string(encodeState(st)))
}

func (r *runner) putStep(i int, rec *StepRecord) clientv3.Op {
	rec.Executor, rec.Updated = r.e.id, time.Now().UTC()
	return clientv3.OpPut(r.e.keys.step(r.id, i), string(encodeStep(rec)))
}

// release ops end the saga's life in the active index and its ownership.
func (r *runner) releaseOps() []clientv3.Op {
	return []clientv3.Op{clientv3.OpDelete(r.e.keys.active(r.id)), clientv3.OpDelete(r.e.keys.owner(r.id))}
}

func (r *runner) errText(err error) string { return truncate(err.Error(), r.e.cfg.MaxErrorBytes) }

// runAction runs step i's action until it is done or failed for good.
// Each attempt is counted in the log (the intent) before it runs.
func (r *runner) runAction(i int) error {
	rec := r.steps[i]
	step := r.def.Steps[i]
	for {
		attempt := rec.ActionAttempts + 1
		if attempt > r.actionRetry.MaxAttempts {
			// Spent, possibly by earlier owners; the last attempt's
			// outcome is unknown.
			return r.failAction(i, rec, true, fmt.Sprintf("gave up after %d attempts; last error: %s", rec.ActionAttempts, lastErr(rec)))
		}
		if r.crash(PointBeforeAction, i, attempt) {
			return errCrashed
		}
		rec.Status, rec.ActionAttempts = StepActionStarted, attempt
		if err := r.write(false, r.putStep(i, &rec)); err != nil {
			return err
		}
		r.steps[i] = rec
		if r.crash(PointAfterActionIntent, i, attempt) {
			return errCrashed
		}
		var out []byte
		err := r.call(i, KindAction, attempt, func(ctx context.Context, c *Call) error {
			var err error
			out, err = step.Action(ctx, c)
			return err
		})
		if r.crash(PointAfterAction, i, attempt) {
			return errCrashed
		}
		if r.e.ctx.Err() != nil {
			return errStopped // closing: say nothing about this attempt
		}
		if err == nil && len(out) > r.e.cfg.MaxOutputBytes {
			return r.failAction(i, rec, true, fmt.Sprintf("output of %d bytes exceeds MaxOutputBytes %d", len(out), r.e.cfg.MaxOutputBytes))
		}
		if err == nil {
			rec.Status, rec.Output, rec.Error = StepActionDone, out, ""
			if err := r.write(false, r.putStep(i, &rec)); err != nil {
				return err
			}
			r.steps[i] = rec
			if r.crash(PointAfterActionLogged, i, attempt) {
				return errCrashed
			}
			return nil
		}
		rec.Error = r.errText(err)
		if IsPermanent(err) {
			// No effect by the contract of Permanent, unless an earlier
			// attempt had one or the action panicked halfway.
			var pe *panicError
			return r.failAction(i, rec, attempt > 1 || errors.As(err, &pe), "permanent error: "+rec.Error)
		}
		if attempt >= r.actionRetry.MaxAttempts {
			return r.failAction(i, rec, true, fmt.Sprintf("gave up after %d attempts; last error: %s", attempt, rec.Error))
		}
		if err := r.backoff(r.actionRetry, attempt+1); err != nil {
			return err
		}
	}
}

// lastErr describes how the last attempt ended, for a log record.
func lastErr(rec StepRecord) string {
	if rec.Error == "" {
		return "none recorded (the attempt was cut short: a crash or a lost lease)"
	}
	return rec.Error
}

// failAction records step i's action as failed and turns the saga to
// compensating, in one Txn.
func (r *runner) failAction(i int, rec StepRecord, uncertain bool, reason string) error {
	rec.Status, rec.Uncertain, rec.Error = StepActionFailed, uncertain, truncate(reason, r.e.cfg.MaxErrorBytes)
	st := *r.st
	st.Status, st.Error = StatusCompensating, truncate(fmt.Sprintf("step %s: %s", rec.Name, reason), r.e.cfg.MaxErrorBytes)
	r.stamp(&st)
	if err := r.write(false, r.putStep(i, &rec), r.putState(&st)); err != nil {
		return err
	}
	r.steps[i], r.st = rec, &st
	r.log.Warn("action failed; compensating", "step", rec.Name, "uncertain", uncertain, "reason", reason)
	if r.crash(PointAfterActionLogged, i, rec.ActionAttempts) {
		return errCrashed
	}
	return nil
}

// turnBack repairs a log that shows a failed step while running.
func (r *runner) turnBack(i int) error {
	st := *r.st
	st.Status = StatusCompensating
	if st.Error == "" {
		st.Error = fmt.Sprintf("step %s: %s", r.steps[i].Name, r.steps[i].Status)
	}
	r.stamp(&st)
	if err := r.write(false, r.putState(&st)); err != nil {
		return err
	}
	r.st = &st
	return nil
}

// runCompensation runs step i's compensation until it is done or failed
// for good; a compensation that fails for good ends the saga in
// compensation_failed.
func (r *runner) runCompensation(i int) error {
	rec := r.steps[i]
	step := r.def.Steps[i]
	var actionOut []byte
	if rec.Status != StepActionFailed {
		actionOut = rec.Output
	}
	for {
		attempt := rec.CompensationAttempts + 1
		if attempt > r.compRetry.MaxAttempts {
			return r.failCompensation(i, rec, fmt.Sprintf("gave up after %d attempts; last error: %s", rec.CompensationAttempts, lastErr(rec)))
		}
		if r.crash(PointBeforeCompensation, i, attempt) {
			return errCrashed
		}
		rec.Status, rec.CompensationAttempts = StepCompensationStarted, attempt
		if err := r.write(false, r.putStep(i, &rec)); err != nil {
			return err
		}
		r.steps[i] = rec
		if r.crash(PointAfterCompensationIntent, i, attempt) {
			return errCrashed
		}
		err := r.call(i, KindCompensation, attempt, func(ctx context.Context, c *Call) error {
			c.ActionOutput = actionOut
			return step.Compensate(ctx, c)
		})
		if r.crash(PointAfterCompensation, i, attempt) {
			return errCrashed
		}
		if r.e.ctx.Err() != nil {
			return errStopped
		}
		if err == nil {
			rec.Status, rec.Error = StepCompensated, ""
			if err := r.write(false, r.putStep(i, &rec)); err != nil {
				return err
			}
			r.steps[i] = rec
			if r.crash(PointAfterCompensationLogged, i, attempt) {
				return errCrashed
			}
			return nil
		}
		rec.Error = r.errText(err)
		if IsPermanent(err) {
			return r.failCompensation(i, rec, "permanent error: "+rec.Error)
		}
		if attempt >= r.compRetry.MaxAttempts {
			return r.failCompensation(i, rec, fmt.Sprintf("gave up after %d attempts; last error: %s", attempt, rec.Error))
		}
		if err := r.backoff(r.compRetry, attempt+1); err != nil {
			return err
		}
	}
}

// failCompensation ends the saga in compensation_failed: the step record,
// the status and the release in one Txn.
func (r *runner) failCompensation(i int, rec StepRecord, reason string) error {
	rec.Status, rec.Error = StepCompensationFailed, truncate(reason, r.e.cfg.MaxErrorBytes)
	st := *r.st
	st.Status = StatusCompensationFailed
	st.Error = truncate(fmt.Sprintf("compensation of step %s: %s (after: %s)", rec.Name, reason, r.st.Error), r.e.cfg.MaxErrorBytes)
	r.stamp(&st)
	ops := append([]clientv3.Op{r.putStep(i, &rec), r.putState(&st)}, r.releaseOps()...)
	if err := r.writeFinal(&st, ops...); err != nil {
		return err
	}
	r.steps[i], r.st = rec, &st
	r.e.m.failed.WithLabelValues(r.def.Name).Inc()
	r.log.Error("compensation failed for good; the saga needs an operator (Client.Retry or Client.Resolve)", "step", rec.Name, "reason", reason)
	if r.crash(PointAfterCompensationLogged, i, rec.CompensationAttempts) {
		return errCrashed
	}
	return nil
}

// finish writes the final status and releases the saga.
func (r *runner) finish(final Status) error {
	if r.crash(PointBeforeFinish, -1, 0) {
		return errCrashed
	}
	st := *r.st
	st.Status = final
	r.stamp(&st)
	if err := r.writeFinal(&st, append([]clientv3.Op{r.putState(&st)}, r.releaseOps()...)...); err != nil {
		return err
	}
	r.st = &st
	switch final {
	case StatusCompleted:
		r.e.m.completed.WithLabelValues(r.def.Name).Inc()
	case StatusCompensated:
		r.e.m.compensated.WithLabelValues(r.def.Name).Inc()
	}
	r.log.Info("saga finished", "status", final)
	return nil
}

// call runs one attempt of a step function under the lease's epoch and
// the step timeout, turning a panic into a permanent error, and counts
// it.
func (r *runner) call(i int, kind Kind, attempt int, fn func(context.Context, *Call) error) (err error) {
	ctx, cancel := context.WithTimeout(r.own.epoch, r.stepTimeout)
	defer cancel()
	c := &Call{
		SagaID: r.id, Definition: r.def.Name, Step: r.steps[i].Name, Index: i, Kind: kind,
		Key: IdempotencyKey(r.id, r.steps[i].Name, kind), Attempt: attempt, Input: r.input,
		outputs: map[string][]byte{},
	}
	for _, s := range r.steps {
		if s.Output != nil {
			c.outputs[s.Name] = s.Output
		}
	}
	start := time.Now()
	result := resultOK
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = Permanent(&panicError{msg: fmt.Sprintf("panic in %s of step %s: %v", kind, c.Step, p)})
				result = resultPanic
			}
		}()
		err = fn(ctx, c)
	}()
	switch {
	case result == resultPanic:
	case err == nil:
	case IsPermanent(err):
		result = resultPermanent
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		result = resultTimeout
	default:
		result = resultTransient
	}
	d := time.Since(start)
	r.e.m.attempts.WithLabelValues(r.def.Name, kind.String(), result).Inc()
	r.e.m.stepSeconds.WithLabelValues(r.def.Name, kind.String()).Observe(d.Seconds())
	lvl := slog.LevelDebug
	if err != nil {
		lvl = slog.LevelWarn
	}
	r.log.Log(context.Background(), lvl, "step call", "step", c.Step, "kind", kind, "attempt", attempt,
		"result", result, "duration", d, "err", err)
	return err
}

// backoff waits before attempt. A lease that ends meanwhile cuts the
// wait short: the next write will find out whether the saga is still ours.
func (r *runner) backoff(p RetryPolicy, attempt int) error {
	d := p.Backoff(attempt, rand.Float64())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.own.epoch.Done():
	case <-r.e.ctx.Done():
		return errStopped
	}
	if r.e.ctx.Err() != nil {
		return errStopped
	}
	return nil
}

// write applies ops in one Txn fenced on our owner key's create revision.
// Transient cluster errors are retried (every op is a Put or Delete of a
// whole record, so applying one twice is harmless); a failed compare is
// ErrFenced.
func (r *runner) write(final bool, ops ...clientv3.Op) error {
	e := r.e
	owner := e.keys.owner(r.id)
	var last error
	for try := 1; try <= e.cfg.LogWriteAttempts; try++ {
		if try > 1 {
			e.m.logRetries.Inc()
			d := time.Duration(50<<min(try, 6)) * time.Millisecond
			if !sleep(e.ctx, d/2+time.Duration(rand.Int64N(int64(d/2)))) {
				return errStopped
			}
		}
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RequestTimeout)
		resp, err := e.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(owner), "=", r.own.rev)).
			Then(ops...).Commit()
		cancel()
		if err == nil {
			if resp.Succeeded {
				return nil
			}
			if final && try > 1 {
				// An earlier try may have applied and released the saga.
				return errFinalMaybeApplied
			}
			e.m.fenced.Inc()
			return ErrFenced
		}
		if e.ctx.Err() != nil {
			return errStopped
		}
		if permanentRPC(err) {
			return fmt.Errorf("log write: %w", err)
		}
		last = err
		r.log.Warn("log write failed; retrying", "try", try, "err", err)
	}
	return fmt.Errorf("log write failed %d times: %w", e.cfg.LogWriteAttempts, last)
}

var errFinalMaybeApplied = errors.New("saga: final write may have applied")

// writeFinal writes a terminal status with the release. A retry that
// finds the owner key gone checks whether its own earlier try applied.
func (r *runner) writeFinal(st *stateRecord, ops ...clientv3.Op) error {
	err := r.write(true, ops...)
	if !errors.Is(err, errFinalMaybeApplied) {
		return err
	}
	want := encodeState(st)
	ctx, cancel := context.WithTimeout(r.e.ctx, r.e.cfg.RequestTimeout)
	defer cancel()
	resp, gerr := r.e.cli.Get(ctx, r.e.keys.state(r.id))
	if gerr != nil {
		return fmt.Errorf("log write: checking a final write: %w", gerr)
	}
	if len(resp.Kvs) == 1 && bytes.Equal(resp.Kvs[0].Value, want) {
		return nil
	}
	r.e.m.fenced.Inc()
	return ErrFenced
}

// permanentRPC reports errors that retrying the same request cannot fix.
func permanentRPC(err error) bool {
	code := status.Code(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	}
	switch code {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented, codes.OutOfRange:
		return true
	}
	return false
}
