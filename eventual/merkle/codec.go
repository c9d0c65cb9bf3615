package merkle

import (
	"encoding/binary"
	"fmt"
)

// The wire format, big-endian, fixed-width (so that every message has one
// encoding, which FuzzDecode checks by re-encoding):
//
//	request: kind=1 version=1 session:8 id:4 start:8 end:8 depth:1 n:4
//	         n × (node:4 hash:16)
//	reply:   kind=2 version=1 session:8 id:4 status:1, then
//	         ok:       n:4, n × (kind:1, and left:16 right:16 for children)
//	         mismatch: start:8 end:8 depth:1
//	         no-tree, refused: nothing
//
// A change to the format bumps wireVersion; a decoder refuses versions it
// does not know, and the session ends with ErrMalformed at the driver, not
// with a wrong comparison.
const (
	wireVersion      = 1
	requestHeaderLen = 1 + 1 + 8 + 4 + 8 + 8 + 1 + 4
	requestNodeLen   = 4 + 16
	replyHeaderLen   = 1 + 1 + 8 + 4 + 1
	replyCountLen    = 4
	replyNodeMaxLen  = 1 + 2*16
	replyMismatchLen = 8 + 8 + 1
)

// RequestBytes returns the encoded size of a request naming n nodes: the
// bound a driver sets on an incoming request is RequestBytes(MaxNodesPerRequest).
func RequestBytes(n int) int { return requestHeaderLen + n*requestNodeLen }

// ReplyBytes returns the largest encoded size of a reply to n nodes (every
// node answered with its children).
func ReplyBytes(n int) int { return replyHeaderLen + replyCountLen + n*replyNodeMaxLen }

// EncodedLen returns the size of q's encoding.
func (q *Request) EncodedLen() int { return RequestBytes(len(q.Nodes)) }

// Append appends q's encoding to b.
func (q *Request) Append(b []byte) []byte {
	b = append(b, byte(KindRequest), wireVersion)
	b = binary.BigEndian.AppendUint64(b, q.Session)
	b = binary.BigEndian.AppendUint32(b, q.ID)
	b = binary.BigEndian.AppendUint64(b, q.Range.Start)
	b = binary.BigEndian.AppendUint64(b, q.Range.End)
	b = append(b, byte(q.Depth))
	b = binary.BigEndian.AppendUint32(b, uint32(len(q.Nodes)))
	for _, n := range q.Nodes {
		b = binary.BigEndian.AppendUint32(b, n.Node)
		b = append(b, n.Hash[:]...)
	}
	return b
}

// Encode returns q's encoding.
func (q *Request) Encode() []byte { return q.Append(make([]byte, 0, q.EncodedLen())) }

// EncodedLen returns the size of r's encoding.
func (r *Reply) EncodedLen() int {
	switch r.Status {
	case StatusOK:
		n := replyHeaderLen + replyCountLen
		for _, nr := range r.Nodes {
			n++
			if nr.Kind == NodeChildren {
				n += 2 * 16
			}
		}
		return n
	case StatusMismatch:
		return replyHeaderLen + replyMismatchLen
	}
	return replyHeaderLen
}

// Append appends r's encoding to b.
func (r *Reply) Append(b []byte) []byte {
	b = append(b, byte(KindReply), wireVersion)
	b = binary.BigEndian.AppendUint64(b, r.Session)
	b = binary.BigEndian.AppendUint32(b, r.ID)
	b = append(b, byte(r.Status))
	switch r.Status {
	case StatusOK:
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.Nodes)))
		for _, nr := range r.Nodes {
			b = append(b, byte(nr.Kind))
			if nr.Kind == NodeChildren {
				b = append(b, nr.Left[:]...)
				b = append(b, nr.Right[:]...)
			}
		}
	case StatusMismatch:
		b = binary.BigEndian.AppendUint64(b, r.Range.Start)
		b = binary.BigEndian.AppendUint64(b, r.Range.End)
		b = append(b, byte(r.Depth))
	}
	return b
}

// Encode returns r's encoding.
func (r *Reply) Encode() []byte { return r.Append(make([]byte, 0, r.EncodedLen())) }

// MessageKind returns the kind of an encoded message, for a driver that
// carries both on one stream.
func MessageKind(b []byte) (Kind, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if b[1] != wireVersion {
		return 0, fmt.Errorf("%w: version %d, want %d", ErrMalformed, b[1], wireVersion)
	}
	switch k := Kind(b[0]); k {
	case KindRequest, KindReply:
		return k, nil
	}
	return 0, fmt.Errorf("%w: kind %d", ErrMalformed, b[0])
}

