package strong

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// MemberID derives a member's ID from its peer URLs and the cluster
// token, so that every member computes the same IDs from the same
// --initial-cluster without talking, and a member added later gets the ID
// that MemberAdd gave it (the idea of etcd's member IDs). It is never 0,
// which Raft reserves.
func MemberID(peerURLs []string, token string) uint64 {
	h := sha256.New()
	for _, s := range slices.Sorted(slices.Values(peerURLs)) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write([]byte(token))
	id := binary.BigEndian.Uint64(h.Sum(nil)[:8])
	if id == 0 {
		id = 1
	}
	return id
}

// ClusterID derives the cluster's ID from its token alone, so a member
// added later computes the founders' ID; clusters are told apart by their
// tokens, as etcd's --initial-cluster-token intends.
func ClusterID(token string) uint64 {
	h := sha256.Sum256([]byte("cairn-cluster\\x00" + token))
	id := binary.BigEndian.Uint64(h[:8])
	if id == 0 {
		id = 1
	}
	return id
}
