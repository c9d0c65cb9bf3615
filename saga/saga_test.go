package saga

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func counter(t *testing.T, reg prometheus.Registerer, name string, labels ...string) float64 {
	t.Helper()
	g := reg.(prometheus.Gatherer)
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// waitCounter waits until a metric reaches want: the executor counts a
// transition after writing it, so a test that saw the write may read the
// metric a moment early.
func waitCounter(t *testing.T, reg prometheus.Registerer, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := counter(t, reg, name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHappyPath(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, 60*time.Second)

	if err := e.Submit(ctx, "trip", "trip-1", []byte(`{"who":"ada"}`)); err != nil {
		t.Fatal(err)
	}
	s, err := e.Client().Wait(ctx, "trip-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompleted || s.Error != "" || s.Owner != "" || s.LastExecutor != "exec-a" {
		t.Fatalf("saga ended %+v", s)
	}
	if string(s.Input) != `{"who":"ada"}` {
		t.Errorf("input %q", s.Input)
	}
	for i, st := range s.Steps {
		if st.Name != tripSteps[i] || st.Status != StepActionDone || st.ActionAttempts != 1 || !strings.HasPrefix(string(st.Output), st.Name+"-ref-") {
			t.Errorf("step %d: %+v", i, st)
		}
	}
	w.check(t, "trip-1", StatusCompleted)
	reg := cfg.Registerer
	waitCounter(t, reg, 1, "cairn_saga_sagas_started_total")
	waitCounter(t, reg, 1, "cairn_saga_sagas_completed_total")
	waitCounter(t, reg, 3, "cairn_saga_step_attempts_total", "kind", "action", "result", "ok")
	waitCounter(t, reg, 3, "cairn_saga_step_duration_seconds")
	eventually(t, 10*time.Second, "owned gauge back to 0", func() bool { return counter(t, reg, "cairn_saga_owned") == 0 })

	// Submitting again is a no-op; with another input it is a conflict.
	if err := e.Submit(ctx, "trip", "trip-1", []byte(`{"who":"ada"}`)); err != nil {
		t.Fatalf("idempotent submit: %v", err)
	}
	if err := e.Submit(ctx, "trip", "trip-1", []byte(`{"who":"bob"}`)); !errors.Is(err, ErrConflict) {
		t.Fatalf("submit with another input: %v, want ErrConflict", err)
	}
	if n := w.rawCalls(IdempotencyKey("trip-1", "flight", KindAction)); n != 1 {
		t.Errorf("flight called %d times", n)
	}
	// The log's keys are gone from the live indexes.
	resp, err := cli.Get(ctx, cfg.Prefix+"active/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 0 {
		t.Errorf("active index after completion: %v %v", resp.Kvs, err)
	}
}

func TestCompensationPath(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	w.fail = func(c *Call) error {
		if c.Step == "payment" && c.Kind == KindAction {
			return Permanentf("card declined")
		}
		return nil
	}
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, 60*time.Second)
	if err := e.Submit(ctx, "trip", "trip-2", nil); err != nil {
		t.Fatal(err)
	}
	s, err := e.Client().Wait(ctx, "trip-2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompensated || !strings.Contains(s.Error, "card declined") {
		t.Fatalf("saga ended %+v", s)
	}
	want := []StepStatus{StepCompensated, StepCompensated, StepActionFailed}
	for i, st := range s.Steps {
		if st.Status != want[i] {
			t.Errorf("step %s is %s, want %s", st.Name, st.Status, want[i])
		}
	}
	if s.Steps[2].Uncertain || s.Steps[2].ActionAttempts != 1 {
		t.Errorf("a permanent failure on the first attempt is certain and not retried: %+v", s.Steps[2])
	}
	if n := w.rawCalls(IdempotencyKey("trip-2", "payment", KindCompensation)); n != 0 {
		t.Errorf("a payment that never happened was refunded (%d calls)", n)
	}
	w.check(t, "trip-2", StatusCompensated)
	if got := w.order["trip-2"]; strings.Join(got, " ") != "+flight +hotel -hotel -flight" {
		t.Errorf("effects %v", got)
	}
	waitCounter(t, cfg.Registerer, 1, "cairn_saga_sagas_compensated_total")
	waitCounter(t, cfg.Registerer, 1, "cairn_saga_step_attempts_total", "result", "permanent")
}

// TestTransientRetry: transient errors are retried with the same key
// until the action succeeds; attempts are counted in the log.
func TestTransientRetry(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	var hotelFails atomic.Int32
	w.fail = func(c *Call) error {
		if c.Step == "hotel" && c.Kind == KindAction && hotelFails.Add(1) <= 2 {
			return errors.New("hotel service unavailable")
		}
		return nil
	}
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, 60*time.Second)
	if err := e.Submit(ctx, "trip", "trip-3", nil); err != nil {
		t.Fatal(err)
	}
	s, err := e.Client().Wait(ctx, "trip-3")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompleted {
		t.Fatalf("saga ended %+v", s)
	}
	if s.Steps[1].ActionAttempts != 3 {
		t.Errorf("hotel attempts %d, want 3", s.Steps[1].ActionAttempts)
	}
	if n := w.rawCalls(IdempotencyKey("trip-3", "hotel", KindAction)); n != 3 {
		t.Errorf("hotel called %d times with its key, want 3", n)
	}
	w.check(t, "trip-3", StatusCompleted)
	waitCounter(t, cfg.Registerer, 2, "cairn_saga_step_attempts_total", "result", "transient")
}

