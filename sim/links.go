package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Links is the network's link matrix: for each ordered pair of nodes,
// whether a message from the first reaches the second. A message on a cut
// link is dropped, both when it is sent and, if the link was cut while the
// message was in flight, when it arrives. A node can always reach itself.
//
// The constructors build the partition shapes of Jepsen's nemeses; each
// takes the cluster size n and node IDs in 1..n.
type Links struct {
	n   int
	cut []bool // cut[(from-1)*n+(to-1)]
}

// FullLinks returns a fully connected matrix for n nodes.
func FullLinks(n int) *Links {
	if n < 1 || n > MaxNodes {
		panic(fmt.Sprintf("sim: FullLinks(%d): want 1..%d nodes", n, MaxNodes))
	}
	return &Links{n: n, cut: make([]bool, n*n)}
}

// N returns the number of nodes.
func (l *Links) N() int { return l.n }

func (l *Links) idx(from, to NodeID) int {
	if from < 1 || int(from) > l.n || to < 1 || int(to) > l.n {
		panic(fmt.Sprintf("sim: link %d->%d outside nodes 1..%d", from, to, l.n))
	}
	return (int(from)-1)*l.n + int(to) - 1
}

// Allowed reports whether a message from from reaches to.
func (l *Links) Allowed(from, to NodeID) bool { return from == to || !l.cut[l.idx(from, to)] }

// Cut blocks messages from from to to (one way). Cutting a node's link to
// itself is ignored.
func (l *Links) Cut(from, to NodeID) {
	if from != to {
		l.cut[l.idx(from, to)] = true
	}
}

// CutBoth blocks messages between a and b in both directions.
func (l *Links) CutBoth(a, b NodeID) {
	l.Cut(a, b)
	l.Cut(b, a)
}

// Healed reports whether no link is cut.
func (l *Links) Healed() bool { return !slices.Contains(l.cut, true) }

// Clone returns an independent copy.
func (l *Links) Clone() *Links { return &Links{n: l.n, cut: slices.Clone(l.cut)} }

// String lists the cut links in a canonical order, e.g. "cut[1->2 2->1]",
// or "healed".
func (l *Links) String() string {
	var b strings.Builder
	for from := NodeID(1); int(from) <= l.n; from++ {
		for to := NodeID(1); int(to) <= l.n; to++ {
			if !l.Allowed(from, to) {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%d->%d", from, to)
			}
		}
	}
	if b.Len() == 0 {
		return "healed"
	}
	return "cut[" + b.String() + "]"
}

// Groups returns links where nodes talk only within their own group. A node
// in no group is isolated; a node in two groups bridges them.
func Groups(n int, groups ...[]NodeID) *Links {
	l := FullLinks(n)
	for a := NodeID(1); int(a) <= n; a++ {
		for b := NodeID(1); int(b) <= n; b++ {
			shared := false
			for _, g := range groups {
				if slices.Contains(g, a) && slices.Contains(g, b) {
					shared = true
					break
				}
			}
			if !shared {
				l.Cut(a, b)
			}
		}
	}
	return l
}

// MajorityMinority splits the n nodes at random into a majority of n/2+1
// and a minority of the rest, which cannot talk to each other. It returns
// the links and the two sides.
func MajorityMinority(n int, rng *rand.Rand) (links *Links, majority, minority []NodeID) {
	ids := shuffledIDs(n, rng)
	majority, minority = sorted(ids[:n/2+1]), sorted(ids[n/2+1:])
	return Groups(n, majority, minority), majority, minority
}

// Isolate cuts node id off from every other node, both ways. Name the
// current leader to isolate the leader.
func Isolate(n int, id NodeID) *Links {
	l := FullLinks(n)
	for other := NodeID(1); int(other) <= n; other++ {
		l.CutBoth(id, other)
	}
	return l
}

// Bridge splits the nodes other than bridge at random into two halves that
// cannot talk to each other, while bridge talks to both: the shape that
// lets two leaders each think they have a majority if a protocol counts
// wrongly. It returns the links and the two halves.
func Bridge(n int, bridge NodeID, rng *rand.Rand) (links *Links, left, right []NodeID) {
	var others []NodeID
	for _, id := range shuffledIDs(n, rng) {
		if id != bridge {
			others = append(others, id)
		}
	}
	half := len(others) / 2
	left, right = sorted(others[:half]), sorted(others[half:])
	return Groups(n, append(slices.Clone(left), bridge), append(slices.Clone(right), bridge)), left, right
}

// OneWay returns links where from can send to to but to cannot send back;
// every other link works.
func OneWay(n int, from, to NodeID) *Links {
	l := FullLinks(n)
	l.Cut(to, from)
	return l
}

func shuffledIDs(n int, rng *rand.Rand) []NodeID {
	ids := make([]NodeID, n)
	for i := range ids {
		ids[i] = NodeID(i + 1)
	}
	rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

func sorted(ids []NodeID) []NodeID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
