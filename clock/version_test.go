package clock

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestVersionVectorCompareTable(t *testing.T) {
	tests := []struct {
		name string
		a, b VersionVector
		want Ordering
	}{
		{"both empty", vv(), vv(), Equal},
		{"same entries", vv(1, 2, 3, 4), vv(1, 2, 3, 4), Equal},
		{"empty before nonempty", vv(), vv(1, 1), Before},
		{"nonempty after empty", vv(7, 1), vv(), After},
		{"one counter lower", vv(1, 1, 2, 5), vv(1, 2, 2, 5), Before},
		{"one counter higher", vv(1, 3, 2, 5), vv(1, 2, 2, 5), After},
		{"missing replica is zero, before", vv(1, 2), vv(1, 2, 9, 1), Before},
		{"extra replica, after", vv(1, 2, 9, 1), vv(1, 2), After},
		{"crossed counters", vv(1, 2, 2, 1), vv(1, 1, 2, 2), Concurrent},
		{"disjoint replicas", vv(1, 1), vv(2, 1), Concurrent},
		{"extra replica but lower counter", vv(1, 1, 3, 1), vv(1, 2), Concurrent},
		{"differ only in last entry", vv(1, 1, 2, 1, 3, 1), vv(1, 1, 2, 1, 3, 2), Before},
		{"differ only in first entry", vv(1, 5, 2, 1), vv(1, 4, 2, 1), After},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Fatalf("%v.Compare(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			wantDescends := tt.want == After || tt.want == Equal
			if got := tt.a.Descends(tt.b); got != wantDescends {
				t.Fatalf("%v.Descends(%v) = %v, want %v", tt.a, tt.b, got, wantDescends)
			}
		})
	}
}

