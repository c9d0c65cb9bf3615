package crdt

import (
	"bytes"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// Every decoder is fuzzed with two inputs. Bad bytes must give an error,
// never a panic. What decodes must be a sound state in its one encoding: it
// re-encodes to the input bytes, and merging it with itself or with the
// other input obeys the lattice laws.

func fuzzDecoder[T any, P crdtPtr[T]](f *testing.F, decode func([]byte) (T, error), seeds ...T) {
	f.Add([]byte{}, []byte{encodingVersion})
	for i := range seeds {
		next := seeds[(i+1)%len(seeds)]
		f.Add(P(&seeds[i]).AppendBinary(nil), P(&next).AppendBinary(nil))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, errX := decode(a)
		y, errY := decode(b)
		for _, s := range []struct {
			in  []byte
			v   T
			err error
		}{{a, x, errX}, {b, y, errY}} {
			if s.err != nil {
				continue
			}
			if out := P(&s.v).AppendBinary(nil); !bytes.Equal(out, s.in) {
				t.Fatalf("a state has two encodings:\n%x\n%x", s.in, out)
			}
			roundTrip[T, P](t, decode, s.v)
		}
		if errX != nil || errY != nil {
			return
		}
		join := func(a, b T) T {
			out := P(&a).Clone()
			P(&out).Merge(b)
			return out
		}
		xy := join(x, y)
		if !P(&xy).Equal(join(y, x)) {
			t.Fatalf("merge of decoded states is not commutative")
		}
		if !P(&xy).Equal(join(xy, x)) || !P(&xy).Equal(join(x, xy)) {
			t.Fatalf("merge of decoded states is not idempotent")
		}
		roundTrip[T, P](t, decode, xy)
	})
}

func roundTrip[T any, P crdtPtr[T]](t *testing.T, decode func([]byte) (T, error), x T) {
	t.Helper()
	b := P(&x).AppendBinary(nil)
	y, err := decode(b)
	if err != nil {
		t.Fatalf("re-encoded state does not decode: %v\n%x", err, b)
	}
	if !P(&y).Equal(x) {
		t.Fatalf("decode(encode(x)) != x\n%x", b)
	}
	if b2 := P(&y).AppendBinary(nil); !bytes.Equal(b, b2) {
		t.Fatalf("encoding is not stable:\n%x\n%x", b, b2)
	}
}

func FuzzDecodeCausalContext(f *testing.F) {
	var a, b CausalContext
	a.Add(dot(1, 1))
	a.Add(dot(1, 3))
	b.Add(dot(2, 2))
	b.Add(dot(1<<40, 7))
	fuzzDecoder[CausalContext](f, DecodeCausalContext, CausalContext{}, a, b)
}

func FuzzDecodeGCounter(f *testing.F) {
	var a, b GCounter
	a.Increment(1, 5)
	a.Increment(300, 1<<40)
	b.Increment(2, 7)
	fuzzDecoder[GCounter](f, DecodeGCounter, GCounter{}, a, b)
}

func FuzzDecodePNCounter(f *testing.F) {
	var a, b PNCounter
	a.Add(1, 5)
	a.Add(1, -9)
	b.Add(2, -1<<40)
	fuzzDecoder[PNCounter](f, DecodePNCounter, PNCounter{}, a, b)
}

func FuzzDecodeLWWRegister(f *testing.F) {
	var a, b LWWRegister
	a.Set(1, ts(1700000000000000000, 2), []byte("value"))
	b.Set(2, ts(-5, 0), nil)
	fuzzDecoder[LWWRegister](f, DecodeLWWRegister, LWWRegister{}, a, b)
}

func FuzzDecodeMVRegister(f *testing.F) {
	var a, b MVRegister
	da, _ := a.Write(1, ts(5, 0), []byte("a"))
	b.Write(2, ts(4, 1), []byte("b"))
	b.Merge(da)
	c := b.Clone()
	c.Write(3, ts(6, 0), nil)
	fuzzDecoder[MVRegister](f, DecodeMVRegister, MVRegister{}, a, b, c)
}

func FuzzDecodeORSet(f *testing.F) {
	var a, b ORSet
	a.Add(1, "x")
	a.Add(1, "y")
	da, _ := a.Add(1, "x")
	b.Add(2, "")
	b.Merge(da)
	c := b.Clone()
	c.Remove("x")
	fuzzDecoder[ORSet](f, DecodeORSet, ORSet{}, a, b, c)
}

func FuzzDecodeCausalCounter(f *testing.F) {
	var a, b CausalCounter
	a.Add(1, 5)
	da, _ := a.Add(1, -2)
	b.Add(2, 7)
	b.Merge(da)
	c := b.Clone()
	c.Reset()
	fuzzDecoder[CausalCounter](f, DecodeCausalCounter, CausalCounter{}, a, b, c)
}

func FuzzDecodeORMapOfMVRegister(f *testing.F) {
	write := func(m *ORMap[MVRegister], r clock.ReplicaID, field, v string) {
		m.Apply(field, func(reg *MVRegister) (MVRegister, error) { return reg.Write(r, ts(int64(r), 0), []byte(v)) })
	}
	var a, b ORMap[MVRegister]
	write(&a, 1, "f", "1")
	write(&a, 1, "g", "2")
	write(&b, 2, "f", "3")
	b.Merge(a)
	c := b.Clone()
	c.Remove("g")
	fuzzDecoder[ORMap[MVRegister]](f, DecodeORMap[MVRegister], ORMap[MVRegister]{}, a, b, c)
}

func FuzzDecodeORMapOfORSet(f *testing.F) {
	add := func(m *ORMap[ORSet], r clock.ReplicaID, field, e string) {
		m.Apply(field, func(s *ORSet) (ORSet, error) { return s.Add(r, e) })
	}
	var a, b ORMap[ORSet]
	add(&a, 1, "f", "x")
	add(&a, 1, "f", "y")
	add(&b, 2, "g", "x")
	b.Merge(a)
	c := b.Clone()
	c.Remove("f")
	fuzzDecoder[ORMap[ORSet]](f, DecodeORMap[ORSet], ORMap[ORSet]{}, a, b, c)
}

func FuzzDecodeORMapOfCausalCounter(f *testing.F) {
	incr := func(m *ORMap[CausalCounter], r clock.ReplicaID, field string, n int64) {
		m.Apply(field, func(c *CausalCounter) (CausalCounter, error) { return c.Add(r, n) })
	}
	var a, b ORMap[CausalCounter]
	incr(&a, 1, "f", 3)
	incr(&a, 1, "g", -4)
	incr(&b, 2, "f", 1)
	b.Merge(a)
	c := b.Clone()
	c.Remove("f")
	fuzzDecoder[ORMap[CausalCounter]](f, DecodeORMap[CausalCounter], ORMap[CausalCounter]{}, a, b, c)
}
