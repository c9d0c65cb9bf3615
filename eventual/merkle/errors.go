package merkle

import (
	"errors"
	"fmt"
)

// ErrInvalidConfig wraps every error of Config.Validate and
// ExchangeConfig.Validate.
var ErrInvalidConfig = errors.New("merkle: invalid config")

// ErrOutOfRange is returned by Add, Remove and Update for a key hash that
// lies outside the tree's Range: the caller routed a key to the wrong tree.
// The tree is unchanged.
var ErrOutOfRange = errors.New("merkle: key hash outside the tree's range")

// ErrNotPresent is returned by Remove and Update when the key hash's leaf
// holds no entry, so the entry cannot be there. The tree is unchanged.
var ErrNotPresent = errors.New("merkle: no entry to remove in that leaf")

// ErrInconsistent is returned by Remove when it empties a leaf whose
// digests do not cancel out: some earlier Remove or Update named a digest
// that had never been added. The removal is applied; the leaf is wrong
// until the tree is rebuilt (see Builder).
var ErrInconsistent = errors.New("merkle: leaf emptied with a non-zero digest sum; rebuild the tree")

// ErrMalformed wraps every decoding error: the bytes are not a message this
// version can read, or they break a limit.
var ErrMalformed = errors.New("merkle: malformed message")

// ErrProtocol ends a Session whose peer answered with a reply that does not
// fit the request (wrong count of nodes, children for a leaf).
var ErrProtocol = errors.New("merkle: protocol violation")

// ErrNoTree ends a Session whose peer holds no tree for the range (its ring
// differs, or its tree is being rebuilt). Try again later.
var ErrNoTree = errors.New("merkle: peer has no tree for the range")

// ErrRefused ends a Session whose peer refused a request that breaks its
// bounds (more nodes than its MaxNodesPerRequest, an invalid node index).
var ErrRefused = errors.New("merkle: peer refused the request")

// ErrTimeout ends a Session when a request stays unanswered after
// ExchangeConfig.MaxRetries resends.
var ErrTimeout = errors.New("merkle: peer did not answer")

// ErrRangeMismatch and ErrDepthMismatch are matched (errors.Is) by a
// *MismatchError: the two trees do not cover the same hash range, or do
// not split it into the same number of leaves. Their hashes mean different
// things, so no comparison is made.
var (
	ErrRangeMismatch = errors.New("merkle: trees cover different ranges")
	ErrDepthMismatch = errors.New("merkle: trees have different depths")
)

// MismatchError says how two trees differ in shape. Local is this side's
// tree, Remote the other (the peer's, or Diff's second argument).
type MismatchError struct {
	LocalRange, RemoteRange Range
	LocalDepth, RemoteDepth int
}

// Error names both shapes.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("merkle: tree shape mismatch: local %v depth %d, remote %v depth %d",
		e.LocalRange, e.LocalDepth, e.RemoteRange, e.RemoteDepth)
}

// Is matches ErrRangeMismatch when the ranges differ and ErrDepthMismatch
// when the depths differ (both when both do).
func (e *MismatchError) Is(target error) bool {
	switch target {
	case ErrRangeMismatch:
		return e.LocalRange != e.RemoteRange
	case ErrDepthMismatch:
		return e.LocalDepth != e.RemoteDepth
	}
	return false
}

// checkShape returns a *MismatchError unless the shapes agree.
func checkShape(localRange Range, localDepth int, remoteRange Range, remoteDepth int) error {
	if localRange == remoteRange && localDepth == remoteDepth {
		return nil
	}
	return &MismatchError{LocalRange: localRange, RemoteRange: remoteRange, LocalDepth: localDepth, RemoteDepth: remoteDepth}
}
