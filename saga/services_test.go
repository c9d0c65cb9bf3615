package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// bookingWorld is the fake outside world of the booking saga: services
// that, like real ones, deduplicate requests by idempotency key. It
// records every call, and every effect with the key that caused it, so
// that a test can check that each step took effect at most once whatever
// keys the executors sent, and that compensations undid exactly what the
// actions did, in reverse order.
type bookingWorld struct {
	mu sync.Mutex
	// calls counts raw calls by idempotency key (re-runs included).
	calls map[string]int
	// seen is the dedup table: key -> the output the first effective
	// call returned.
	seen map[string][]byte
	// booked lists, per resource (saga/step), the keys that booked it: a
	// second entry is a double booking.
	booked map[string][]string
	// cancelled lists, per resource, the keys that cancelled it.
	cancelled map[string][]string
	// order is each saga's effects in the order they happened: +step for
	// a booking, -step for a cancellation.
	order map[string][]string
	// fail, if set, decides a call's fate before it takes effect: a
	// non-nil error fails the call without effect.
	fail func(c *Call) error
	// failAfter, if set, decides after a call took effect: a non-nil
	// error is returned although the effect happened (a lost reply).
	failAfter func(c *Call) error
	// block, if set, runs inside the call before anything else.
	block func(ctx context.Context, c *Call)
}

func newBookingWorld() *bookingWorld {
	return &bookingWorld{calls: map[string]int{}, seen: map[string][]byte{}, booked: map[string][]string{},
		cancelled: map[string][]string{}, order: map[string][]string{}}
}

var tripSteps = []string{"flight", "hotel", "payment"}

// definition is the guide's booking saga over this world.
func (w *bookingWorld) definition(name string) Definition {
	d := Definition{Name: name}
	for _, s := range tripSteps {
		d.Steps = append(d.Steps, Step{Name: s, Action: w.book, Compensate: w.cancel})
	}
	return d
}

func (w *bookingWorld) book(ctx context.Context, c *Call) ([]byte, error) {
	if w.block != nil {
		w.block(ctx, c)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[c.Key]++
	if out, ok := w.seen[c.Key]; ok {
		if w.failAfter != nil {
			if err := w.failAfter(c); err != nil {
				return nil, err // the reply of the repeat is lost too
			}
		}
		return out, nil
	}
	if w.fail != nil {
		if err := w.fail(c); err != nil {
			return nil, err
		}
	}
	res := c.SagaID + "/" + c.Step
	if len(w.cancelled[res]) > 0 {
		// A booking that arrives after its cancellation (a stale
		// executor's late call) is refused, as a real service with
		// tombstones would.
		return nil, Permanentf("%s already cancelled", res)
	}
	// The previous steps' outputs are visible to this one.
	for _, prev := range tripSteps[:c.Index] {
		if _, ok := c.Output(prev); !ok {
			return nil, Permanentf("step %s runs without the output of %s", c.Step, prev)
		}
	}
	out := []byte(fmt.Sprintf("%s-ref-%d", c.Step, len(w.seen)))
	w.seen[c.Key] = out
	w.booked[res] = append(w.booked[res], c.Key)
	w.order[c.SagaID] = append(w.order[c.SagaID], "+"+c.Step)
	if w.failAfter != nil {
		if err := w.failAfter(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *bookingWorld) cancel(ctx context.Context, c *Call) error {
	if w.block != nil {
		w.block(ctx, c)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[c.Key]++
	if _, ok := w.seen[c.Key]; ok {
		return nil
	}
	if w.fail != nil {
		if err := w.fail(c); err != nil {
			return err
		}
	}
	res := c.SagaID + "/" + c.Step
	w.seen[c.Key] = nil
	w.cancelled[res] = append(w.cancelled[res], c.Key)
	if len(w.booked[res]) > 0 {
		if want := w.seen[IdempotencyKey(c.SagaID, c.Step, KindAction)]; c.ActionOutput != nil && string(c.ActionOutput) != string(want) {
			return Permanentf("compensation of %s got output %q, the booking is %q", res, c.ActionOutput, want)
		}
		w.order[c.SagaID] = append(w.order[c.SagaID], "-"+c.Step)
	}
	return nil
}

// rawCalls returns the raw calls made with key.
func (w *bookingWorld) rawCalls(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[key]
}

// check verifies the world after saga id ended in status: each step
// booked at most once and cancelled at most once, only with the keys the
// executor must use; completed means all booked and nothing cancelled;
// compensated means every booking cancelled, in reverse order.
func (w *bookingWorld) check(t *testing.T, id string, status Status) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, s := range tripSteps {
		res := id + "/" + s
		b, c := w.booked[res], w.cancelled[res]
		if len(b) > 1 {
			errs = append(errs, fmt.Errorf("%s booked %d times: %v", res, len(b), b))
		}
		if len(b) == 1 && b[0] != IdempotencyKey(id, s, KindAction) {
			errs = append(errs, fmt.Errorf("%s booked with key %q", res, b[0]))
		}
		if len(c) > 1 {
			errs = append(errs, fmt.Errorf("%s cancelled %d times: %v", res, len(c), c))
		}
		if len(c) == 1 && c[0] != IdempotencyKey(id, s, KindCompensation) {
			errs = append(errs, fmt.Errorf("%s cancelled with key %q", res, c[0]))
		}
		switch status {
		case StatusCompleted:
			if len(b) != 1 || len(c) != 0 {
				errs = append(errs, fmt.Errorf("completed but %s booked %d, cancelled %d", res, len(b), len(c)))
			}
		case StatusCompensated:
			if len(b) == 1 && len(c) != 1 {
				errs = append(errs, fmt.Errorf("compensated but %s is booked and not cancelled", res))
			}
		}
	}
	if status == StatusCompensated {
		// Effects: bookings in step order, then their cancellations in
		// reverse order.
		var plus, minus []string
		for _, op := range w.order[id] {
			if op[0] == '+' {
				if len(minus) > 0 {
					errs = append(errs, fmt.Errorf("booking %s after a cancellation: %v", op, w.order[id]))
				}
				plus = append(plus, op[1:])
			} else {
				minus = append(minus, op[1:])
			}
		}
		rev := slices.Clone(plus)
		slices.Reverse(rev)
		if !slices.Equal(rev, minus) {
			errs = append(errs, fmt.Errorf("cancellations %v are not the bookings %v reversed", minus, plus))
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Errorf("saga %s (%s): %v", id, status, err)
	}
}
