package watch

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestKeyRange(t *testing.T) {
	for _, c := range []struct {
		key, end string
		kind     rangeKind
		in, out  []string
	}{
		{"a", "", rangeSingle, []string{"a"}, []string{"", "a\x00", "b"}},
		{"", "\x00", rangeFromKey, []string{"\x00", "a", "\xff"}, nil},
		{"b", "\x00", rangeFromKey, []string{"b", "c"}, []string{"a", "a\xff"}},
		{"a/", "a0", rangePrefix, []string{"a/", "a/x"}, []string{"a", "a0", "b"}},
		{"a\xff", "b", rangePrefix, []string{"a\xff", "a\xff\xff"}, []string{"a", "b"}},
		{"a", "c", rangeSpan, []string{"a", "b", "bzz"}, []string{"c", "\x00"}},
	} {
		r, err := newKeyRange([]byte(c.key), []byte(c.end))
		if err != nil || r.kind != c.kind {
			t.Fatalf("newKeyRange(%q, %q) = %v, %v; want kind %v", c.key, c.end, r.kind, err, c.kind)
		}
		for _, k := range c.in {
			if !r.contains([]byte(k)) {
				t.Errorf("[%q, %q) lacks %q", c.key, c.end, k)
			}
		}
		for _, k := range c.out {
			if r.contains([]byte(k)) {
				t.Errorf("[%q, %q) holds %q", c.key, c.end, k)
			}
		}
	}
	for _, c := range [][2]string{{"b", "a"}, {"b", "b"}} {
		if _, err := newKeyRange([]byte(c[0]), []byte(c[1])); err != ErrEmptyWatcherRange {
			t.Errorf("[%q, %q): %v", c[0], c[1], err)
		}
	}
	if e := prefixEnd([]byte("\xff\xff")); e != nil {
		t.Errorf("prefixEnd of 0xff 0xff = %q", e)
	}
}

// randomRange draws a range of any kind over a small alphabet that
// includes 0x00 and 0xff.
func randomRange(rng *rand.Rand) keyRange {
	key := randomKey(rng)
	var end []byte
	switch rng.IntN(4) {
	case 1:
		end = []byte{0}
	case 2:
		end = prefixEnd(key)
	case 3:
		end = randomKey(rng)
	}
	r, err := newKeyRange(key, end)
	if err != nil {
		return keyRange{kind: rangeSingle, key: key}
	}
	return r
}

func randomKey(rng *rand.Rand) []byte {
	alphabet := []byte{0, 'a', 'b', 0xff}
	k := make([]byte, 1+rng.IntN(3))
	for i := range k {
		k[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return k
}

// TestSyncedGroupMatchesReference checks the index against a plain scan
// over random ranges, keys, adds and removes.
func TestSyncedGroupMatchesReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	g := newSyncedGroup()
	var live []*watcher
	for step := range 5000 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(live))
			g.remove(live[i])
			live = slices.Delete(live, i, i+1)
		} else {
			w := &watcher{id: int64(step), filter: filter{rng: randomRange(rng)}}
			g.add(w)
			live = append(live, w)
		}
		if g.size != len(live) || len(g.all(nil)) != len(live) {
			t.Fatalf("step %d: size %d, all %d, want %d", step, g.size, len(g.all(nil)), len(live))
		}
		key := randomKey(rng)
		var want, got []int64
		for _, w := range live {
			if w.filter.rng.contains(key) {
				want = append(want, w.id)
			}
		}
		for _, w := range g.appendCandidates(nil, key) {
			got = append(got, w.id)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d key %q: candidates %v, want %v", step, key, got, want)
		}
	}
}

// TestBoundingRange: the bounding range holds every key of every range.
func TestBoundingRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		ranges := make([]keyRange, 1+rng.IntN(4))
		for i := range ranges {
			ranges[i] = randomRange(rng)
		}
		key, end := boundingRange(ranges)
		for range 20 {
			k := randomKey(rng)
			for _, r := range ranges {
				if r.contains(k) && !inTestRange(k, key, end) {
					t.Fatalf("%q in %+v but not in bounding [%q, %q)", k, r, key, end)
				}
			}
		}
		if len(ranges) > 1 && len(end) > 0 && !(len(end) == 1 && end[0] == 0) && bytes.Compare(key, end) >= 0 {
			t.Fatalf("empty bounding range [%q, %q)", key, end)
		}
	}
}

func TestSelectEvents(t *testing.T) {
	src := newFakeSource()
	src.commit(put("a", "1"), put("b", "2"), del("a"), put("c", "3"))
	evs := src.revs[len(src.revs)-1].events
	cases := []struct {
		f    filter
		want string
	}{
		{filter{rng: keyRange{kind: rangeFromKey, key: []byte{0}}}, "2:PUT:a=1 2:PUT:b=2 2:DELETE:a= 2:PUT:c=3 "},
		{filter{rng: keyRange{kind: rangeSingle, key: []byte("a")}}, "2:PUT:a=1 2:DELETE:a= "},
		{filter{rng: keyRange{kind: rangeFromKey, key: []byte{0}}, noPut: true}, "2:DELETE:a= "},
		{filter{rng: keyRange{kind: rangeSingle, key: []byte("z")}}, ""},
	}
	for _, c := range cases {
		got := c.f.selectEvents(evs)
		if s := evString(got, false); s != c.want {
			t.Errorf("%+v: %q, want %q", c.f, s, c.want)
		}
		if len(got) < len(evs) && cap(got) > len(got) && &got[:cap(got)][len(got)] == &evs[len(got)] {
			t.Errorf("selection shares spare capacity with the revision's events")
		}
	}
}

func TestHistoryBounds(t *testing.T) {
	var h history
	h.maxEvents, h.maxBytes = 10, 1<<20
	src := newFakeSource()
	for i := range 1000 {
		src.commit(put("k", "v"), put("j", "w"))
		r := src.revs[len(src.revs)-1]
		h.add(r.rev, r.events)
		if h.events > 10 || len(h.revs)-h.head != min(i+1, 5) {
			t.Fatalf("after %d revisions: %d events, %d revisions", i+1, h.events, len(h.revs)-h.head)
		}
		if cap(h.revs) > 256 {
			t.Fatalf("history slice grew to %d", cap(h.revs))
		}
	}
	last := src.Rev()
	if got, ok := h.since(last-4, last); !ok || len(got) != 5 || got[0].rev != last-4 {
		t.Fatalf("since(last-4) = %d revisions, %v", len(got), ok)
	}
	if _, ok := h.since(last-5, last); ok {
		t.Fatal("since reports an evicted revision as held")
	}
	if got, ok := h.since(last+1, last); !ok || len(got) != 0 {
		t.Fatal("nothing after the last revision should be trivially held")
	}
	// A revision bigger than the bound empties the history.
	h.maxBytes = 100
	src.commit(put("big", string(make([]byte, 200))))
	r := src.revs[len(src.revs)-1]
	h.add(r.rev, r.events)
	if _, ok := h.since(r.rev, r.rev); ok || h.events != 0 || h.bytes != 0 {
		t.Fatalf("oversized revision kept: %d events %d bytes", h.events, h.bytes)
	}
}
