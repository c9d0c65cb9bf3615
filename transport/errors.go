package transport

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by every method called after Close, and by a
// SendSnapshot cut short by Close or by the removal of its peer.
var ErrClosed = errors.New("transport: closed")

// ErrUnknownPeer is returned for a peer id that AddPeer has not added (or
// RemovePeer has removed).
var ErrUnknownPeer = errors.New("transport: unknown peer")

// ErrPeerExists is returned by AddPeer for an id that is already a peer.
var ErrPeerExists = errors.New("transport: peer already added")

// ErrPartitioned is returned by SendSnapshot while a fault rule partitions
// the peer (see Faults).
var ErrPartitioned = errors.New("transport: peer partitioned by fault injection")

// ErrTooLarge is returned by SendSnapshot for a header longer than
// Config.MaxFrameBytes.
var ErrTooLarge = errors.New("transport: too large")

// ErrSendTimeout is the cause of a stream that was cut because one message
// took longer than Config.SendTimeout to be accepted by gRPC (the peer
// stopped reading, or the network stopped carrying).
var ErrSendTimeout = errors.New("transport: send timed out")

// ErrDialTimeout is the cause of a connection attempt that was not accepted
// by the peer within Config.DialTimeout.
var ErrDialTimeout = errors.New("transport: dial timed out")

// ErrSnapshotTruncated is returned by a snapshot body's Read when the
// stream ended before the sender's end marker: the sender failed or gave
// up, and the bytes read so far are not a whole snapshot.
var ErrSnapshotTruncated = errors.New("transport: snapshot truncated")

// ErrSnapshotCorrupt is returned by a snapshot body's Read when the bytes
// received do not match the length or CRC-32C the sender computed.
var ErrSnapshotCorrupt = errors.New("transport: snapshot corrupt")

// ErrClusterMismatch is matched (errors.Is) by a *MismatchError about the
// cluster id: the peer belongs to another cluster.
var ErrClusterMismatch = errors.New("transport: peer is in another cluster")

// ErrNodeMismatch is matched (errors.Is) by a *MismatchError about the node
// id: the address reaches a node other than the one it was added for.
var ErrNodeMismatch = errors.New("transport: address reaches another node")

// MismatchError reports a peer that refused a stream because the two nodes
// disagree on who they are: a wrong cluster id, or an address that reaches
// a node other than the expected one. It is a configuration error, not a
// network one; the transport keeps retrying with backoff (the peer may be
// reconfigured), and the breaker opens meanwhile.
type MismatchError struct {
	// Peer and Addr are the peer as this node knows it.
	Peer uint64
	Addr string
	// Cluster is true for a cluster id mismatch, false for a node id one.
	Cluster bool
	// Want is the id this node expected; Got the one the peer reported.
	Want, Got uint64
}

// Error implements error.
func (e *MismatchError) Error() string {
	if e.Cluster {
		return fmt.Sprintf("transport: peer %d at %s is in cluster %x, this node is in cluster %x", e.Peer, e.Addr, e.Got, e.Want)
	}
	return fmt.Sprintf("transport: address %s of peer %d reaches node %d", e.Addr, e.Peer, e.Got)
}

// Unwrap returns ErrClusterMismatch or ErrNodeMismatch.
func (e *MismatchError) Unwrap() error {
	if e.Cluster {
		return ErrClusterMismatch
	}
	return ErrNodeMismatch
}
