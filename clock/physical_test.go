package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	var zero ManualClock
	if zero.Now() != 0 {
		t.Fatalf("zero ManualClock reads %d, want 0", zero.Now())
	}
	m := NewManualClock(1000)
	if m.Now() != 1000 {
		t.Fatalf("NewManualClock(1000).Now() = %d", m.Now())
	}
	m.Advance(5 * time.Nanosecond)
	m.Advance(-2 * time.Nanosecond)
	if m.Now() != 1003 {
		t.Fatalf("after +5ns and -2ns Now() = %d, want 1003", m.Now())
	}
	m.Set(7)
	if m.Now() != 7 {
		t.Fatalf("after Set(7) Now() = %d", m.Now())
	}
}

func TestSystemClockReadsWallTime(t *testing.T) {
	before := time.Now().UnixNano()
	got := SystemClock{}.Now()
	after := time.Now().UnixNano()
	if got < before || got > after {
		t.Fatalf("SystemClock.Now() = %d, outside [%d, %d]", got, before, after)
	}
}

func TestSkewedClock(t *testing.T) {
	base := NewManualClock(1_000_000)
	s := NewSkewedClock(base)
	if s.Now() != 1_000_000 || s.Offset() != 0 {
		t.Fatalf("new SkewedClock reads %d with offset %v, want the base and 0", s.Now(), s.Offset())
	}
	if err := s.SetOffset(-300 * time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if s.Now() != 999_700 || s.Offset() != -300 {
		t.Fatalf("offset -300ns: Now() = %d, Offset() = %v", s.Now(), s.Offset())
	}
	base.Advance(time.Microsecond)
	if s.Now() != 1_000_700 {
		t.Fatalf("the skewed clock must follow its base: Now() = %d, want 1000700", s.Now())
	}
	for _, d := range []time.Duration{MaxSkew + 1, -MaxSkew - 1} {
		if err := s.SetOffset(d); err == nil {
			t.Fatalf("SetOffset(%v) accepted an offset beyond MaxSkew", d)
		}
	}
	if s.Offset() != -300 {
		t.Fatalf("a refused SetOffset changed the offset to %v", s.Offset())
	}
	for _, d := range []time.Duration{MaxSkew, -MaxSkew} {
		if err := s.SetOffset(d); err != nil {
			t.Fatalf("SetOffset(%v) = %v, want the bound itself accepted", d, err)
		}
	}
}

func TestNewSkewedClockNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewSkewedClock(nil) did not panic")
		}
	}()
	NewSkewedClock(nil)
}

// TestSkewedClockConcurrent changes the offset while HLCs read through it;
// run with -race. Each reader's HLC must stay monotonic throughout.
func TestSkewedClockConcurrent(t *testing.T) {
	s := NewSkewedClock(SystemClock{})
	h := NewHLC(s, time.Second)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			if err := s.SetOffset(time.Duration(i%7-3) * time.Millisecond); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			var prev Timestamp
			for range 1000 {
				ts := h.Now()
				if !prev.Less(ts) {
					t.Errorf("HLC went from %v to %v while the skew changed", prev, ts)
					return
				}
				prev = ts
			}
		})
	}
	wg.Wait()
}
