package ring

import "testing"

// TestHashReferenceVectors pins the placement hash to the XXH64 reference
// implementation: the vectors come from xxHash's own sanity check (xxhsum's
// BMK_sanityCheck) and from its documentation. If this test fails, the hash
// has changed and every key in every existing cluster would move.
func TestHashReferenceVectors(t *testing.T) {
	const prime32 = 2654435761
	sanity := make([]byte, 101)
	gen := uint32(prime32)
	for i := range sanity {
		sanity[i] = byte(gen >> 24)
		gen *= gen
	}
	cases := []struct {
		in   []byte
		seed uint64
		want uint64
	}{
		{nil, 0, 0xEF46DB3751D8E999},
		{nil, prime32, 0xAC75FDA2929B17EF},
		{sanity[:1], 0, 0x4FCE394CC88952D8},
		{sanity[:1], prime32, 0x739840CB819FA723},
		{sanity[:14], 0, 0xCFFA8DB881BC3A3D},
		{sanity[:14], prime32, 0x5B9611585EFCC9CB},
		{sanity, 0, 0x0EAB543384F878AD},
		{sanity, prime32, 0xCAA65939306F1E21},
		{[]byte("a"), 0, 0xD24EC4F1A98C6E5B},
		{[]byte("abc"), 0, 0x44BC2CF5AD770999},
		{[]byte("asdf"), 0, 0x415872F599CEA71E},
		{[]byte("Call me Ishmael."), 0, 0x6D04390FC9D61A90},
		{[]byte("Nobody inspects the spammish repetition"), 0, 0xFBCEA83C8A378BF1},
		{[]byte("Some years ago--never mind how long precisely-"), 0, 0x8F26F2B986AFDC52},
	}
	for _, c := range cases {
		if got := xxh64(c.in, c.seed); got != c.want {
			t.Errorf("xxh64(%q, %d) = %#x, want %#x", c.in, c.seed, got, c.want)
		}
	}
}