// TestRetriesExhaustedCompensateUncertainStep: an action that keeps
// failing transiently may have taken effect (here it did: the reply was
// lost), so when its retries run out it is compensated too.
func TestRetriesExhaustedCompensateUncertainStep(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	w.failAfter = func(c *Call) error {
		if c.Step == "payment" && c.Kind == KindAction {
			return errors.New("payment gateway timeout")
		}
		return nil
	}
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, 60*time.Second)
	if err := e.Submit(ctx, "trip", "trip-4", nil); err != nil {
		t.Fatal(err)
	}
	s, err := e.Client().Wait(ctx, "trip-4")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompensated {
		t.Fatalf("saga ended %+v", s)
	}
	p := s.Steps[2]
	if p.Status != StepCompensated || !p.Uncertain || p.ActionAttempts != cfg.ActionRetry.MaxAttempts {
		t.Errorf("payment step %+v", p)
	}
	if !strings.Contains(s.Error, "gave up after 4 attempts") {
		t.Errorf("saga error %q", s.Error)
	}
	w.check(t, "trip-4", StatusCompensated)
	if got := strings.Join(w.order["trip-4"], " "); got != "+flight +hotel +payment -payment -hotel -flight" {
		t.Errorf("effects %v", got)
	}
}

// TestCompensationFailed: a compensation that exhausts its retries ends
// the saga in compensation_failed with the error kept; an operator can
// retry it (after fixing the cause) or resolve it.
func TestCompensationFailed(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	var hotelBroken atomic.Bool
	hotelBroken.Store(true)
	w.fail = func(c *Call) error {
		switch {
		case c.Step == "payment" && c.Kind == KindAction:
			return Permanentf("card declined")
		case c.Step == "hotel" && c.Kind == KindCompensation && hotelBroken.Load():
			return errors.New("hotel cancellation desk closed")
		}
		return nil
	}
	cfg := testConfig(t, "exec-a")
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	ctx := waitCtx(t, 60*time.Second)
	for _, id := range []string{"trip-5", "trip-6"} {
		if err := e.Submit(ctx, "trip", id, nil); err != nil {
			t.Fatal(err)
		}
		s, err := e.Client().Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != StatusCompensationFailed || !strings.Contains(s.Error, "hotel cancellation desk closed") {
			t.Fatalf("%s ended %+v", id, s)
		}
		h := s.Steps[1]
		if h.Status != StepCompensationFailed || h.CompensationAttempts != cfg.CompensationRetry.MaxAttempts {
			t.Errorf("%s hotel step %+v", id, h)
		}
		// The flight is still booked: compensation stops at the failed
		// step, so that an operator sees the saga exactly as it is.
		if s.Steps[0].Status != StepActionDone {
			t.Errorf("%s flight step %+v", id, s.Steps[0])
		}
	}
	waitCounter(t, cfg.Registerer, 2, "cairn_saga_sagas_failed_total")
	list, _, err := e.Client().List(ctx, ListOptions{Status: StatusCompensationFailed})
	if err != nil || len(list) != 2 {
		t.Fatalf("list of failed sagas: %v %v", list, err)
	}

	// The operator fixes the hotel desk and retries trip-5...
	hotelBroken.Store(false)
	if err := e.Client().Retry(ctx, "trip-5", "desk reopened"); err != nil {
		t.Fatal(err)
	}
	s, err := e.Client().Wait(ctx, "trip-5")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCompensated || s.Resolution != "desk reopened" {
		t.Fatalf("after retry: %+v", s)
	}
	w.check(t, "trip-5", StatusCompensated)
	// ...and resolves trip-6 by hand.
	if err := e.Client().Resolve(ctx, "trip-6", "refunded by phone"); err != nil {
		t.Fatal(err)
	}
	s, err = e.Client().Get(ctx, "trip-6")
	if err != nil || s.Status != StatusResolved || s.Resolution != "refunded by phone" {
		t.Fatalf("after resolve: %+v %v", s, err)
	}
	if err := e.Client().Retry(ctx, "trip-6", ""); !errors.Is(err, ErrWrongStatus) {
		t.Errorf("retry of a resolved saga: %v", err)
	}
}

