package ring

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// Errors returned when building or changing a ring.
var (
	// ErrNoNodes: a ring needs at least one node.
	ErrNoNodes = errors.New("ring: no nodes")
	// ErrDuplicateNode: two nodes have the same ID.
	ErrDuplicateNode = errors.New("ring: duplicate node ID")
	// ErrUnknownNode: WithoutNode was given an ID that is not a member.
	ErrUnknownNode = errors.New("ring: unknown node")
	// ErrTooManyTokens: the nodes' weights ask for more than Config.MaxTokens tokens.
	ErrTooManyTokens = errors.New("ring: too many tokens")
)

// Ring is an immutable consistent-hash ring. Its methods are safe for
// concurrent use without locks; to change the membership, build a new ring
// with WithNode or WithoutNode and publish it (for example through an
// atomic.Pointer[Ring]). The ring is a pure function of its node set and
// Config: every process that is given the same nodes, in any order, builds
// an identical ring.
type Ring struct {
	cfg Config
	// nodes are the members sorted by ID; a node's index in it is its
	// number in owners and in the bitsets of replica selection.
	nodes []Node
	// zoneOf[i] numbers the zone of nodes[i]; zones are numbered in name order.
	zoneOf []uint32
	// zones is the number of distinct zones among the nodes that own a token.
	zones int
	// owning is the number of nodes that own at least one token. It is
	// len(nodes) unless every token of some node collided with a token of
	// a node with a smaller ID (about 2^-64 per token pair).
	owning int
	// tokens is sorted ascending, without duplicates; owners[i] is the
	// index in nodes of the owner of tokens[i]. len(tokens) >= 1.
	tokens []Token
	owners []uint32
	// index narrows the binary search: the tokens whose top bits are p
	// are tokens[index[p]:index[p+1]], where the top bits are t>>shift.
	// It has about one entry per token, so a search looks at one or two
	// tokens instead of log2(len(tokens)) scattered ones (a 1000-node
	// ring's 2 MiB of tokens do not fit in a core's cache).
	index []uint32
	shift uint
}

// New builds the ring of nodes under cfg. Nodes may be given in any order;
// an ID may appear only once.
func New(nodes []Node, cfg Config) (*Ring, error) {
	return build(nodes, cfg, vnodeToken)
}

// tokenFunc returns the token of virtual node i of node id; buf is scratch
// space of capacity vnodeTokenLen. New uses vnodeToken; tests substitute
// functions that collide.
type tokenFunc func(buf []byte, id NodeID, i uint32) Token

type placed struct {
	token Token
	owner uint32
}

func build(in []Node, cfg Config, token tokenFunc) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, ErrNoNodes
	}
	nodes := slices.Clone(in)
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	total := 0
	for i, n := range nodes {
		if err := n.validate(); err != nil {
			return nil, err
		}
		if i > 0 && nodes[i-1].ID == n.ID {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateNode, n.ID)
		}
		// Compare before multiplying so that a huge weight cannot overflow.
		if n.Weight > (cfg.MaxTokens-total)/cfg.VNodes {
			return nil, fmt.Errorf("%w: more than Config.MaxTokens = %d", ErrTooManyTokens, cfg.MaxTokens)
		}
		total += n.Weight * cfg.VNodes
	}

	all := make([]placed, 0, total)
	buf := make([]byte, 0, vnodeTokenLen)
	for i, n := range nodes {
		count := n.Weight * cfg.VNodes
		for v := 0; v < count; v++ {
			all = append(all, placed{token(buf, n.ID, uint32(v)), uint32(i)})
		}
	}
	// Sort by token, then by owner: owners are numbered in ID order, so of
	// the nodes that share a token, the one with the smallest ID comes
	// first and keeps it. The rule depends only on the IDs, so every
	// process resolves a collision the same way, and adding or removing a
	// node still moves keys only to or from that node.
	slices.SortFunc(all, func(a, b placed) int {
		if c := cmp.Compare(a.token, b.token); c != 0 {
			return c
		}
		return cmp.Compare(a.owner, b.owner)
	})
	r := &Ring{cfg: cfg, nodes: nodes, tokens: make([]Token, 0, len(all)), owners: make([]uint32, 0, len(all))}
	for i, p := range all {
		if i > 0 && all[i-1].token == p.token {
			continue
		}
		r.tokens = append(r.tokens, p.token)
		r.owners = append(r.owners, p.owner)
	}
	r.buildIndex()
	r.numberZones()
	return r, nil
}

// buildIndex fills index and shift, with the largest power of two of
// entries that is at most len(tokens).
func (r *Ring) buildIndex() {
	prefixBits := bits.Len(uint(len(r.tokens))) - 1
	r.shift = uint(64 - prefixBits) // 64 for a single token: every t>>64 is 0
	r.index = make([]uint32, 1<<prefixBits+1)
	j := 0
	for p := range r.index {
		for j < len(r.tokens) && uint64(r.tokens[j])>>r.shift < uint64(p) {
			j++
		}
		r.index[p] = uint32(j)
	}
}

// numberZones fills zoneOf, zones and owning.
func (r *Ring) numberZones() {
	names := make([]string, 0, len(r.nodes))
	for _, n := range r.nodes {
		names = append(names, n.Zone)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	r.zoneOf = make([]uint32, len(r.nodes))
	for i, n := range r.nodes {
		z, _ := slices.BinarySearch(names, n.Zone)
		r.zoneOf[i] = uint32(z)
	}
	ownsToken := make([]bool, len(r.nodes))
	zoneUsed := make([]bool, len(names))
	for _, o := range r.owners {
		if !ownsToken[o] {
			ownsToken[o] = true
			r.owning++
			if z := r.zoneOf[o]; !zoneUsed[z] {
				zoneUsed[z] = true
				r.zones++
			}
		}
	}
}

// WithNode returns a new ring with n added, or with n replacing the member
// of the same ID (to change its zone or weight). r is unchanged.
func (r *Ring) WithNode(n Node) (*Ring, error) {
	nodes := slices.Clone(r.nodes)
	if i := r.nodeIndex(n.ID); i >= 0 {
		nodes[i] = n
	} else {
		nodes = append(nodes, n)
	}
	return New(nodes, r.cfg)
}

// WithoutNode returns a new ring without the member id. r is unchanged.
// Removing the last member is an error (ErrNoNodes): a ring is never empty.
func (r *Ring) WithoutNode(id NodeID) (*Ring, error) {
	i := r.nodeIndex(id)
	if i < 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, id)
	}
	return New(slices.Delete(slices.Clone(r.nodes), i, i+1), r.cfg)
}

// nodeIndex returns the position of id in r.nodes, or -1.
func (r *Ring) nodeIndex(id NodeID) int {
	i, ok := slices.BinarySearchFunc(r.nodes, id, func(n Node, id NodeID) int {
		return strings.Compare(string(n.ID), string(id))
	})
	if !ok {
		return -1
	}
	return i
}

// Config returns the configuration the ring was built with.
func (r *Ring) Config() Config { return r.cfg }

// Len returns the number of members.
func (r *Ring) Len() int { return len(r.nodes) }

// Nodes returns a copy of the members, sorted by ID.
func (r *Ring) Nodes() []Node { return slices.Clone(r.nodes) }

// Node returns the member id, if there is one.
func (r *Ring) Node(id NodeID) (Node, bool) {
	if i := r.nodeIndex(id); i >= 0 {
		return r.nodes[i], true
	}
	return Node{}, false
}

// Tokens returns the number of virtual nodes on the ring: the sum of
// Weight*VNodes, less the tokens lost to collisions.
func (r *Ring) Tokens() int { return len(r.tokens) }
