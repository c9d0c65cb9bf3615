package raft

import (
	"errors"
	"fmt"
)

var (
	// ErrProposalDropped is returned when a proposal (or read request) is
	// refused: there is no leader, a leadership transfer is in progress, the
	// uncommitted log is over MaxUncommittedEntriesSize, or a configuration
	// change is already pending. The caller may retry later.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrNoLeader: the proposal or read was dropped because no leader is
	// known. It wraps ErrProposalDropped.
	ErrNoLeader = fmt.Errorf("%w: no leader", ErrProposalDropped)
	// ErrTransferring: dropped because a leadership transfer is in
	// progress. It wraps ErrProposalDropped.
	ErrTransferring = fmt.Errorf("%w: leadership transfer in progress", ErrProposalDropped)
	// ErrUncommittedFull: dropped because the uncommitted log is over
	// MaxUncommittedEntriesSize. It wraps ErrProposalDropped.
	ErrUncommittedFull = fmt.Errorf("%w: uncommitted log full", ErrProposalDropped)
	// ErrConfChangePending: a configuration change was dropped because
	// another is not yet applied, or it cannot apply to the current
	// configuration. It wraps ErrProposalDropped.
	ErrConfChangePending = fmt.Errorf("%w: configuration change refused", ErrProposalDropped)
	// ErrStepLocalMsg is returned by RawNode.Step for local message types.
	ErrStepLocalMsg = errors.New("raft: cannot step raft local message")
	// ErrStepPeerNotFound is returned by RawNode.Step for a response from a
	// node that is not a member.
	ErrStepPeerNotFound = errors.New("raft: cannot step response from unknown node")
	// ErrInvalidMessage is wrapped by errors for malformed messages (unknown
	// type, bad indexes, wrong recipient); such messages change no state.
	ErrInvalidMessage = errors.New("raft: invalid message")
	// ErrCompacted is returned by Storage when the requested index is before
	// the first available entry (it was compacted into a snapshot).
	ErrCompacted = errors.New("raft: requested index is unavailable due to compaction")
	// ErrSnapOutOfDate is returned by MemoryStorage.CreateSnapshot and
	// ApplySnapshot for a snapshot older than the current one.
	ErrSnapOutOfDate = errors.New("raft: requested index is older than the existing snapshot")
	// ErrUnavailable is returned by Storage when the requested entries are
	// not available yet (after the last index).
	ErrUnavailable = errors.New("raft: requested entry at index is unavailable")
	// ErrSnapshotTemporarilyUnavailable is returned by Storage.Snapshot when
	// the snapshot is being produced; the leader retries later.
	ErrSnapshotTemporarilyUnavailable = errors.New("raft: snapshot is temporarily unavailable")
	// ErrConfigInvalid is wrapped by Config.Validate errors.
	ErrConfigInvalid = errors.New("raft: invalid config")
)
