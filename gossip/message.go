package gossip

import "fmt"

// MsgKind names a message of the protocol.
type MsgKind uint8

const (
	// MsgPing asks the member To for an ack of Seq (a probe, direct or on
	// behalf of a ping-req).
	MsgPing MsgKind = iota + 1
	// MsgAck answers a ping with its Seq, or relays a target's answer to
	// the node that asked for an indirect probe.
	MsgAck
	// MsgPingReq asks a helper to probe Target and relay the ack under Seq
	// (SWIM's indirect probe).
	MsgPingReq
	// MsgNack tells the node that sent a ping-req that the helper heard no
	// ack from the target in time (Lifeguard): a prober that gets neither
	// acks nor nacks knows the fault may be its own.
	MsgNack
	// MsgGossip carries only updates (graceful leave, gossip fan-out).
	MsgGossip
	// MsgPushPull sends the sender's whole membership table and asks for
	// the receiver's in a MsgPushPullReply (anti-entropy, join,
	// reconnection after a partition). The driver carries both over a
	// stream: they are bounded by Config.MaxMembers entries, not by
	// Config.MaxMessageBytes.
	MsgPushPull
	// MsgPushPullReply answers a MsgPushPull with the receiver's table.
	MsgPushPullReply
)

// String returns the kind's name.
func (k MsgKind) String() string {
	switch k {
	case MsgPing:
		return "ping"
	case MsgAck:
		return "ack"
	case MsgPingReq:
		return "ping-req"
	case MsgNack:
		return "nack"
	case MsgGossip:
		return "gossip"
	case MsgPushPull:
		return "push-pull"
	case MsgPushPullReply:
		return "push-pull-reply"
	}
	return fmt.Sprintf("MsgKind(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k MsgKind) Valid() bool { return k >= MsgPing && k <= MsgPushPullReply }

// Stream reports whether k travels over a stream (push-pull) rather than
// in a datagram.
func (k MsgKind) Stream() bool { return k == MsgPushPull || k == MsgPushPullReply }

// Message is one protocol message. Its slices and strings are never
// modified once it is handed out by Ready or passed to Step: a driver may
// share one Message between receivers (the simulator does).
type Message struct {
	// Kind names the message.
	Kind MsgKind
	// From is the sender. A driver that learns the sender from the wire
	// must check that it matches the peer it came from, if it can.
	From NodeID
	// To is the intended receiver. A ping that reaches a different node
	// (an address reused after a restart) is ignored.
	To NodeID
	// Seq matches acks and nacks to pings and ping-reqs.
	Seq uint64
	// Target is the member a ping-req asks to probe.
	Target NodeID
	// Updates are the piggybacked membership updates, or, in a push-pull,
	// the sender's whole table.
	Updates []Update
}

// Update is one piece of membership news: member Member is in State at
// Incarnation. Alive and left updates come from the member itself; suspect
// and dead updates name their accuser in From.
type Update struct {
	// Member is the member the update is about.
	Member NodeID
	// Incarnation is the member's incarnation the update refers to.
	Incarnation uint64
	// State is the member's state.
	State State
	// From is the node that raised a suspicion or declared the member
	// dead; zero for alive and left.
	From NodeID
	// Addr and Meta are the member's address and metadata at Incarnation.
	// Alive updates carry them; push-pull tables carry them for every
	// state; suspect, dead and left updates may leave them empty.
	Addr string
	// Meta: see Addr.
	Meta string
}

// String returns a canonical one-line description.
func (u Update) String() string {
	s := fmt.Sprintf("%s(%d@%d", u.State, u.Member, u.Incarnation)
	if u.From != 0 {
		s += fmt.Sprintf(" by %d", u.From)
	}
	return s + ")"
}

// Outbound is a message to send, with the receiver's address as this node
// knows it (empty if it knows none: the driver resolves To itself).
type Outbound struct {
	// Addr is the receiver's advertised address.
	Addr string
	// Msg is the message; Msg.To is the receiver.
	Msg Message
}
