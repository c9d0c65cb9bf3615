package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Digest is the 128-bit digest of one entry: a key and the version of its
// value (EntryDigest). A leaf sums its entries' digests modulo 2^128.
type Digest [16]byte

// Hash is the 128-bit hash of a tree node. Two trees of the same shape
// whose nodes at one position have equal hashes hold the same entries
// under that node (but for a collision, see doc.go).
type Hash [16]byte

// String formats h in hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// String formats d in hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Domain tags: the first byte of every SHA-256 input, so that an entry, a
// leaf and an inner node can never hash the same bytes.
const (
	tagLeaf  byte = 0
	tagInner byte = 1
	tagEntry byte = 2
)

// EntryDigest returns the digest of an entry: SHA-256 over a tag, the key's
// length as a uvarint, the key and the version, truncated to 128 bits. The
// length prefix makes (key, version) unambiguous: ("ab", "c") and
// ("a", "bc") digest differently.
//
// version is whatever identifies the stored value's state on every replica
// alike; the replica store should pass the canonical encoding of the whole
// stored value (its causal context, tombstone flag and payload), so that two
// replicas agree exactly when their stored bytes agree. See the hazard on
// canonical encodings in doc.go.
func EntryDigest(key, version []byte) Digest {
	h := sha256.New()
	var pre [1 + binary.MaxVarintLen64]byte
	pre[0] = tagEntry
	n := binary.PutUvarint(pre[1:], uint64(len(key)))
	h.Write(pre[:1+n])
	h.Write(key)
	h.Write(version)
	var sum [sha256.Size]byte
	var d Digest
	copy(d[:], h.Sum(sum[:0]))
	return d
}

// words splits d into its high and low 64-bit halves (big-endian).
func (d Digest) words() (hi, lo uint64) {
	return binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])
}

// leafHash is the node hash of a leaf: SHA-256 over the tag, the entry
// count and the 128-bit digest sum, truncated. The count is hashed too, so
// that a leaf whose removals did not cancel its additions is still told
// apart from an empty one.
func leafHash(l *leaf) Hash {
	var b [1 + 3*8]byte
	b[0] = tagLeaf
	binary.BigEndian.PutUint64(b[1:], l.count)
	binary.BigEndian.PutUint64(b[9:], l.hi)
	binary.BigEndian.PutUint64(b[17:], l.lo)
	s := sha256.Sum256(b[:])
	return Hash(s[:16])
}

// innerHash is the node hash of an inner node: SHA-256 over the tag and the
// two children's hashes, truncated. Unlike the leaves' sums it depends on
// order, so a difference in one child cannot be cancelled by a difference
// in the other.
func innerHash(left, right *Hash) Hash {
	var b [1 + 2*16]byte
	b[0] = tagInner
	copy(b[1:], left[:])
	copy(b[17:], right[:])
	s := sha256.Sum256(b[:])
	return Hash(s[:16])
}

// emptyHash[h] is the hash of a subtree of height h with no entries, the
// same in every tree. A node with this hash holds nothing (but for a
// collision), which lets a comparison report a whole subtree at once when
// one side has nothing in it.
var emptyHash = func() [MaxDepth + 1]Hash {
	var e [MaxDepth + 1]Hash
	e[0] = leafHash(&leaf{})
	for h := 1; h <= MaxDepth; h++ {
		e[h] = innerHash(&e[h-1], &e[h-1])
	}
	return e
}()
