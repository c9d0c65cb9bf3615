package merkle

// Respond answers a request from the tree t, which should be this replica's
// tree for q.Range. It keeps no state between requests: a lost or repeated
// request costs only its own work, and a responder serves any number of
// sessions. It answers
//   - StatusMismatch, with t's shape, if t's range or depth differ from
//     the request's;
//   - StatusRefused if the request names more than cfg.MaxNodesPerRequest
//     nodes (or none), or a node that t does not have;
//   - otherwise StatusOK, with a verdict per node: NodeSame if t's hash
//     equals the initiator's, NodeDiffers if the node is a leaf or either
//     side's subtree is empty, else NodeChildren with t's children hashes.
//
// The reply is at most ReplyBytes(len(q.Nodes)) long. cfg must be valid.
// Respond rehashes t's dirty nodes first, so it writes to t: hold the
// tree's lock as for a write.
func Respond(t *Tree, q *Request, cfg ExchangeConfig) Reply {
	r := Reply{Session: q.Session, ID: q.ID}
	if checkShape(t.Range(), t.Depth(), q.Range, q.Depth) != nil {
		r.Status = StatusMismatch
		r.Range, r.Depth = t.Range(), t.Depth()
		return r
	}
	if len(q.Nodes) < 1 || len(q.Nodes) > cfg.MaxNodesPerRequest {
		r.Status = StatusRefused
		return r
	}
	limit := uint32(2 * t.Leaves())
	for _, nh := range q.Nodes {
		if nh.Node < 1 || nh.Node >= limit {
			r.Status = StatusRefused
			return r
		}
	}
	t.flush()
	r.Status = StatusOK
	r.Nodes = make([]NodeReply, len(q.Nodes))
	for i, nh := range q.Nodes {
		n := int(nh.Node)
		switch classify(&t.lay, n, t.node(n), nh.Hash) {
		case same:
			r.Nodes[i].Kind = NodeSame
		case report:
			r.Nodes[i].Kind = NodeDiffers
		case descend:
			r.Nodes[i] = NodeReply{Kind: NodeChildren, Left: t.node(2 * n), Right: t.node(2*n + 1)}
		}
	}
	return r
}

// RespondNoTree answers a request for a range this replica keeps no tree
// of (its ring differs from the initiator's, or the tree is being built).
func RespondNoTree(q *Request) Reply {
	return Reply{Session: q.Session, ID: q.ID, Status: StatusNoTree}
}
