package loglimit

import (
	"testing"
	"time"
)

func TestAllowHoldsBackAndCounts(t *testing.T) {
	l := New(time.Second)
	t0 := time.Unix(1000, 0)
	if ok, n := l.Allow(t0); !ok || n != 0 {
		t.Fatalf("first event: %v %d", ok, n)
	}
	for i := range 3 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i+1) * 100 * time.Millisecond)); ok {
			t.Fatal("an event within the interval was allowed")
		}
	}
	if ok, n := l.Allow(t0.Add(time.Second)); !ok || n != 3 {
		t.Fatalf("after the interval: %v, %d held back, want 3", ok, n)
	}
	l.Reset()
	if ok, n := l.Allow(t0.Add(time.Second + time.Millisecond)); !ok || n != 0 {
		t.Fatalf("after Reset: %v %d", ok, n)
	}
}
