package strong

import (
	"errors"
	"testing"
)

// TestWaitersStopAnswersEveryWaiter: a request waits only on its own
// channel, so stopping must answer the waiting ones and every later one,
// and a trigger that comes after must not block.
func TestWaitersStopAnswersEveryWaiter(t *testing.T) {
	errStop := errors.New("stopped")
	w := newWaiters()
	before := w.register(1)
	w.trigger(2, waitResult{resp: "nobody waits"})
	w.stop(errStop)
	after := w.register(3)
	w.trigger(1, waitResult{resp: "too late"})
	for name, ch := range map[string]<-chan waitResult{"before": before, "after": after} {
		select {
		case r := <-ch:
			if !errors.Is(r.err, errStop) {
				t.Fatalf("waiter registered %s stop got %+v, want the stop error", name, r)
			}
		default:
			t.Fatalf("waiter registered %s stop got no answer", name)
		}
	}
}
