package saga

import (
	"context"
	"testing"
	"time"
)

// TestCloseHandsOver: closing an executor cancels its step calls and
// revokes its lease, which deletes its owner keys at once, so another
// executor takes its sagas through the watch without waiting for a TTL.
func TestCloseHandsOver(t *testing.T) {
	c := sharedCluster(t)
	w := newBookingWorld()
	entered := make(chan struct{})
	w.block = func(ctx context.Context, c *Call) {
		if c.SagaID == "close-1" && c.Step == "hotel" && c.Attempt == 1 {
			close(entered)
			<-ctx.Done() // a well-behaved call gives up when told
		}
	}
	aCfg := testConfig(t, "exec-a")
	aCfg.LeaseTTL = 60 * time.Second // a handover that waited for expiry would time the test out
	a := startExecutor(t, newEtcdClient(t, c.endpoints()), aCfg, w.definition("trip"))
	bCfg := testConfig(t, "exec-b")
	bCfg.ScanInterval = time.Hour // only the watch can hand the saga over in time
	b := startExecutor(t, newEtcdClient(t, c.endpoints()), bCfg, w.definition("trip"))
	ctx := waitCtx(t, 30*time.Second)
	if err := a.Submit(ctx, "trip", "close-1", nil); err != nil {
		t.Fatal(err)
	}
	<-entered
	a.Close()
	s, err := b.Client().Wait(ctx, "close-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompleted || s.LastExecutor != "exec-b" || s.Steps[1].ActionAttempts != 2 {
		t.Fatalf("after handover: %+v", s)
	}
	w.check(t, "close-1", StatusCompleted)
	// The watch claims it, or b's first scan does if that scan was late
	// enough (a loaded machine) to run after the handover: either way
	// without waiting for a's lease to expire, which the deadline above
	// already shows.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := counter(t, bCfg.Registerer, "cairn_saga_claims_total", "how", "watch") +
			counter(t, bCfg.Registerer, "cairn_saga_claims_total", "how", "scan")
		if got == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec-b claimed close-1 %v times by watch or scan, want 1", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