func TestOrderingString(t *testing.T) {
	for o, want := range map[Ordering]string{
		Before: "before", After: "after", Equal: "equal", Concurrent: "concurrent", 0: "Ordering(0)",
	} {
		if got := o.String(); got != want {
			t.Errorf("Ordering(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}

func TestVersionVectorSetGetIncrementWitness(t *testing.T) {
	var v VersionVector
	if d := v.Increment(5); d != (Dot{Replica: 5, Counter: 1}) {
		t.Fatalf("first Increment(5) = %v, want 5:1", d)
	}
	if d := v.Increment(5); d != (Dot{Replica: 5, Counter: 2}) {
		t.Fatalf("second Increment(5) = %v, want 5:2", d)
	}
	v.Set(2, 7)
	v.Witness(Dot{Replica: 2, Counter: 3}) // lower: no change
	v.Witness(Dot{Replica: 9, Counter: 4})
	if got, want := v.String(), "{2:7 5:2 9:4}"; got != want {
		t.Fatalf("v = %s, want %s", got, want)
	}
	if !v.Contains(Dot{Replica: 2, Counter: 7}) || v.Contains(Dot{Replica: 2, Counter: 8}) {
		t.Fatalf("Contains disagrees with the counter of replica 2 in %v", v)
	}
	v.Set(5, 0)
	if v.Get(5) != 0 || v.Len() != 2 {
		t.Fatalf("Set(5, 0) left %v, want replica 5 removed", v)
	}
	checkVV(t, v)
	c := v.Clone()
	c.Set(2, 100)
	if v.Get(2) != 7 {
		t.Fatalf("changing a clone changed the original: %v", v)
	}
	ds := v.Dots()
	ds[0].Counter = 99
	if v.Get(2) != 7 {
		t.Fatalf("changing Dots() changed the vector: %v", v)
	}
}

func TestVersionVectorIncrementOverflowPanics(t *testing.T) {
	v := vv(1, math.MaxUint64)
	defer func() {
		if recover() == nil {
			t.Fatal("Increment at MaxUint64 did not panic")
		}
		if v.Get(1) != math.MaxUint64 {
			t.Fatalf("Increment at MaxUint64 changed the vector to %v", v)
		}
	}()
	v.Increment(1)
}

func TestVersionVectorMergeProperties(t *testing.T) {
	gen := genVV(5, 4)
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := gen.Draw(t, "a"), gen.Draw(t, "b"), gen.Draw(t, "c")
		aBefore, bBefore := a.Clone(), b.Clone()
		ab := merged(a, b)
		if a.Compare(aBefore) != Equal || b.Compare(bBefore) != Equal {
			t.Fatalf("merged changed an input: a=%v b=%v", a, b)
		}
		checkVV(t, ab)
		// Reference: pointwise maximum.
		want := toRef(a)
		for r, n := range toRef(b) {
			want[r] = max(want[r], n)
		}
		if got := toRef(ab); !maps.Equal(got, want) {
			t.Fatalf("merge(%v, %v) = %v, want pointwise max %v", a, b, ab, want)
		}
		if ba := merged(b, a); ab.Compare(ba) != Equal {
			t.Fatalf("not commutative: %v vs %v", ab, ba)
		}
		if l, r := merged(ab, c), merged(a, merged(b, c)); l.Compare(r) != Equal {
			t.Fatalf("not associative: %v vs %v", l, r)
		}
		if aa := merged(a, a); aa.Compare(a) != Equal {
			t.Fatalf("not idempotent: merge(%v, itself) = %v", a, aa)
		}
		if !ab.Descends(a) || !ab.Descends(b) {
			t.Fatalf("merge %v does not descend both %v and %v", ab, a, b)
		}
		// The result must not share storage with an input.
		ab.Set(0, 1000)
		if a.Get(0) == 1000 || b.Get(0) == 1000 {
			t.Fatalf("merge result aliases an input")
		}
	})
}

func TestVersionVectorCompareProperties(t *testing.T) {
	gen := genVV(4, 3)
	rapid.Check(t, func(t *rapid.T) {
		a, b := gen.Draw(t, "a"), gen.Draw(t, "b")
		ab, ba := a.Compare(b), b.Compare(a)
		if want := refCompare(toRef(a), toRef(b)); ab != want {
			t.Fatalf("%v.Compare(%v) = %v, reference says %v", a, b, ab, want)
		}
		inverse := map[Ordering]Ordering{Before: After, After: Before, Equal: Equal, Concurrent: Concurrent}
		if ba != inverse[ab] {
			t.Fatalf("not antisymmetric: a.Compare(b) = %v, b.Compare(a) = %v", ab, ba)
		}
		if a.Descends(b) != (ab == After || ab == Equal) {
			t.Fatalf("Descends(%v, %v) = %v inconsistent with Compare %v", a, b, a.Descends(b), ab)
		}
		if (ab == Equal) != (a.Descends(b) && b.Descends(a)) {
			t.Fatalf("Equal must mean mutual descent: %v vs %v", a, b)
		}
	})
}

func TestVersionVectorEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genWideVV().Draw(t, "v")
		suffix := rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "suffix")
		b := v.AppendBinary([]byte{0xAA}) // appends after existing bytes
		if b[0] != 0xAA {
			t.Fatalf("AppendBinary clobbered the prefix")
		}
		enc := b[1:]
		got, n, err := DecodeVersionVector(append(slices.Clone(enc), suffix...))
		if err != nil {
			t.Fatalf("decode %v: %v", v, err)
		}
		if n != len(enc) {
			t.Fatalf("decode consumed %d bytes, want %d", n, len(enc))
		}
		checkVV(t, got)
		if got.Compare(v) != Equal || got.String() != v.String() {
			t.Fatalf("round trip: got %v, want %v", got, v)
		}
		if re := got.AppendBinary(nil); !bytes.Equal(re, enc) {
			t.Fatalf("re-encoding differs: %x vs %x", re, enc)
		}
	})
}

func TestDecodeVersionVectorErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrVectorTruncated},
		{"count without entries", []byte{1}, ErrVectorTruncated},
		{"entry without counter", []byte{1, 5}, ErrVectorTruncated},
		{"counter cut mid-varint", []byte{1, 5, 0x80}, ErrVectorTruncated},
		{"too many entries", []byte{0x81, 0x80, 0x04}, ErrVectorTooLarge}, // 65537
		{"zero counter", []byte{1, 5, 0}, ErrVectorInvalid},
		{"repeated replica", []byte{2, 5, 1, 0, 1}, ErrVectorInvalid},
		{"replica id wraps around", append([]byte{2, 5, 1}, append(maxUvarint(), 1)...), ErrVectorInvalid},
		{"non-minimal count", []byte{0x80, 0x00}, ErrVectorInvalid},
		{"non-minimal counter", []byte{1, 5, 0x81, 0x00}, ErrVectorInvalid},
		{"varint overflows 64 bits", []byte{1, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, ErrVectorInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, n, err := DecodeVersionVector(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeVersionVector(%x) = %v, %d, %v; want error %v", tt.in, v, n, err, tt.want)
			}
			if n != 0 || v.Len() != 0 {
				t.Fatalf("on error got n=%d v=%v, want 0 and empty", n, v)
			}
		})
	}
}

// maxUvarint is the uvarint encoding of math.MaxUint64.
func maxUvarint() []byte {
	return []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
}

// merged returns the merge of a and b without changing either.
func merged(a, b VersionVector) VersionVector {
	m := a.Clone()
	m.Merge(b)
	return m
}
