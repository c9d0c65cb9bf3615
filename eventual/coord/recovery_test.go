package coord

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairndb/cairn/ring"
)

// TestSpansCoverRanges compares spans with TokenRange.Contains on random
// ranges, wrapping ones and the whole ring included.
func TestSpansCoverRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tok := func() ring.Token {
		if rng.IntN(8) == 0 { // the edges
			return []ring.Token{0, 1, math.MaxUint64 - 1, math.MaxUint64}[rng.IntN(4)]
		}
		return ring.Token(rng.Uint64() % 64) // small, so ranges meet and overlap
	}
	for range 2000 {
		var rs []ring.TokenRange
		for range 1 + rng.IntN(4) {
			rs = append(rs, ring.TokenRange{Start: tok(), End: tok()})
		}
		set := spansOf(rs)
		for range 50 {
			x := tok()
			in := false
			for _, r := range rs {
				in = in || r.Contains(x)
			}
			if set.contains(x) != in {
				t.Fatalf("ranges %v: contains(%d)=%v, want %v (spans %v)", rs, x, set.contains(x), in, set)
			}
		}
		q := ring.TokenRange{Start: tok(), End: tok()}
		want := true
		for x := ring.Token(0); x < 64; x++ { // q's small tokens, and its edges
			if q.Contains(x) && !set.contains(x) {
				want = false
			}
		}
		for _, x := range []ring.Token{math.MaxUint64 - 1, math.MaxUint64} {
			if q.Contains(x) && !set.contains(x) {
				want = false
			}
		}
		// covers may say false where the sampled tokens say true (a gap at a
		// large token), never the reverse.
		if set.covers(q) && !want {
			t.Fatalf("ranges %v claim to cover %v", rs, q)
		}
		if covered := set.covers(q); !covered && want && q.Start < 64 && q.End < 64 && q.Start < q.End {
			t.Fatalf("ranges %v do not cover %v, which they hold", rs, q)
		}
	}
}

// FuzzAcceptorsCodec: the msgAcceptors request and page decoders never
// panic, and what they accept survives a re-encoding unchanged.
func FuzzAcceptorsCodec(f *testing.F) {
	f.Add(appendAcceptorsRequest(nil, []byte("k"), []ring.TokenRange{{Start: 5, End: 3}}))
	f.Add((&acceptorsPage{more: true, last: []byte("z"), entries: []acceptorEntry{{key: []byte("a"), state: []byte{1, 2}}}}).appendBinary(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if cursor, rs, err := decodeAcceptorsRequest(b); err == nil {
			c2, rs2, err := decodeAcceptorsRequest(appendAcceptorsRequest(nil, cursor, rs))
			if err != nil || !bytes.Equal(c2, cursor) || !slices.Equal(rs2, rs) {
				t.Fatalf("request %x: %q %v, re-decoded %q %v %v", b, cursor, rs, c2, rs2, err)
			}
		}
		if p, err := decodeAcceptorsPage(b); err == nil {
			p2, err := decodeAcceptorsPage(p.appendBinary(nil))
			if err != nil || p2.more != p.more || !bytes.Equal(p2.last, p.last) || len(p2.entries) != len(p.entries) {
				t.Fatalf("page %x: %+v, re-decoded %+v %v", b, p, p2, err)
			}
			for i := range p.entries {
				if !bytes.Equal(p.entries[i].key, p2.entries[i].key) || !bytes.Equal(p.entries[i].state, p2.entries[i].state) {
					t.Fatalf("page %x: entry %d changed", b, i)
				}
			}
		}
	})
}
