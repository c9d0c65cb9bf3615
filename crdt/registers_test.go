package crdt

import (
	"slices"
	"testing"

	"github.com/cairndb/cairn/clock"
)

func ts(wall int64, logical uint32) clock.Timestamp {
	return clock.Timestamp{WallTime: wall, Logical: logical}
}

func TestLWWRegisterOrder(t *testing.T) {
	for _, tc := range []struct {
		name          string
		lose, win     LWWRegister
		loseR, winR   clock.ReplicaID
		loseV, winV   string
		loseTS, winTS clock.Timestamp
	}{
		{name: "later wall time", loseR: 9, winR: 1, loseV: "z", winV: "a", loseTS: ts(10, 5), winTS: ts(11, 0)},
		{name: "later logical", loseR: 9, winR: 1, loseV: "z", winV: "a", loseTS: ts(10, 1), winTS: ts(10, 2)},
		{name: "same time, higher replica", loseR: 1, winR: 2, loseV: "z", winV: "a", loseTS: ts(10, 1), winTS: ts(10, 1)},
		{name: "same time and replica, larger bytes", loseR: 1, winR: 1, loseV: "a", winV: "b", loseTS: ts(10, 1), winTS: ts(10, 1)},
	} {
		var lose, win LWWRegister
		dl, _ := lose.Set(tc.loseR, tc.loseTS, []byte(tc.loseV))
		dw, _ := win.Set(tc.winR, tc.winTS, []byte(tc.winV))
		lose.Merge(dw)
		win.Merge(dl)
		for _, l := range []LWWRegister{lose, win} {
			if string(l.Value()) != tc.winV || l.Timestamp() != tc.winTS || l.Replica() != tc.winR {
				t.Errorf("%s: holds (%v, %d, %q), want (%v, %d, %q)", tc.name,
					l.Timestamp(), l.Replica(), l.Value(), tc.winTS, tc.winR, tc.winV)
			}
		}
	}
}

func TestLWWRegisterOlderLocalWriteLoses(t *testing.T) {
	var l LWWRegister
	l.Set(1, ts(20, 0), []byte("new"))
	delta, err := l.Set(1, ts(10, 0), []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	if string(l.Value()) != "new" {
		t.Fatalf("Value = %q, want the later write", l.Value())
	}
	if string(delta.Value()) != "old" {
		t.Fatalf("the delta of a losing write should still be that write, got %q", delta.Value())
	}
}

func TestLWWRegisterDoesNotAlias(t *testing.T) {
	var l LWWRegister
	in := []byte("abc")
	delta, _ := l.Set(1, ts(1, 0), in)
	in[0] = 'X'
	out := l.Value()
	out[1] = 'Y'
	if string(l.Value()) != "abc" || string(delta.Value()) != "abc" {
		t.Fatalf("register aliases caller storage: %q, %q", l.Value(), delta.Value())
	}
	var m LWWRegister
	m.Merge(delta)
	delta.value[2] = 'Z'
	if string(m.Value()) != "abc" {
		t.Fatalf("Merge kept its argument's storage")
	}
}

func TestLWWRegisterEmptyValueIsSet(t *testing.T) {
	var l LWWRegister
	l.Set(1, ts(1, 0), []byte{})
	if l.IsZero() || l.Value() != nil {
		t.Fatalf("empty write: IsZero = %v, Value = %q", l.IsZero(), l.Value())
	}
	var n LWWRegister
	n.Set(1, ts(1, 0), nil)
	if !n.Equal(l) {
		t.Fatalf("nil and empty values should be the same write")
	}
}

func values(m MVRegister) []string {
	var out []string
	for _, v := range m.Values() {
		out = append(out, string(v))
	}
	return out
}

func TestMVRegisterKeepsConcurrentWrites(t *testing.T) {
	var a, b MVRegister
	da, _ := a.Write(1, ts(5, 0), []byte("from-a"))
	db, _ := b.Write(2, ts(3, 0), []byte("from-b"))
	a.Merge(db)
	b.Merge(da)
	want := []string{"from-b", "from-a"} // in (timestamp, replica, bytes) order
	for name, m := range map[string]MVRegister{"a": a, "b": b} {
		if got := values(m); !slices.Equal(got, want) {
			t.Fatalf("%s: Values = %q, want %q", name, got, want)
		}
		if last, ok := m.Last(); !ok || string(last) != "from-a" {
			t.Fatalf("%s: Last = %q, %v", name, last, ok)
		}
	}
	// A write that has seen both replaces both.
	dc, _ := b.Write(2, ts(6, 0), []byte("both-seen"))
	a.Merge(dc)
	if got := values(a); !slices.Equal(got, []string{"both-seen"}) {
		t.Fatalf("Values = %q after a write that saw both", got)
	}
}

func TestMVRegisterOverwrittenValueIsNotResurrected(t *testing.T) {
	var a, b MVRegister
	d1, _ := a.Write(1, ts(100, 0), []byte("v1"))
	b.Merge(d1)
	stale := b.Clone()
	// The overwrite has a lower timestamp (clock skew): with last-writer-wins
	// it would lose; causally it has seen v1 and replaces it.
	d2, _ := b.Write(2, ts(50, 0), []byte("v2"))
	a.Merge(d2)
	a.Merge(stale)
	b.Merge(stale)
	for name, m := range map[string]MVRegister{"a": a, "b": b} {
		if got := values(m); !slices.Equal(got, []string{"v2"}) {
			t.Fatalf("%s: Values = %q, want [v2]", name, got)
		}
	}
}

func TestMVRegisterDoesNotAlias(t *testing.T) {
	var m MVRegister
	in := []byte("abc")
	delta, _ := m.Write(1, ts(1, 0), in)
	in[0] = 'X'
	m.Values()[0][1] = 'Y'
	last, _ := m.Last()
	last[2] = 'Z'
	if got := values(m); !slices.Equal(got, []string{"abc"}) {
		t.Fatalf("register aliases caller storage: %q", got)
	}
	var n MVRegister
	n.Merge(delta)
	delta.entries[0].val.value[0] = 'Q'
	if got := values(n); !slices.Equal(got, []string{"abc"}) {
		t.Fatalf("Merge kept its argument's storage: %q", got)
	}
}

// TestMergePicksDeterministicallyForConflictingDots covers states that
// sound replicas never produce (two values under one dot, as after a replica
// ID was reused): merge must still be commutative.
func TestMergePicksDeterministicallyForConflictingDots(t *testing.T) {
	ctx := contextOf([]clock.Dot{dot(1, 1)})
	mv := func(v string) MVRegister {
		return MVRegister{entries: []dotEntry[mvValue]{{dot(1, 1), mvValue{ts(1, 0), []byte(v)}}}, ctx: ctx.Clone()}
	}
	x, y := mv("x"), mv("y")
	xy, yx := x.Clone(), y.Clone()
	xy.Merge(y)
	yx.Merge(x)
	if !xy.Equal(yx) {
		t.Errorf("MVRegister merge not commutative: %q vs %q", values(xy), values(yx))
	}
	cc := func(v int64) CausalCounter {
		return CausalCounter{entries: []dotEntry[int64]{{dot(1, 1), v}}, ctx: ctx.Clone()}
	}
	p, q := cc(3), cc(4)
	pq, qp := p.Clone(), q.Clone()
	pq.Merge(q)
	qp.Merge(p)
	if !pq.Equal(qp) {
		t.Errorf("CausalCounter merge not commutative")
	}
}