// TestClientStartIsPickedUp: a saga started by a client (no executor
// involved) stays pending until an executor with its definition comes.
func TestClientStartIsPickedUp(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	cfg := testConfig(t, "exec-a")
	client, err := NewClient(cli, cfg.ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t, 60*time.Second)
	created, err := client.Start(ctx, "trip", "trip-7", []byte("x"))
	if err != nil || !created {
		t.Fatalf("start: %v %v", created, err)
	}
	created, err = client.Start(ctx, "trip", "trip-7", []byte("x"))
	if err != nil || created {
		t.Fatalf("second start: %v %v", created, err)
	}
	if _, err := client.Start(ctx, "other", "trip-7", []byte("x")); !errors.Is(err, ErrConflict) {
		t.Fatalf("start with another definition: %v", err)
	}
	s, err := client.Get(ctx, "trip-7")
	if err != nil || s.Status != StatusPending || len(s.Steps) != 0 || s.Owner != "" {
		t.Fatalf("pending saga: %+v %v", s, err)
	}
	// An executor without the definition leaves it alone.
	other := startExecutor(t, cli, testConfig(t, "exec-other"), Definition{Name: "other", Steps: []Step{{Name: "x", Action: w.book}}})
	startExecutor(t, cli, cfg, w.definition("trip"))
	s, err = client.Wait(ctx, "trip-7")
	if err != nil || s.Status != StatusCompleted || s.LastExecutor != "exec-a" {
		t.Fatalf("after pickup: %+v %v", s, err)
	}
	if len(other.Running()) != 0 {
		t.Error("an executor without the definition took the saga")
	}
	w.check(t, "trip-7", StatusCompleted)
	if _, err := client.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of a missing saga: %v", err)
	}
}

