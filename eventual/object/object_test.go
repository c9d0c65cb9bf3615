package object

import (
	"errors"
	"testing"

	"github.com/cairndb/cairn/clock"
)

// replica is one copy of a key with its own ID and a manual clock.
type replica struct {
	id  clock.ReplicaID
	obj Object
	ms  int64 // wall time in ms
	log uint32
}

func (r *replica) st() Stamp {
	r.log++
	return Stamp{Replica: r.id, TS: clock.Timestamp{WallTime: r.ms * 1e6, Logical: r.log}}
}

func (r *replica) now() int64 { return r.ms }

func mustGet(t *testing.T, o Object, now int64) string {
	t.Helper()
	v, ok, err := o.Get(now)
	if err != nil || !ok {
		t.Fatalf("Get: ok=%v err=%v", ok, err)
	}
	return string(v)
}

func TestStringsCountersAndExpiry(t *testing.T) {
	r := &replica{id: 1, ms: 1000}
	if _, ok, _ := r.obj.Get(r.now()); ok {
		t.Fatal("a fresh key exists")
	}
	r.obj.Set(r.st(), []byte("v1"), SetOptions{})
	if got := mustGet(t, r.obj, r.now()); got != "v1" {
		t.Fatalf("Get = %q", got)
	}
	if _, _, err := r.obj.SAdd(r.st(), "m"); !errors.Is(err, ErrWrongType) {
		t.Fatalf("SADD on a string: %v", err)
	}
	if _, _, err := r.obj.Incr(r.st(), 1); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("INCR on a non-integer string: %v", err)
	}
	r.obj.Set(r.st(), []byte("41"), SetOptions{})
	if _, v, err := r.obj.Incr(r.st(), 1); err != nil || v != 42 {
		t.Fatalf("INCR on \"41\" = %d, %v", v, err)
	}
	if k := r.obj.Kind(r.now()); k != Counter || k.String() != "string" {
		t.Fatalf("kind after INCR = %v", k)
	}
	if got := mustGet(t, r.obj, r.now()); got != "42" {
		t.Fatalf("counter reads %q", got)
	}
	if _, ok := r.obj.Del(r.st()); !ok {
		t.Fatal("DEL of an existing key said it did not exist")
	}
	if _, v, _ := r.obj.Incr(r.st(), 5); v != 5 {
		t.Fatalf("INCR after DEL = %d, want 5", v)
	}
	// Expiry.
	r.obj.Set(r.st(), []byte("x"), SetOptions{DeadlineMs: r.ms + 100})
	if ttl := r.obj.TTL(r.now()); ttl != 100 {
		t.Fatalf("TTL = %d", ttl)
	}
	r.ms += 100
	if r.obj.Visible(r.now()) || r.obj.TTL(r.now()) != -2 {
		t.Fatal("a key past its deadline is visible")
	}
	if !r.obj.Tombstone(r.now()) {
		t.Fatal("an expired key is not a tombstone")
	}
	// A write to an expired key starts from nothing.
	if _, n, _ := r.obj.SAdd(r.st(), "a", "b", "a"); n != 2 {
		t.Fatalf("SADD a b a on an expired key added %d", n)
	}
	if ttl := r.obj.TTL(r.now()); ttl != -1 {
		t.Fatalf("TTL of the new set = %d", ttl)
	}
	if _, ok, _ := r.obj.Expire(r.st(), r.ms+50); !ok {
		t.Fatal("EXPIRE on an existing key failed")
	}
	if _, ok, _ := r.obj.Persist(r.st()); !ok || r.obj.TTL(r.now()) != -1 {
		t.Fatal("PERSIST did not clear the deadline")
	}
	if _, n, _ := r.obj.SRem(r.st(), "a", "b", "zz"); n != 2 || r.obj.Visible(r.now()) {
		t.Fatalf("SREM removed %d; visible afterwards: %v", n, r.obj.Visible(r.now()))
	}
}

func TestHashes(t *testing.T) {
	r := &replica{id: 1, ms: 1000}
	_, n, err := r.obj.HSet(r.st(), Field{"a", []byte("1")}, Field{"b", []byte("2")})
	if err != nil || n != 2 {
		t.Fatalf("HSET = %d, %v", n, err)
	}
	_, n, _ = r.obj.HSet(r.st(), Field{"a", []byte("3")})
	if n != 0 {
		t.Fatalf("HSET of an existing field counted %d new", n)
	}
	if v, ok, _ := r.obj.HGet(r.now(), "a"); !ok || string(v) != "3" {
		t.Fatalf("HGET a = %q %v", v, ok)
	}
	all, _ := r.obj.HGetAll(r.now())
	if len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" {
		t.Fatalf("HGETALL = %v", all)
	}
	if _, _, err := r.obj.Get(r.now()); !errors.Is(err, ErrWrongType) {
		t.Fatalf("GET on a hash: %v", err)
	}
	if _, n, _ := r.obj.HDel(r.st(), "a", "b"); n != 2 || r.obj.Visible(r.now()) {
		t.Fatal("HDEL of every field left the key")
	}
}