// DecodeRequest decodes a request. It checks every bound before allocating:
// at most MaxMessageNodes nodes, each a valid node of a tree of the
// message's depth, a depth of at most MaxDepth, and no trailing bytes.
func DecodeRequest(b []byte) (Request, error) {
	if k, err := MessageKind(b); err != nil {
		return Request{}, err
	} else if k != KindRequest {
		return Request{}, fmt.Errorf("%w: a %v, want a request", ErrMalformed, k)
	}
	if len(b) < requestHeaderLen {
		return Request{}, fmt.Errorf("%w: request of %d bytes, header is %d", ErrMalformed, len(b), requestHeaderLen)
	}
	q := Request{
		Session: binary.BigEndian.Uint64(b[2:]),
		ID:      binary.BigEndian.Uint32(b[10:]),
		Range:   Range{Start: binary.BigEndian.Uint64(b[14:]), End: binary.BigEndian.Uint64(b[22:])},
		Depth:   int(b[30]),
	}
	n := binary.BigEndian.Uint32(b[31:])
	switch {
	case q.Depth > MaxDepth:
		return Request{}, fmt.Errorf("%w: depth %d > %d", ErrMalformed, q.Depth, MaxDepth)
	case n < 1 || n > MaxMessageNodes:
		return Request{}, fmt.Errorf("%w: %d nodes, want 1..%d", ErrMalformed, n, MaxMessageNodes)
	case len(b) != RequestBytes(int(n)):
		return Request{}, fmt.Errorf("%w: request of %d bytes, %d nodes need %d", ErrMalformed, len(b), n, RequestBytes(int(n)))
	}
	limit := uint32(2) << q.Depth // node numbers are below 2^(depth+1)
	q.Nodes = make([]NodeHash, n)
	p := b[requestHeaderLen:]
	for i := range q.Nodes {
		nh := &q.Nodes[i]
		nh.Node = binary.BigEndian.Uint32(p)
		if nh.Node < 1 || nh.Node >= limit {
			return Request{}, fmt.Errorf("%w: node %d of a depth-%d tree", ErrMalformed, nh.Node, q.Depth)
		}
		copy(nh.Hash[:], p[4:requestNodeLen])
		p = p[requestNodeLen:]
	}
	return q, nil
}

// DecodeReply decodes a reply. It checks every bound before allocating: at
// most MaxMessageNodes nodes, known statuses and kinds, a depth of at most
// MaxDepth, and no trailing bytes. Whether the reply fits its request is
// the Session's check.
func DecodeReply(b []byte) (Reply, error) {
	if k, err := MessageKind(b); err != nil {
		return Reply{}, err
	} else if k != KindReply {
		return Reply{}, fmt.Errorf("%w: a %v, want a reply", ErrMalformed, k)
	}
	if len(b) < replyHeaderLen {
		return Reply{}, fmt.Errorf("%w: reply of %d bytes, header is %d", ErrMalformed, len(b), replyHeaderLen)
	}
	r := Reply{
		Session: binary.BigEndian.Uint64(b[2:]),
		ID:      binary.BigEndian.Uint32(b[10:]),
		Status:  Status(b[14]),
	}
	p := b[replyHeaderLen:]
	switch r.Status {
	case StatusOK:
		if len(p) < replyCountLen {
			return Reply{}, fmt.Errorf("%w: reply without a node count", ErrMalformed)
		}
		n := binary.BigEndian.Uint32(p)
		p = p[replyCountLen:]
		// Each node takes at least one byte: check the count against what
		// is left before allocating for it.
		if n > MaxMessageNodes || uint64(n) > uint64(len(p)) {
			return Reply{}, fmt.Errorf("%w: %d nodes in %d bytes (at most %d)", ErrMalformed, n, len(p), MaxMessageNodes)
		}
		r.Nodes = make([]NodeReply, n)
		for i := range r.Nodes {
			if len(p) < 1 {
				return Reply{}, fmt.Errorf("%w: reply cut at node %d", ErrMalformed, i)
			}
			nr := &r.Nodes[i]
			nr.Kind = NodeKind(p[0])
			p = p[1:]
			switch nr.Kind {
			case NodeSame, NodeDiffers:
			case NodeChildren:
				if len(p) < 2*16 {
					return Reply{}, fmt.Errorf("%w: reply cut in node %d's children", ErrMalformed, i)
				}
				copy(nr.Left[:], p[:16])
				copy(nr.Right[:], p[16:32])
				p = p[32:]
			default:
				return Reply{}, fmt.Errorf("%w: node kind %d", ErrMalformed, uint8(nr.Kind))
			}
		}
	case StatusMismatch:
		if len(p) < replyMismatchLen {
			return Reply{}, fmt.Errorf("%w: mismatch reply of %d bytes", ErrMalformed, len(b))
		}
		r.Range = Range{Start: binary.BigEndian.Uint64(p), End: binary.BigEndian.Uint64(p[8:])}
		r.Depth = int(p[16])
		if r.Depth > MaxDepth {
			return Reply{}, fmt.Errorf("%w: depth %d > %d", ErrMalformed, r.Depth, MaxDepth)
		}
		p = p[replyMismatchLen:]
	case StatusNoTree, StatusRefused:
	default:
		return Reply{}, fmt.Errorf("%w: status %d", ErrMalformed, uint8(r.Status))
	}
	if len(p) != 0 {
		return Reply{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(p))
	}
	return r, nil
}
