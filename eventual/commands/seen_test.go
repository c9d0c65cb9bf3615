package commands

import (
	"testing"

	"github.com/cairndb/cairn/clock"
	"github.com/cairndb/cairn/eventual/object"
)

// TestSeenCacheKeepsReadsMonotonic: a read that keeps its state (keep)
// still sees the connection's earlier write, and a later read from a
// replica that is behind still sees what the earlier read saw.
func TestSeenCacheKeepsReadsMonotonic(t *testing.T) {
	c := newSeenCache(8)
	key := []byte("k")
	set := func(o *object.Object, wall int64, v string) object.Object {
		d, err := o.Set(object.Stamp{Replica: 1, TS: clock.Timestamp{WallTime: wall}}, []byte(v), object.SetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	value := func(o object.Object) string {
		v, _, _ := o.Get(1)
		return string(v)
	}
	var replica object.Object
	c.merge(key, set(&replica, 1e6, "written"))
	if got := value(c.keep(key, object.Object{})); got != "written" {
		t.Fatalf("read after the write saw %q", got)
	}
	var newer object.Object
	set(&newer, 2e6, "newer")
	if got := value(c.keep(key, newer)); got != "newer" {
		t.Fatalf("read of a newer state saw %q", got)
	}
	if got := value(c.keep(key, object.Object{})); got != "newer" {
		t.Fatalf("a stale read went back to %q", got)
	}
	if got := value(c.keep([]byte("other"), newer.Clone())); got != "newer" {
		t.Fatalf("a new key's read saw %q", got)
	}
}

// TestRemoveContextIsBounded: a remove carries the connection's state of a
// small set, and nothing for a set over maxRemoveContext members.
func TestRemoveContextIsBounded(t *testing.T) {
	c := newSeenCache(8)
	add := func(key string, n int) {
		var o object.Object
		members := make([]string, n)
		for i := range members {
			members[i] = string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		}
		d, _, err := o.SAdd(object.Stamp{Replica: 1, TS: clock.Timestamp{WallTime: 1e6}}, members...)
		if err != nil {
			t.Fatal(err)
		}
		c.merge([]byte(key), d)
	}
	add("small", 3)
	add("big", maxRemoveContext+1)
	if got := c.removeContext([]byte("small")); got.IsZero() {
		t.Fatal("no context for a small set the connection wrote")
	}
	if got := c.removeContext([]byte("big")); !got.IsZero() {
		t.Fatal("a set over the bound travels with its removes")
	}
	if got := c.removeContext([]byte("unseen")); !got.IsZero() {
		t.Fatal("context for a key the connection never saw")
	}
}
