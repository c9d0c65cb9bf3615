package ring

import (
	"encoding/binary"
	"math/bits"
)

// The hash that places keys and tokens is XXH64 (Yann Collet, xxHash,
// https://github.com/Cyan4973/xxHash, doc/xxhash_spec.md) with seed 0. It
// was chosen because it has a written specification and published reference
// vectors (TestHashReferenceVectors checks them), so its output can be
// pinned forever; it passes SMHasher, so tokens and key hashes are uniform
// even for the near-identical inputs a ring produces ("node-1"+index,
// "node-2"+index, ...); and it reads 8 bytes a step, so long keys hash
// several times faster than with a byte-at-a-time hash such as FNV-1a.
// The rejected alternatives: hash/maphash is seeded per process, so two
// nodes would build different rings; hash/crc64 is linear over GF(2), so
// inputs that differ in a few bits give tokens that differ in related bits;
// FNV-1a diffuses its last bytes poorly (a finaliser would fix the output,
// but not the speed).
//
// HAZARD: this function decides where every key lives. Changing it, its
// seed, or the layout of a virtual node's input (vnodeToken) moves nearly
// every key in every cluster; it must stay bit-for-bit identical across
// versions.

const (
	prime64x1 uint64 = 11400714785074694791
	prime64x2 uint64 = 14029467366897019727
	prime64x3 uint64 = 1609587929392839161
	prime64x4 uint64 = 9650029242287828579
	prime64x5 uint64 = 2870177450012600261
)

// xxh64 returns the XXH64 hash of b with the given seed.
func xxh64(b []byte, seed uint64) uint64 {
	n := len(b)
	var h uint64
	if n >= 32 {
		v1 := seed + prime64x1 + prime64x2
		v2 := seed + prime64x2
		v3 := seed
		v4 := seed - prime64x1
		for len(b) >= 32 {
			v1 = xxhRound(v1, binary.LittleEndian.Uint64(b[0:8]))
			v2 = xxhRound(v2, binary.LittleEndian.Uint64(b[8:16]))
			v3 = xxhRound(v3, binary.LittleEndian.Uint64(b[16:24]))
			v4 = xxhRound(v4, binary.LittleEndian.Uint64(b[24:32]))
			b = b[32:]
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) +
			bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = xxhMergeRound(h, v1)
		h = xxhMergeRound(h, v2)
		h = xxhMergeRound(h, v3)
		h = xxhMergeRound(h, v4)
	} else {
		h = seed + prime64x5
	}
	h += uint64(n)
	for ; len(b) >= 8; b = b[8:] {
		h ^= xxhRound(0, binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*prime64x1 + prime64x4
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b)) * prime64x1
		h = bits.RotateLeft64(h, 23)*prime64x2 + prime64x3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * prime64x5
		h = bits.RotateLeft64(h, 11) * prime64x1
	}
	h ^= h >> 33
	h *= prime64x2
	h ^= h >> 29
	h *= prime64x3
	h ^= h >> 32
	return h
}

func xxhRound(acc, input uint64) uint64 {
	acc += input * prime64x2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime64x1
}

func xxhMergeRound(acc, val uint64) uint64 {
	acc ^= xxhRound(0, val)
	return acc*prime64x1 + prime64x4
}
