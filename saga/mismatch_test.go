package saga

import (
	"testing"
	"time"
)

// TestDefinitionMismatchIsRefused: an executor whose definition of a
// name has other steps than the saga was started with refuses to run it
// (and does not corrupt it); an executor with the right definition
// finishes it.
func TestDefinitionMismatchIsRefused(t *testing.T) {
	c := sharedCluster(t)
	w := newBookingWorld()
	aCfg := testConfig(t, "exec-a")
	aCfg.CrashHook = func(cp CrashPoint) bool { return cp.Point == PointAfterActionLogged && cp.Step == "flight" }
	a := startExecutor(t, newEtcdClient(t, c.endpoints()), aCfg, w.definition("trip"))
	ctx := waitCtx(t, time.Minute)
	if err := a.Submit(ctx, "trip", "mm-1", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "A to crash", a.stopped)

	short := w.definition("trip")
	short.Steps = short.Steps[:2]
	xCfg := testConfig(t, "exec-x")
	startExecutor(t, newEtcdClient(t, c.endpoints()), xCfg, short)
	eventually(t, 20*time.Second, "the mismatched executor to refuse the saga", func() bool {
		return counter(t, xCfg.Registerer, "cairn_saga_runner_errors_total") >= 1
	})
	s, err := a.Client().Get(ctx, "mm-1")
	if err != nil || s.Status != StatusRunning || s.Steps[1].Status != StepPending || len(s.Steps) != 3 {
		t.Fatalf("after the mismatched executor: %+v %v", s, err)
	}
	startExecutor(t, newEtcdClient(t, c.endpoints()), testConfig(t, "exec-b"), w.definition("trip"))
	s, err = a.Client().Wait(ctx, "mm-1")
	if err != nil || s.Status != StatusCompleted || s.LastExecutor != "exec-b" {
		t.Fatalf("after the right executor: %+v %v", s, err)
	}
	w.check(t, "mm-1", StatusCompleted)
}
