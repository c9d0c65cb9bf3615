package sim_test

import (
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
)

func TestHistoryRecordsOutcomes(t *testing.T) {
	var h sim.History
	a := h.Invoke(0, 10*time.Millisecond, "a")
	b := h.Invoke(1, 20*time.Millisecond, "b")
	c := h.Invoke(2, 30*time.Millisecond, "c")
	h.Complete(a, 40*time.Millisecond, "A")
	h.Discard(c)
	if h.Open() != 1 || !h.IsOpen(b) || h.IsOpen(a) || h.Len() != 3 {
		t.Fatalf("Open=%d IsOpen(b)=%v IsOpen(a)=%v Len=%d", h.Open(), h.IsOpen(b), h.IsOpen(a), h.Len())
	}
	ops := h.Operations("?")
	if len(ops) != 2 {
		t.Fatalf("%d operations, want a and b (c discarded)", len(ops))
	}
	if ops[0].Output != "A" || ops[0].Return != int64(40*time.Millisecond) {
		t.Fatalf("completed op = %+v", ops[0])
	}
	if ops[1].Output != "?" || ops[1].Return != int64(40*time.Millisecond)+1 || ops[1].ClientId != 1 {
		t.Fatalf("open op = %+v, want output ? returning just after the history's end", ops[1])
	}
}

func TestHistoryMisuse(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	var h sim.History
	a := h.Invoke(0, 10*time.Millisecond, "a")
	mustPanic("complete before call", func() { h.Complete(a, 5*time.Millisecond, "x") })
	h.Complete(a, 10*time.Millisecond, "x")
	mustPanic("complete twice", func() { h.Complete(a, 20*time.Millisecond, "y") })
	mustPanic("discard completed", func() { h.Discard(a) })
	mustPanic("unknown id", func() { h.Discard(7) })
}
