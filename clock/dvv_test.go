package clock

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func dvv(replica, counter uint64, ctx ...uint64) DVV {
	return DVV{Dot: Dot{Replica: ReplicaID(replica), Counter: counter}, Context: vv(ctx...)}
}

func TestDVVCompare(t *testing.T) {
	a1 := dvv(1, 1)       // blind write at replica 1
	a2 := dvv(1, 2)       // another blind write at replica 1: concurrent with a1
	a3 := dvv(1, 3, 1, 2) // written after reading a1 and a2
	b1 := dvv(2, 1, 1, 1) // written at replica 2 after reading a1 only
	b2 := dvv(2, 2, 1, 1, 2, 1)
	tests := []struct {
		name string
		x, y DVV
		want Ordering
	}{
		{"same version", a1, a1, Equal},
		{"same dot, context ignored", a1, dvv(1, 1, 2, 5), Equal},
		{"one coordinator, same empty context", a1, a2, Concurrent},
		{"superseded by a later write that read it", a1, a3, Before},
		{"supersedes what it read", a3, a2, After},
		{"read through another replica", b1, a1, After},
		{"gap between context and dot", b1, a2, Concurrent},
		{"chain across replicas", a1, b2, Before},
		{"different replicas, unrelated", b2, a3, Concurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.x.Compare(tt.y); got != tt.want {
				t.Fatalf("%v.Compare(%v) = %v, want %v", tt.x, tt.y, got, tt.want)
			}
			inverse := map[Ordering]Ordering{Before: After, After: Before, Equal: Equal, Concurrent: Concurrent}
			if got := tt.y.Compare(tt.x); got != inverse[tt.want] {
				t.Fatalf("reverse %v.Compare(%v) = %v, want %v", tt.y, tt.x, got, inverse[tt.want])
			}
			if got := tt.x.Descends(tt.y); got != (tt.want == After || tt.want == Equal) {
				t.Fatalf("%v.Descends(%v) = %v inconsistent with %v", tt.x, tt.y, got, tt.want)
			}
		})
	}
}

func TestDVVObsoletedByAndHistory(t *testing.T) {
	a2, b1 := dvv(1, 2), dvv(2, 1, 1, 1)
	ctx := vv(1, 1, 2, 1) // a client that read a1 and b1
	if a2.ObsoletedBy(ctx) {
		t.Fatalf("%v obsoleted by %v, which has not seen 1:2", a2, ctx)
	}
	if !b1.ObsoletedBy(ctx) {
		t.Fatalf("%v not obsoleted by %v, which has seen it", b1, ctx)
	}
	if got := a2.History(); got.String() != "{1:2}" {
		t.Fatalf("History of %v = %v, want {1:2} (the gap is claimed)", a2, got)
	}
	h := b1.History()
	h.Set(7, 7)
	if b1.Context.Get(7) != 0 {
		t.Fatal("History aliases the context")
	}
	if got := b1.String(); got != "(2:1, {1:1})" {
		t.Fatalf("String() = %q", got)
	}
}

func TestDVVValidate(t *testing.T) {
	for _, bad := range []DVV{dvv(1, 0), dvv(1, 3, 1, 3), dvv(1, 3, 1, 5, 2, 1)} {
		if err := bad.Validate(); !errors.Is(err, ErrDVVInvalid) {
			t.Errorf("%v.Validate() = %v, want ErrDVVInvalid", bad, err)
		}
	}
	for _, good := range []DVV{dvv(1, 1), dvv(1, 3, 1, 2), dvv(1, 9, 1, 2, 2, 8)} {
		if err := good.Validate(); err != nil {
			t.Errorf("%v.Validate() = %v, want nil", good, err)
		}
	}
}

// genDVV draws well-formed DVVs over the full uint64 range.
func genDVV() *rapid.Generator[DVV] {
	return rapid.Custom(func(t *rapid.T) DVV {
		ctx := genWideVV().Draw(t, "context")
		r := ReplicaID(rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(0, 300)).Draw(t, "replica"))
		if ctx.Get(r) == ^uint64(0) {
			ctx.Set(r, 0)
		}
		c := rapid.Uint64Range(ctx.Get(r)+1, ^uint64(0)).Draw(t, "counter")
		return DVV{Dot: Dot{Replica: r, Counter: c}, Context: ctx}
	})
}

func TestDVVEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDVV().Draw(t, "dvv")
		suffix := rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "suffix")
		enc := d.AppendBinary(nil)
		got, n, err := DecodeDVV(append(slices.Clone(enc), suffix...))
		if err != nil {
			t.Fatalf("decode %v: %v", d, err)
		}
		if n != len(enc) {
			t.Fatalf("decode consumed %d bytes, want %d", n, len(enc))
		}
		checkVV(t, got.Context)
		if got.Dot != d.Dot || got.Context.Compare(d.Context) != Equal {
			t.Fatalf("round trip: got %v, want %v", got, d)
		}
		if re := got.AppendBinary(nil); !bytes.Equal(re, enc) {
			t.Fatalf("re-encoding differs: %x vs %x", re, enc)
		}
	})
}

func TestDecodeDVVErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrDVVTruncated},
		{"replica without counter", []byte{1}, ErrDVVTruncated},
		{"missing context", []byte{1, 1}, ErrVectorTruncated},
		{"context cut short", []byte{1, 1, 1, 2}, ErrVectorTruncated},
		{"zero counter", []byte{1, 0, 0}, ErrDVVInvalid},
		{"context contains the dot", []byte{1, 3, 1, 1, 3}, ErrDVVInvalid},
		{"non-minimal replica", []byte{0x81, 0x00, 1, 0}, ErrDVVInvalid},
		{"non-minimal counter", []byte{1, 0x81, 0x00, 0}, ErrDVVInvalid},
		{"invalid context", []byte{1, 1, 1, 2, 0}, ErrVectorInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, n, err := DecodeDVV(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeDVV(%x) = %v, %d, %v; want error %v", tt.in, d, n, err, tt.want)
			}
			if n != 0 {
				t.Fatalf("on error n = %d, want 0", n)
			}
		})
	}
}
