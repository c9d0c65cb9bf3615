package merkle

import "fmt"

// Request is an initiator's message: for each node it names, the
// initiator's hash of that node. The responder compares each with its own
// and answers, per node, same, differs, or its two children's hashes
// (Respond). The first request names the root; later ones name the nodes
// the initiator found differing and wants to descend into.
type Request struct {
	// Session is the caller's session id, echoed in the reply so that a
	// driver running several exchanges with one peer can route replies.
	Session uint64
	// ID numbers the request within its session, echoed in the reply. A
	// resent request keeps its ID.
	ID uint32
	// Range and Depth are the initiator tree's shape; the responder
	// answers StatusMismatch unless its tree has the same.
	Range Range
	Depth int
	// Nodes are the nodes to compare, 1..MaxMessageNodes of them.
	Nodes []NodeHash
}

// NodeHash is one node of a Request: its heap number (root 1, children of n
// are 2n and 2n+1, leaves 2^Depth..2^(Depth+1)-1) and the initiator's hash
// of it.
type NodeHash struct {
	Node uint32
	Hash Hash
}

// Reply is a responder's answer to one Request.
type Reply struct {
	// Session and ID echo the request's.
	Session uint64
	ID      uint32
	// Status says whether the responder compared the nodes.
	Status Status
	// Range and Depth are the responder tree's shape, with StatusMismatch
	// only.
	Range Range
	Depth int
	// Nodes answers the request's nodes one for one, in order, with
	// StatusOK only.
	Nodes []NodeReply
}

// NodeReply is the responder's verdict on one node of a Request.
type NodeReply struct {
	Kind NodeKind
	// Left and Right are the responder's hashes of the node's children,
	// with NodeChildren only.
	Left, Right Hash
}

// Status is a Reply's outcome.
type Status uint8

const (
	// StatusOK: the nodes were compared; Reply.Nodes answers them.
	StatusOK Status = iota + 1
	// StatusMismatch: the responder's tree has another range or depth,
	// given in the Reply. The session ends with a *MismatchError.
	StatusMismatch
	// StatusNoTree: the responder has no tree for the range. The session
	// ends with ErrNoTree.
	StatusNoTree
	// StatusRefused: the request broke the responder's bounds. The session
	// ends with ErrRefused.
	StatusRefused
)

// String names s.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusMismatch:
		return "mismatch"
	case StatusNoTree:
		return "no-tree"
	case StatusRefused:
		return "refused"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// NodeKind is the responder's verdict on one node.
type NodeKind uint8

const (
	// NodeSame: the node's hashes are equal; nothing under it differs.
	NodeSame NodeKind = iota + 1
	// NodeDiffers: the node's whole range differs: it is a leaf, or one
	// side holds nothing under it. The initiator reports its range.
	NodeDiffers
	// NodeChildren: the node differs; the reply carries the responder's
	// hashes of its two children for the initiator to compare.
	NodeChildren
)

// String names k.
func (k NodeKind) String() string {
	switch k {
	case NodeSame:
		return "same"
	case NodeDiffers:
		return "differs"
	case NodeChildren:
		return "children"
	}
	return fmt.Sprintf("NodeKind(%d)", uint8(k))
}

// Kind tells a Request from a Reply on the wire (MessageKind).
type Kind uint8

const (
	// KindRequest is an encoded Request.
	KindRequest Kind = iota + 1
	// KindReply is an encoded Reply.
	KindReply
)

// String names k.
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindReply:
		return "reply"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}