func TestListPagesAndPurge(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	cfg := testConfig(t, "exec-a")
	cfg.ListPageSize = 3
	client, err := NewClient(cli, cfg.ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t, 60*time.Second)
	var ids []string
	for i := range 7 {
		id := "s" + string(rune('a'+i))
		ids = append(ids, id)
		if _, err := client.Start(ctx, "trip", id, nil); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for range 10 {
		page, next, err := client.List(ctx, ListOptions{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			got = append(got, s.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged list %v, want %v", got, ids)
	}
	if err := client.Purge(ctx, "sa"); !errors.Is(err, ErrWrongStatus) {
		t.Fatalf("purge of a pending saga: %v", err)
	}
	w := newBookingWorld()
	e := startExecutor(t, cli, cfg, w.definition("trip"))
	for _, id := range ids {
		if s, err := e.Client().Wait(ctx, id); err != nil || s.Status != StatusCompleted {
			t.Fatalf("%s: %+v %v", id, s, err)
		}
	}
	if err := client.Purge(ctx, "sa"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(ctx, "sa"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged saga: %v", err)
	}
	resp, err := cli.Get(ctx, cfg.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if strings.HasSuffix(string(kv.Key), "/sa") || strings.Contains(string(kv.Key), "/sa/") {
			t.Errorf("key %s survived the purge", kv.Key)
		}
	}
}

func TestBounds(t *testing.T) {
	c := sharedCluster(t)
	cli := newEtcdClient(t, c.endpoints())
	w := newBookingWorld()
	cfg := testConfig(t, "exec-a")
	cfg.MaxInputBytes = 1024
	cfg.MaxSteps = 3
	cfg.MaxConcurrent = 1
	cfg.MaxOutputBytes = 64
	e, err := NewExecutor(cli, cfg)
	if err != nil {
		t.Fatal(err)
	}
	four := w.definition("four")
	four.Steps = append(four.Steps, Step{Name: "extra", Action: w.book})
	if err := e.Register(four); !errors.Is(err, ErrTooLarge) {
		t.Errorf("register 4 steps with MaxSteps 3: %v", err)
	}
	for _, bad := range []Definition{
		{Name: "bad/name", Steps: []Step{{Name: "a", Action: w.book}}},
		{Name: "empty"},
		{Name: "noaction", Steps: []Step{{Name: "a"}}},
		{Name: "dup", Steps: []Step{{Name: "a", Action: w.book}, {Name: "a", Action: w.book}}},
	} {
		if err := e.Register(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("register %q: %v", bad.Name, err)
		}
	}
	block := make(chan struct{})
	big := Definition{Name: "big", Steps: []Step{{Name: "a", Action: func(ctx context.Context, c *Call) ([]byte, error) {
		if c.SagaID == "hold" {
			<-block
		}
		return make([]byte, 65), nil
	}, Compensate: w.cancel}}}
	if err := e.Register(big); err != nil {
		t.Fatal(err)
	}
	if err := e.Register(w.definition("trip")); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(waitCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	defer close(block)
	ctx := waitCtx(t, 60*time.Second)
	if err := e.Submit(ctx, "trip", "x", make([]byte, 1025)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized input: %v", err)
	}
	if err := e.Submit(ctx, "trip", "no/slash", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad ID: %v", err)
	}
	if err := e.Submit(ctx, "nope", "x", nil); !errors.Is(err, ErrUnknownDefinition) {
		t.Errorf("unknown definition: %v", err)
	}
	if err := e.Submit(ctx, "big", "hold", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(ctx, "trip", "second", nil); !errors.Is(err, ErrBusy) {
		t.Errorf("submit past MaxConcurrent: %v", err)
	}
	block <- struct{}{}
	s, err := e.Client().Wait(ctx, "hold")
	if err != nil {
		t.Fatal(err)
	}
	// An output past MaxOutputBytes fails the step as uncertain: the
	// action ran, so it is compensated.
	if s.Status != StatusCompensated || !s.Steps[0].Uncertain || !strings.Contains(s.Error, "MaxOutputBytes") {
		t.Errorf("oversized output: %+v", s)
	}
}
