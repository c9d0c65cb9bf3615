package raftpb

import (
	"fmt"
	"strings"
)

// MessageType names a Raft message. Local types never cross the network:
// the node steps them into itself.
type MessageType uint8

const (
	// MsgHup (local) asks a node to start an election (or pre-election).
	MsgHup MessageType = iota + 1
	// MsgBeat (local) asks a leader to broadcast heartbeats.
	MsgBeat
	// MsgProp carries proposed entries to the leader (local or forwarded).
	MsgProp
	// MsgApp is AppendEntries: Index/LogTerm locate the entry preceding Entries.
	MsgApp
	// MsgAppResp answers MsgApp. On success Index is the last matching index;
	// on rejection Index is the rejected index and RejectHint/LogTerm hint
	// where the logs may match.
	MsgAppResp
	// MsgVote is RequestVote: Index/LogTerm describe the candidate's last entry.
	MsgVote
	// MsgVoteResp answers MsgVote; Reject is true if the vote is refused.
	MsgVoteResp
	// MsgSnap is InstallSnapshot, carrying Snapshot.
	MsgSnap
	// MsgHeartbeat keeps followers from campaigning and carries the commit
	// index (capped at the follower's match), a ReadIndex Context, and in
	// Index the leader's tick count at send time (for lease accounting).
	MsgHeartbeat
	// MsgHeartbeatResp answers MsgHeartbeat, echoing Context and Index.
	MsgHeartbeatResp
	// MsgUnreachable (local) reports that a message to From could not be sent.
	MsgUnreachable
	// MsgSnapStatus (local) reports the outcome of sending a snapshot; Reject
	// means it failed.
	MsgSnapStatus
	// MsgCheckQuorum (local) asks a leader to check it still hears a quorum.
	MsgCheckQuorum
	// MsgTransferLeader asks the leader to hand leadership to From.
	MsgTransferLeader
	// MsgTimeoutNow tells the transfer target to campaign at once.
	MsgTimeoutNow
	// MsgReadIndex asks the leader for a read index; Context identifies the read.
	MsgReadIndex
	// MsgReadIndexResp answers MsgReadIndex with Index = the read index.
	MsgReadIndexResp
	// MsgPreVote is a pre-election probe for Term+1 that changes no state.
	MsgPreVote
	// MsgPreVoteResp answers MsgPreVote.
	MsgPreVoteResp
)

var msgNames = [...]string{
	MsgHup: "MsgHup", MsgBeat: "MsgBeat", MsgProp: "MsgProp", MsgApp: "MsgApp",
	MsgAppResp: "MsgAppResp", MsgVote: "MsgVote", MsgVoteResp: "MsgVoteResp",
	MsgSnap: "MsgSnap", MsgHeartbeat: "MsgHeartbeat", MsgHeartbeatResp: "MsgHeartbeatResp",
	MsgUnreachable: "MsgUnreachable", MsgSnapStatus: "MsgSnapStatus",
	MsgCheckQuorum: "MsgCheckQuorum", MsgTransferLeader: "MsgTransferLeader",
	MsgTimeoutNow: "MsgTimeoutNow", MsgReadIndex: "MsgReadIndex",
	MsgReadIndexResp: "MsgReadIndexResp", MsgPreVote: "MsgPreVote", MsgPreVoteResp: "MsgPreVoteResp",
}

