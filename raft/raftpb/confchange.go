package raftpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ConfChangeType is one kind of membership change.
type ConfChangeType uint8

const (
	// ConfChangeAddNode adds a voter (or promotes a learner to voter).
	ConfChangeAddNode ConfChangeType = iota + 1
	// ConfChangeRemoveNode removes a voter or learner.
	ConfChangeRemoveNode
	// ConfChangeAddLearnerNode adds a learner (or demotes a voter).
	ConfChangeAddLearnerNode
)

// String returns the change type's name.
func (t ConfChangeType) String() string {
	switch t {
	case ConfChangeAddNode:
		return "AddNode"
	case ConfChangeRemoveNode:
		return "RemoveNode"
	case ConfChangeAddLearnerNode:
		return "AddLearnerNode"
	}
	return fmt.Sprintf("ConfChangeType(%d)", uint8(t))
}

// ConfChangeSingle changes the role of one node.
type ConfChangeSingle struct {
	Type   ConfChangeType
	NodeID uint64
}

// ConfChangeTransition says how a ConfChange moves between configurations.
type ConfChangeTransition uint8

const (
	// TransitionAuto applies a single voter change directly (one server at
	// a time, where any two majorities of the old and new configuration
	// overlap) and uses joint consensus with automatic leave otherwise.
	TransitionAuto ConfChangeTransition = iota + 1
	// TransitionJointImplicit always enters a joint configuration and lets
	// the leader propose leaving it automatically.
	TransitionJointImplicit
	// TransitionJointExplicit enters a joint configuration that stays until
	// the application proposes an empty ConfChange to leave it.
	TransitionJointExplicit
)

// String returns the transition's name.
func (t ConfChangeTransition) String() string {
	switch t {
	case TransitionAuto:
		return "auto"
	case TransitionJointImplicit:
		return "joint-implicit"
	case TransitionJointExplicit:
		return "joint-explicit"
	}
	return fmt.Sprintf("ConfChangeTransition(%d)", uint8(t))
}

// ConfChange is a membership change proposal. An empty Changes list means
// "leave the current joint configuration".
type ConfChange struct {
	Transition ConfChangeTransition
	Changes    []ConfChangeSingle
	// Context is opaque application data (e.g. the new member's URLs).
	Context []byte
}

// MaxConfChanges bounds the number of changes in one ConfChange.
const MaxConfChanges = 1024

// MaxConfChangeContext bounds the size of ConfChange.Context in bytes.
const MaxConfChangeContext = 1 << 20

// Validate checks the fields of cc.
func (cc ConfChange) Validate() error {
	if cc.Transition < TransitionAuto || cc.Transition > TransitionJointExplicit {
		return fmt.Errorf("raftpb: conf change has invalid transition %d", cc.Transition)
	}
	if len(cc.Changes) > MaxConfChanges {
		return fmt.Errorf("raftpb: conf change has %d changes, more than %d", len(cc.Changes), MaxConfChanges)
	}
	if len(cc.Context) > MaxConfChangeContext {
		return fmt.Errorf("raftpb: conf change context of %d bytes exceeds %d", len(cc.Context), MaxConfChangeContext)
	}
	for _, c := range cc.Changes {
		if c.Type < ConfChangeAddNode || c.Type > ConfChangeAddLearnerNode {
			return fmt.Errorf("raftpb: conf change has invalid type %d", c.Type)
		}
		if c.NodeID == 0 {
			return errors.New("raftpb: conf change names node 0")
		}
	}
	return nil
}

// LeaveJoint reports whether cc asks to leave a joint configuration.
func (cc ConfChange) LeaveJoint() bool { return len(cc.Changes) == 0 }

// EnterJoint reports whether cc must go through a joint configuration, and
// if so whether the leader leaves it automatically.
func (cc ConfChange) EnterJoint() (autoLeave, ok bool) {
	if cc.Transition != TransitionAuto || len(cc.Changes) > 1 {
		return cc.Transition != TransitionJointExplicit, true
	}
	return false, false
}

// String formats cc, e.g. "v2 l3 r4" (add voter 2, learner 3, remove 4).
func (cc ConfChange) String() string {
	if cc.LeaveJoint() {
		return "leave-joint"
	}
	var b strings.Builder
	for i, c := range cc.Changes {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch c.Type {
		case ConfChangeAddNode:
			b.WriteByte('v')
		case ConfChangeRemoveNode:
			b.WriteByte('r')
		case ConfChangeAddLearnerNode:
			b.WriteByte('l')
		default:
			b.WriteByte('?')
		}
		fmt.Fprint(&b, c.NodeID)
	}
	if cc.Transition != TransitionAuto {
		fmt.Fprintf(&b, " (%s)", cc.Transition)
	}
	return b.String()
}

const confChangeVersion = 1

// MarshalConfChange encodes cc for Entry.Data:
// version byte, transition byte, uvarint count, then per change a type byte
// and a uvarint node ID, then uvarint context length and the context.
func MarshalConfChange(cc ConfChange) []byte {
	buf := make([]byte, 0, 2+binary.MaxVarintLen64*(2+len(cc.Changes))+len(cc.Changes)+len(cc.Context))
	buf = append(buf, confChangeVersion, byte(cc.Transition))
	buf = binary.AppendUvarint(buf, uint64(len(cc.Changes)))
	for _, c := range cc.Changes {
		buf = append(buf, byte(c.Type))
		buf = binary.AppendUvarint(buf, c.NodeID)
	}
	buf = binary.AppendUvarint(buf, uint64(len(cc.Context)))
	return append(buf, cc.Context...)
}

// ErrBadConfChange is wrapped by every UnmarshalConfChange error.
var ErrBadConfChange = errors.New("raftpb: malformed conf change")

// UnmarshalConfChange decodes the output of MarshalConfChange and validates
// it. Bad input returns an error wrapping ErrBadConfChange.
func UnmarshalConfChange(b []byte) (ConfChange, error) {
	bad := func(why string) (ConfChange, error) {
		return ConfChange{}, fmt.Errorf("%w: %s", ErrBadConfChange, why)
	}
	if len(b) < 2 {
		return bad("too short")
	}
	if b[0] != confChangeVersion {
		return bad(fmt.Sprintf("unknown version %d", b[0]))
	}
	cc := ConfChange{Transition: ConfChangeTransition(b[1])}
	b = b[2:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return bad("bad change count")
	}
	b = b[k:]
	// Each change takes at least two bytes.
	if n > MaxConfChanges || n > uint64(len(b))/2 {
		return bad(fmt.Sprintf("change count %d too large", n))
	}
	if n > 0 {
		cc.Changes = make([]ConfChangeSingle, 0, n)
	}
	for range n {
		t := ConfChangeType(b[0])
		id, k := binary.Uvarint(b[1:])
		if k <= 0 {
			return bad("bad node id")
		}
		b = b[1+k:]
		cc.Changes = append(cc.Changes, ConfChangeSingle{Type: t, NodeID: id})
		if len(b) == 0 {
			return bad("truncated")
		}
	}
	l, k := binary.Uvarint(b)
	if k <= 0 {
		return bad("bad context length")
	}
	b = b[k:]
	if l != uint64(len(b)) {
		return bad(fmt.Sprintf("context length %d, have %d bytes", l, len(b)))
	}
	if l > 0 {
		cc.Context = append([]byte(nil), b...)
	}
	if err := cc.Validate(); err != nil {
		return bad(err.Error())
	}
	return cc, nil
}
