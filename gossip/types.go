package gossip

import "fmt"

// NodeID names a member. Zero is never a member: it marks "none" in
// messages (an update with no accuser, a message with no target).
type NodeID uint64

// State is what a node believes about a member. The states are ordered:
// at one incarnation, a later state overrides an earlier one (alive <
// suspect < dead < left), and any state at a higher incarnation overrides
// every state at a lower one, except that suspect and dead never revive a
// member that is dead or left (only the member's own alive message can).
type State uint8

const (
	// StateAlive is a member that answers, or has not been found silent.
	StateAlive State = iota + 1
	// StateSuspect is a member that missed a probe: it is given a suspicion
	// timeout to refute the suspicion before it is declared dead.
	StateSuspect
	// StateDead is a member whose suspicion ran out (or that some other
	// node declared dead). It is kept, to reconnect to after a partition and
	// to reject stale gossip, until Config.DeadRetentionTicks pass.
	StateDead
	// StateLeft is a member that left gracefully with Leave.
	StateLeft
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Valid reports whether s is one of the four states.
func (s State) Valid() bool { return s >= StateAlive && s <= StateLeft }

// Live reports whether s counts the member as part of the cluster: alive
// or suspect. Live members are probed and count in N for every log(N).
func (s State) Live() bool { return s == StateAlive || s == StateSuspect }

// Member is a snapshot of one member as this node sees it.
type Member struct {
	// ID names the member.
	ID NodeID
	// Addr is the member's address as it advertised it (opaque to the
	// core; the driver sends to it).
	Addr string
	// Meta is the member's metadata, versioned by Incarnation.
	Meta string
	// Incarnation is the member's incarnation number: only the member
	// itself raises it, to refute a suspicion, to publish new metadata or
	// to rejoin after a restart.
	Incarnation uint64
	// State is this node's belief about the member.
	State State
	// SinceTick is the tick (of this node) at which State or Incarnation
	// last changed.
	SinceTick uint64
	// Phi is the phi-accrual suspicion level of the member's direct
	// messages to this node (0 when Config.Phi is nil, for this node
	// itself, or for a member never heard from directly). It grades what
	// State says in one word: a live member with a rising phi is going
	// quiet.
	Phi float64
}

// EventKind names a membership change.
type EventKind uint8

const (
	// EventJoin: a member became live (alive or suspect) from unknown,
	// dead or left.
	EventJoin EventKind = iota + 1
	// EventSuspect: an alive member became suspect.
	EventSuspect
	// EventAlive: a suspect member was cleared (it refuted the suspicion).
	EventAlive
	// EventDead: a live member was declared dead.
	EventDead
	// EventLeave: a member left gracefully.
	EventLeave
	// EventUpdate: a member's incarnation rose without a change of state:
	// new metadata or address, or a refutation seen by a node that had not
	// seen the suspicion.
	EventUpdate
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventSuspect:
		return "suspect"
	case EventAlive:
		return "alive"
	case EventDead:
		return "dead"
	case EventLeave:
		return "leave"
	case EventUpdate:
		return "update"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one change of this node's view of a member. Every change of a
// member's state or incarnation produces exactly one event, so a
// subscriber that applies them in order holds the same view as the node.
type Event struct {
	// Kind names the change.
	Kind EventKind
	// Member is the member after the change (Phi is not filled in).
	Member Member
	// PrevState and PrevIncarnation are the member's state and
	// incarnation before the change; PrevState is 0 for a member that was
	// unknown.
	PrevState       State
	PrevIncarnation uint64
	// By is, for a suspect or dead event, the node that raised the
	// suspicion or declared the death (this node's own ID when its probe
	// failed or its suspicion timer ran out); 0 otherwise.
	By NodeID
}

// rank orders states at one incarnation; see State.
func rank(s State) int { return int(s) }

// newer reports whether (inc, s) overrides (curInc, cur) by the
// incarnation-then-state order.
func newer(inc uint64, s State, curInc uint64, cur State) bool {
	if inc != curInc {
		return inc > curInc
	}
	return rank(s) > rank(cur)
}
