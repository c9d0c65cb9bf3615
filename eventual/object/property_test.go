package object

import (
	"fmt"
	"testing"

	"github.com/cairndb/cairn/clock"
	"pgregory.net/rapid"
)

// TestDeltasConvergeInAnyOrder runs random operations on three replicas of
// one key, ships each delta to the others with random delay, duplication
// and reordering, and checks that once everything is delivered the
// replicas are equal, and equal to what merging whole states gives.
func TestDeltasConvergeInAnyOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reps := []*replica{{id: 1, ms: 1000}, {id: 2, ms: 1000}, {id: 3, ms: 1000}}
		type msg struct {
			to    int
			delta Object
		}
		var inflight []msg
		members := []string{"a", "b", "c"}
		steps := rapid.IntRange(1, 60).Draw(t, "steps")
		for range steps {
			i := rapid.IntRange(0, 2).Draw(t, "replica")
			r := reps[i]
			r.ms += int64(rapid.IntRange(0, 3).Draw(t, "tick"))
			st := r.st()
			var d Object
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); op {
			case 0:
				d, _ = r.obj.Set(st, []byte(fmt.Sprint(r.ms)), SetOptions{})
			case 1:
				d, _ = r.obj.Del(st)
			case 2:
				d, _, _ = r.obj.Incr(st, int64(rapid.IntRange(-5, 5).Draw(t, "by")))
			case 3:
				d, _, _ = r.obj.SAdd(st, rapid.SampledFrom(members).Draw(t, "m"))
			case 4:
				d, _, _ = r.obj.SRem(st, rapid.SampledFrom(members).Draw(t, "m"))
			case 5:
				d, _, _ = r.obj.HSet(st, Field{rapid.SampledFrom(members).Draw(t, "f"), []byte{byte(r.id)}})
			case 6:
				d, _, _ = r.obj.HDel(st, rapid.SampledFrom(members).Draw(t, "f"))
			case 7:
				d, _, _ = r.obj.Expire(st, r.ms+int64(rapid.IntRange(-2, 20).Draw(t, "ttl")))
			case 8:
				d, _, _ = r.obj.Persist(st)
			case 9:
				// Deliver some in-flight deltas, in random order.
				for n := rapid.IntRange(0, len(inflight)).Draw(t, "deliver"); n > 0 && len(inflight) > 0; n-- {
					j := rapid.IntRange(0, len(inflight)-1).Draw(t, "which")
					m := inflight[j]
					reps[m.to].obj.Merge(m.delta)
					if !rapid.Bool().Draw(t, "dup") {
						inflight = append(inflight[:j], inflight[j+1:]...)
					}
				}
				continue
			}
			// The delta must round-trip through the encoding.
			dec, err := Decode(d.AppendBinary(nil))
			if err != nil || !dec.Equal(d) {
				t.Fatalf("delta does not round-trip: %v", err)
			}
			for to := range reps {
				if to != i {
					inflight = append(inflight, msg{to, dec.Clone()})
				}
			}
		}
		// Whole-state merge of the replicas before delivery.
		var full Object
		for _, r := range reps {
			full.Merge(r.obj.Clone())
		}
		for _, m := range inflight {
			reps[m.to].obj.Merge(m.delta)
		}
		for i, r := range reps {
			if !r.obj.Equal(full) {
				t.Fatalf("replica %d differs from the merge of all states after every delta arrived", i)
			}
		}
		// What every replica shows is the same.
		now := reps[0].ms + 100
		v0, ok0, err0 := reps[0].obj.Get(now)
		for _, r := range reps[1:] {
			v, ok, err := r.obj.Get(now)
			if string(v) != string(v0) || ok != ok0 || (err == nil) != (err0 == nil) {
				t.Fatal("replicas show different values")
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	r := &replica{id: clock.ReplicaID(3), ms: 1000}
	f.Add([]byte{})
	f.Add(r.obj.AppendBinary(nil))
	r.obj.Set(r.st(), []byte("v"), SetOptions{DeadlineMs: 4000})
	f.Add(r.obj.AppendBinary(nil))
	r.obj.HSet(r.st(), Field{"f", []byte("x")})
	f.Add(r.obj.AppendBinary(nil))
	r.obj.Incr(r.st(), 3)
	r.obj.SAdd(r.st(), "m")
	f.Add(r.obj.AppendBinary(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes (canonical), and
		// reads do not panic.
		if got := o.AppendBinary(nil); string(got) != string(b) {
			t.Fatalf("decoded state re-encodes differently")
		}
		o.Get(0)
		o.HGetAll(0)
		o.Members(0)
		o.TTL(0)
	})
}
