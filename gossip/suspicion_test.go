package gossip

import "testing"

// Lifeguard §IV-B: the timeout starts at max, falls with log(C+1)/log(K+1)
// as independent accusers arrive, and reaches min at K.
func TestSuspicionTimeoutShrinksWithConfirmations(t *testing.T) {
	s := newSuspicion(9, 1, 100, 3, 40, 240)
	want := []uint64{240, 140, 81, 40}
	if s.timeout() != want[0] || s.deadline != 100+want[0] {
		t.Fatalf("no confirmation: timeout %d deadline %d, want %d", s.timeout(), s.deadline, want[0])
	}
	for c, accuser := range []NodeID{2, 3, 4} {
		if !s.confirm(accuser) {
			t.Fatalf("accuser %d not new", accuser)
		}
		if s.timeout() != want[c+1] || s.deadline != 100+want[c+1] {
			t.Fatalf("%d confirmations: timeout %d, want %d", c+1, s.timeout(), want[c+1])
		}
	}
	if s.confirm(1) || s.confirm(2) {
		t.Fatal("a repeated accuser counted")
	}
	if s.confirm(5) || s.timeout() != 40 {
		t.Fatal("confirmations beyond K changed the timeout")
	}
}

func TestSuspicionWithoutLifeguardIsFixed(t *testing.T) {
	s := newSuspicion(9, 1, 0, 3, 40, 40)
	s.confirm(2)
	if s.timeout() != 40 {
		t.Fatalf("timeout %d with max == min", s.timeout())
	}
	s = newSuspicion(9, 1, 0, 0, 40, 240)
	if s.timeout() != 40 {
		t.Fatalf("timeout %d with K = 0, want min", s.timeout())
	}
}

func TestSuspicionBoundsScaleWithLogN(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		n      int
		lo, hi uint64
	}{{1, 40, 240}, {10, 40, 240}, {100, 80, 480}, {1000, 120, 720}, {10000, 160, 960}} {
		lo, hi := suspicionBounds(&cfg, tc.n)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("n=%d: bounds %d..%d, want %d..%d", tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}
