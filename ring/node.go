package ring

import (
	"errors"
	"fmt"
)

// NodeID names a member of the ring: the node's name in the cluster (its
// --name). It is the only input, with the vnode index, to the node's
// tokens, so a node keeps its place on the ring across restarts and address
// changes.
type NodeID string

// Node is a member of the ring.
type Node struct {
	// ID names the node; it must be non-empty and at most MaxNameLen bytes.
	ID NodeID
	// Zone is the failure domain (rack, availability zone) the node is in,
	// at most MaxNameLen bytes. Replicas places copies in distinct zones
	// first. The empty string is a zone like any other, so a ring whose
	// nodes all leave Zone empty has one zone and places replicas on
	// distinct nodes only.
	Zone string
	// Weight scales the node's number of tokens, and so its share of the
	// keys: a node of weight 2 gets twice the keys of a node of weight 1.
	// It must be at least 1.
	Weight int
}

// MaxNameLen bounds the length in bytes of a NodeID and of a zone name.
const MaxNameLen = 256

// ErrInvalidNode is wrapped by the errors for a malformed Node.
var ErrInvalidNode = errors.New("ring: invalid node")

// validate checks the fields that do not depend on the Config.
func (n Node) validate() error {
	switch {
	case n.ID == "":
		return fmt.Errorf("%w: empty ID", ErrInvalidNode)
	case len(n.ID) > MaxNameLen:
		return fmt.Errorf("%w: ID of %d bytes, want at most %d", ErrInvalidNode, len(n.ID), MaxNameLen)
	case len(n.Zone) > MaxNameLen:
		return fmt.Errorf("%w: %q: zone of %d bytes, want at most %d", ErrInvalidNode, n.ID, len(n.Zone), MaxNameLen)
	case n.Weight < 1:
		return fmt.Errorf("%w: %q: weight %d, want at least 1", ErrInvalidNode, n.ID, n.Weight)
	}
	return nil
}