// String returns the message type's name.
func (t MessageType) String() string {
	if int(t) < len(msgNames) && msgNames[t] != "" {
		return msgNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// Valid reports whether t is a known message type.
func (t MessageType) Valid() bool { return t >= MsgHup && t <= MsgPreVoteResp }

// IsLocal reports whether t is only ever stepped by a node into itself.
func (t MessageType) IsLocal() bool {
	switch t {
	case MsgHup, MsgBeat, MsgUnreachable, MsgSnapStatus, MsgCheckQuorum:
		return true
	}
	return false
}

// IsResponse reports whether t answers another message.
func (t MessageType) IsResponse() bool {
	switch t {
	case MsgAppResp, MsgVoteResp, MsgHeartbeatResp, MsgUnreachable, MsgPreVoteResp, MsgReadIndexResp:
		return true
	}
	return false
}

// VoteResponseType returns the response type for a vote request type.
func VoteResponseType(t MessageType) MessageType {
	switch t {
	case MsgVote:
		return MsgVoteResp
	case MsgPreVote:
		return MsgPreVoteResp
	}
	panic(fmt.Sprintf("raftpb: not a vote message: %s", t))
}

// Message is the unit of communication between Raft nodes (and between the
// application and its node, for local types). Fields not used by a type are
// zero.
type Message struct {
	Type MessageType
	// From and To are node IDs; 0 is never a valid node.
	From uint64
	To   uint64
	// Term is the sender's term; 0 for local messages and MsgProp.
	Term uint64
	// LogTerm is the term of the entry at Index (MsgApp, MsgVote) or a
	// rejection hint (MsgAppResp).
	LogTerm uint64
	// Index: see the message types.
	Index uint64
	// Entries to append (MsgApp) or propose (MsgProp).
	Entries []Entry
	// Commit is the sender's commit index (MsgApp, MsgHeartbeat).
	Commit uint64
	// Reject marks a negative response.
	Reject bool
	// RejectHint is the follower's hint for the leader's next probe.
	RejectHint uint64
	// Snapshot carried by MsgSnap.
	Snapshot *Snapshot
	// Context is opaque data: a ReadIndex request ID, or the campaign kind
	// ("transfer") on a vote request.
	Context []byte
}

// EntryFormatter renders entry payloads in DescribeMessage; nil prints %q.
type EntryFormatter func([]byte) string

// DescribeEntry formats an entry as "term/index Type payload".
func DescribeEntry(e Entry, f EntryFormatter) string {
	var data string
	switch {
	case f != nil:
		data = f(e.Data)
	case e.Type == EntryConfChange:
		if cc, err := UnmarshalConfChange(e.Data); err == nil {
			data = cc.String()
		} else {
			data = fmt.Sprintf("<bad conf change: %v>", err)
		}
	default:
		data = fmt.Sprintf("%q", e.Data)
	}
	return fmt.Sprintf("%d/%d %s %s", e.Term, e.Index, e.Type, data)
}

// DescribeEntries formats entries one per line.
func DescribeEntries(ents []Entry, f EntryFormatter) string {
	var b strings.Builder
	for _, e := range ents {
		b.WriteString(DescribeEntry(e, f))
		b.WriteByte('\n')
	}
	return b.String()
}

// DescribeMessage formats m on one line for traces and golden files, e.g.
// "1->2 MsgApp Term:2 Log:1/5 Commit:5 Entries:[2/6 EntryNormal "x"]".
func DescribeMessage(m Message, f EntryFormatter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d->%d %s Term:%d Log:%d/%d", m.From, m.To, m.Type, m.Term, m.LogTerm, m.Index)
	if m.Reject {
		fmt.Fprintf(&b, " Rejected (Hint: %d)", m.RejectHint)
	}
	if m.Commit != 0 {
		fmt.Fprintf(&b, " Commit:%d", m.Commit)
	}
	if len(m.Entries) > 0 {
		b.WriteString(" Entries:[")
		for i, e := range m.Entries {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(DescribeEntry(e, f))
		}
		b.WriteString("]")
	}
	if len(m.Context) > 0 {
		fmt.Fprintf(&b, " Context:%q", m.Context)
	}
	if s := m.Snapshot; s != nil && !s.IsEmpty() {
		fmt.Fprintf(&b, " Snapshot: Index:%d Term:%d ConfState:%s", s.Metadata.Index, s.Metadata.Term, s.Metadata.ConfState)
	}
	return b.String()
}

// String formats m with DescribeMessage.
func (m Message) String() string { return DescribeMessage(m, nil) }
