package clock

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestTimestampCompare(t *testing.T) {
	tests := []struct {
		a, b Timestamp
		want int
	}{
		{Timestamp{}, Timestamp{}, 0},
		{Timestamp{WallTime: 1}, Timestamp{WallTime: 2}, -1},
		{Timestamp{WallTime: 2}, Timestamp{WallTime: 1, Logical: math.MaxUint32}, 1},
		{Timestamp{WallTime: 5, Logical: 1}, Timestamp{WallTime: 5, Logical: 2}, -1},
		{Timestamp{WallTime: 5, Logical: 3}, Timestamp{WallTime: 5, Logical: 2}, 1},
		{Timestamp{WallTime: -1}, Timestamp{}, -1},
		{Timestamp{WallTime: math.MinInt64}, Timestamp{WallTime: math.MaxInt64}, -1},
	}
	for _, tt := range tests {
		if got := tt.a.Compare(tt.b); got != tt.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := tt.a.Less(tt.b); got != (tt.want < 0) {
			t.Errorf("%v.Less(%v) = %v, want %v", tt.a, tt.b, got, tt.want < 0)
		}
	}
	if !(Timestamp{}).IsZero() || (Timestamp{Logical: 1}).IsZero() {
		t.Error("IsZero must hold for the zero Timestamp only")
	}
	if got := (Timestamp{WallTime: 17, Logical: 3}).String(); got != "17.3" {
		t.Errorf("String() = %q, want 17.3", got)
	}
}

func TestTimestampEncodingRoundTripAndOrder(t *testing.T) {
	gen := genTimestamp()
	rapid.Check(t, func(t *rapid.T) {
		a, b := gen.Draw(t, "a"), gen.Draw(t, "b")
		ea, eb := a.AppendBinary(nil), b.AppendBinary(nil)
		if len(ea) != TimestampSize {
			t.Fatalf("encoding of %v has %d bytes, want %d", a, len(ea), TimestampSize)
		}
		got, err := DecodeTimestamp(ea)
		if err != nil || got != a {
			t.Fatalf("DecodeTimestamp(encode(%v)) = %v, %v", a, got, err)
		}
		if bc, c := bytes.Compare(ea, eb), a.Compare(b); bc != c {
			t.Fatalf("bytes.Compare(enc(%v), enc(%v)) = %d, but Compare = %d", a, b, bc, c)
		}
		if c, r := a.Compare(b), b.Compare(a); c != -r {
			t.Fatalf("Compare not antisymmetric: %d, %d", c, r)
		}
	})
}

func TestDecodeTimestampWrongLength(t *testing.T) {
	for _, n := range []int{0, 1, 11, 13, 24} {
		if _, err := DecodeTimestamp(make([]byte, n)); !errors.Is(err, ErrTimestampSize) {
			t.Errorf("DecodeTimestamp of %d bytes: err = %v, want ErrTimestampSize", n, err)
		}
	}
}
