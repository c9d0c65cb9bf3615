package commands

import (
	"fmt"
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
)

// TestSessionStateCoversStaleReads: a read from a replica that missed the
// session's write still shows it, and the window is bounded.
func TestSessionStateCoversStaleReads(t *testing.T) {
	c := newSeenCache(2)
	var o object.Object
	st := object.Stamp{Replica: 1, TS: clock.Timestamp{WallTime: 1e12}}
	delta, _ := o.Set(st, []byte("mine"), object.SetOptions{})
	c.merge([]byte("k"), delta)
	stale := object.Object{} // a replica that never got the write
	got := c.merge([]byte("k"), stale)
	if v, ok, _ := got.Get(1e6); !ok || string(v) != "mine" {
		t.Fatalf("read after own write = %q %v", v, ok)
	}
	// A newer state read from a replica sticks (monotonic reads).
	newer := o.Clone()
	st.TS.WallTime += 1e9
	newer.Set(st, []byte("theirs"), object.SetOptions{})
	c.merge([]byte("k"), newer)
	if v, _, _ := c.merge([]byte("k"), stale).Get(1e6); string(v) != "theirs" {
		t.Fatalf("monotonic read went back to %q", v)
	}
	for i := range 3 {
		c.merge([]byte(fmt.Sprint("other", i)), delta)
	}
	if c.order.Len() != 2 || c.byKey["k"] != nil {
		t.Fatalf("the window holds %d keys (k kept: %v)", c.order.Len(), c.byKey["k"] != nil)
	}
}
