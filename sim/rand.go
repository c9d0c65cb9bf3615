package sim

import "math/rand/v2"

// NewRand returns the deterministic random source for one stream of one
// seed. Streams let independent parts of a run (the network, the nemesis,
// the workload, each node) draw numbers without disturbing each other: a
// change to how many numbers the workload draws does not shift the
// network's delays. The same (seed, stream) always gives the same sequence.
//
// The generator is PCG from math/rand/v2; both of its 64-bit seeds are
// derived from seed and stream with SplitMix64, so that adjacent seeds (1,
// 2, 3, ...) give unrelated sequences.
func NewRand(seed uint64, stream string) *rand.Rand {
	s := splitmix64(seed ^ fnvString(fnvOffset, stream))
	return rand.New(rand.NewPCG(s, splitmix64(s)))
}

// splitmix64 is the finaliser of Steele et al.'s SplitMix64 generator: a
// bijective mixer that spreads every input bit over the output.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// FNV-1a 64-bit constants (Fowler, Noll, Vo).
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// fnvString folds s into the running FNV-1a hash h.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// fnvUint64 folds the eight little-endian bytes of v into h.
func fnvUint64(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}
