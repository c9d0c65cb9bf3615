package raft

import "github.com/cairndb/cairn/raft/raftpb"

// Aliases so that applications can use the wire types through package raft.
type (
	// Entry is a log entry; see raftpb.Entry.
	Entry = raftpb.Entry
	// HardState is the persistent state; see raftpb.HardState.
	HardState = raftpb.HardState
	// Message is a Raft message; see raftpb.Message.
	Message = raftpb.Message
	// MessageType is a message's type; see raftpb.MessageType.
	MessageType = raftpb.MessageType
	// Snapshot is an application snapshot; see raftpb.Snapshot.
	Snapshot = raftpb.Snapshot
	// ConfState is a configuration; see raftpb.ConfState.
	ConfState = raftpb.ConfState
	// ConfChange is a membership change; see raftpb.ConfChange.
	ConfChange = raftpb.ConfChange
)

// None is the node ID that means "no node" (no leader, no vote).
const None uint64 = 0