// fork returns two replicas that start from a's state.
func fork(a *replica, id clock.ReplicaID) *replica {
	return &replica{id: id, obj: a.obj.Clone(), ms: a.ms, log: a.log}
}

// exchange merges x and y both ways and checks they converge.
func exchange(t *testing.T, x, y *replica) {
	t.Helper()
	xs := x.obj.Clone()
	x.obj.Merge(y.obj)
	y.obj.Merge(xs)
	if !x.obj.Equal(y.obj) {
		t.Fatal("replicas differ after a full exchange")
	}
}

func TestConcurrentWritesResolveAsDocumented(t *testing.T) {
	t.Run("write concurrent with DEL survives", func(t *testing.T) {
		a := &replica{id: 1, ms: 1000}
		a.obj.Set(a.st(), []byte("old"), SetOptions{})
		b := fork(a, 2)
		a.ms++ // the DEL even has the later clock
		a.obj.Del(a.st())
		b.obj.Set(b.st(), []byte("new"), SetOptions{})
		exchange(t, a, b)
		if got := mustGet(t, a.obj, a.ms); got != "new" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("concurrent INCRs add up", func(t *testing.T) {
		a := &replica{id: 1, ms: 1000}
		a.obj.Incr(a.st(), 10)
		b := fork(a, 2)
		a.obj.Incr(a.st(), 1)
		b.obj.Incr(b.st(), 2)
		exchange(t, a, b)
		if got := mustGet(t, a.obj, a.ms); got != "13" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("SADD concurrent with DEL survives, removed members stay removed", func(t *testing.T) {
		a := &replica{id: 1, ms: 1000}
		a.obj.SAdd(a.st(), "x", "y")
		b := fork(a, 2)
		a.obj.Del(a.st())
		b.obj.SAdd(b.st(), "z")
		exchange(t, a, b)
		m, _ := a.obj.Members(a.ms)
		if len(m) != 1 || m[0] != "z" {
			t.Fatalf("members %v, want [z]", m)
		}
	})
	t.Run("concurrent EXPIREs keep the longest, PERSIST wins", func(t *testing.T) {
		a := &replica{id: 1, ms: 1000}
		a.obj.Set(a.st(), []byte("v"), SetOptions{})
		b, c := fork(a, 2), fork(a, 3)
		a.obj.Expire(a.st(), 5000)
		b.obj.Expire(b.st(), 9000)
		exchange(t, a, b)
		if d, ok := a.obj.Deadline(); !ok || d != 9000 {
			t.Fatalf("deadline %d %v, want 9000", d, ok)
		}
		c.obj.Persist(c.st()) // c saw no deadline: PERSIST is a no-op there
		c.obj.Expire(c.st(), 2000)
		c.obj.Persist(c.st())
		exchange(t, a, c)
		if _, ok := a.obj.Deadline(); ok {
			t.Fatal("a concurrent PERSIST lost to a deadline")
		}
	})
	t.Run("type conflict: the latest type write shows", func(t *testing.T) {
		a := &replica{id: 1, ms: 1000}
		b := &replica{id: 2, ms: 1005}
		a.obj.Set(a.st(), []byte("s"), SetOptions{})
		b.obj.SAdd(b.st(), "m")
		exchange(t, a, b)
		if k := a.obj.Kind(2000); k != Set {
			t.Fatalf("kind %v, want set", k)
		}
		// The next write clears the hidden string for good.
		a.ms = 2000
		a.obj.Set(a.st(), []byte("s2"), SetOptions{})
		if got := mustGet(t, a.obj, 2000); got != "s2" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestEncodingRoundTripsAndIsCanonical(t *testing.T) {
	r := &replica{id: 7, ms: 1000}
	var objs []Object
	objs = append(objs, r.obj.Clone())
	r.obj.Set(r.st(), []byte("v"), SetOptions{DeadlineMs: 5000})
	objs = append(objs, r.obj.Clone())
	r.obj.Incr(r.st(), 3)
	r.obj.SAdd(r.st(), "a")
	objs = append(objs, r.obj.Clone())
	r.obj.Del(r.st())
	r.obj.HSet(r.st(), Field{"f", []byte("v")})
	objs = append(objs, r.obj.Clone())
	for i, o := range objs {
		enc := o.AppendBinary(nil)
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		if !got.Equal(o) || string(got.AppendBinary(nil)) != string(enc) {
			t.Fatalf("object %d does not round-trip", i)
		}
	}
	if _, err := Decode([]byte{encodingVersion, 1, 5, 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated slot: %v", err)
	}
}
