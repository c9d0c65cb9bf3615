package crdt

import (
	"errors"
	"slices"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func dot(r clock.ReplicaID, c uint64) clock.Dot { return clock.Dot{Replica: r, Counter: c} }

func TestCausalContextFoldsOutOfOrderDots(t *testing.T) {
	var c CausalContext
	c.Add(dot(1, 3))
	c.Add(dot(1, 5))
	c.Add(dot(2, 1))
	if got, want := c.Cloud(), []clock.Dot{dot(1, 3), dot(1, 5)}; !slices.Equal(got, want) {
		t.Fatalf("cloud = %v, want %v", got, want)
	}
	if got := c.Version().Get(2); got != 1 {
		t.Fatalf("dot 2:1 not folded into the vector: %v", c)
	}
	c.Add(dot(1, 1))
	c.Add(dot(1, 2)) // fills the gap: 1..3 contiguous, 5 still beyond one
	if got := c.Version().Get(1); got != 3 {
		t.Fatalf("vector[1] = %d, want 3 (%v)", got, c)
	}
	if got, want := c.Cloud(), []clock.Dot{dot(1, 5)}; !slices.Equal(got, want) {
		t.Fatalf("cloud = %v, want %v", got, want)
	}
	for _, d := range []clock.Dot{dot(1, 1), dot(1, 2), dot(1, 3), dot(1, 5), dot(2, 1)} {
		if !c.Contains(d) {
			t.Errorf("Contains(%v) = false", d)
		}
	}
	for _, d := range []clock.Dot{dot(1, 4), dot(1, 6), dot(2, 2), dot(3, 1)} {
		if c.Contains(d) {
			t.Errorf("Contains(%v) = true", d)
		}
	}
	if got := c.String(); got != "{1:3 2:1}+[1:5]" {
		t.Errorf("String = %q", got)
	}
}

func TestCausalContextNextDotIsPastTheCloud(t *testing.T) {
	var c CausalContext
	c.Add(dot(7, 1))
	c.Add(dot(7, 4))
	if got := c.NextDot(7); got != dot(7, 5) {
		t.Fatalf("NextDot(7) = %v, want 7:5", got)
	}
	if got := c.NextDot(8); got != dot(8, 1) {
		t.Fatalf("NextDot(8) = %v, want 8:1", got)
	}
	if c.Contains(dot(7, 5)) {
		t.Fatalf("NextDot added its dot")
	}
}

func TestCausalContextMergeFoldsTheCloud(t *testing.T) {
	var a, b CausalContext
	a.Add(dot(1, 1))
	a.Add(dot(1, 2))
	b.Add(dot(1, 3))
	b.Add(dot(1, 5))
	bWas := b.Clone()
	a.Merge(b)
	if a.Version().Get(1) != 3 || !slices.Equal(a.Cloud(), []clock.Dot{dot(1, 5)}) {
		t.Fatalf("merged = %v, want {1:3}+[1:5]", a)
	}
	if !b.Equal(bWas) {
		t.Fatalf("Merge changed its argument: %v", b)
	}
	// Equal contexts built differently compare and encode equal.
	var c CausalContext
	for _, d := range []clock.Dot{dot(1, 5), dot(1, 3), dot(1, 2), dot(1, 1)} {
		c.Add(d)
	}
	if !c.Equal(a) || string(c.AppendBinary(nil)) != string(a.AppendBinary(nil)) {
		t.Fatalf("%v and %v should be equal", c, a)
	}
}

func TestCausalContextAccessorsDoNotAlias(t *testing.T) {
	var c CausalContext
	c.Add(dot(1, 1))
	c.Add(dot(1, 3))
	v, cloud := c.Version(), c.Cloud()
	v.Set(1, 9)
	cloud[0] = dot(1, 9)
	if c.Version().Get(1) != 1 || c.Cloud()[0] != dot(1, 3) {
		t.Fatalf("changing what Version/Cloud returned changed the context: %v", c)
	}
	d := c.Clone()
	d.Add(dot(1, 2))
	if c.Contains(dot(1, 2)) {
		t.Fatalf("changing a clone changed the original")
	}
}

func TestDecodeCausalContextRejectsNonCompact(t *testing.T) {
	vector := func(r clock.ReplicaID, n uint64) clock.VersionVector {
		var v clock.VersionVector
		v.Set(r, n)
		return v
	}
	for _, tc := range []struct {
		name  string
		vv    clock.VersionVector
		cloud []clock.Dot
	}{
		{"covered by the vector", vector(1, 3), []clock.Dot{dot(1, 2)}},
		{"contiguous with the vector", vector(1, 3), []clock.Dot{dot(1, 4)}},
		{"contiguous from zero", clock.VersionVector{}, []clock.Dot{dot(1, 1)}},
		{"unsorted", clock.VersionVector{}, []clock.Dot{dot(1, 5), dot(1, 3)}},
		{"duplicate", clock.VersionVector{}, []clock.Dot{dot(1, 5), dot(1, 5)}},
		{"zero counter", clock.VersionVector{}, []clock.Dot{dot(1, 0)}},
	} {
		b := appendDotList(tc.vv.AppendBinary(appendHeader(nil, KindCausalContext)), tc.cloud)
		if _, err := DecodeCausalContext(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	ok := appendDotList(vector(1, 3).AppendBinary(appendHeader(nil, KindCausalContext)), []clock.Dot{dot(1, 5), dot(2, 2)})
	if _, err := DecodeCausalContext(ok); err != nil {
		t.Fatalf("valid context: %v", err)
	}
}
