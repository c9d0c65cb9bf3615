package merkle

import "slices"

// verdict is what a comparison of one node between two trees decides.
type verdict uint8

const (
	// same: equal hashes, nothing under the node differs.
	same verdict = iota + 1
	// report: the node's whole range differs and is reported as one
	// range: it is a leaf, or one side holds nothing under it (then every
	// entry under it on the other side is missing, and descending would
	// only split the range).
	report
	// descend: compare the node's children.
	descend
)

// classify compares node n, whose hash is mine on this side and theirs on
// the other. Diff, Session and Respond all decide with it, so that the
// exchange reports exactly the ranges Diff does.
func classify(lay *layout, n int, mine, theirs Hash) verdict {
	if mine == theirs {
		return same
	}
	h := lay.height(n)
	if h == 0 || mine == emptyHash[h] || theirs == emptyHash[h] {
		return report
	}
	return descend
}

// Diff compares two trees of the same shape in-process and returns, in ring
// order, the ranges where their entries differ: every leaf whose entries
// differ, except that a subtree empty on one side and not on the other is
// one range (every entry in it is missing on one side). Keys whose entries
// differ all lie in the returned ranges (no false negatives); a returned
// leaf holds at least one differing entry (no false positives, but for a
// 128-bit hash collision). Unlike a Session it has no MaxRanges bound: it
// returns at most Leaves() ranges. Trees of different ranges or depths give
// a *MismatchError.
func Diff(a, b *Tree) ([]Range, error) {
	if err := checkShape(a.Range(), a.Depth(), b.Range(), b.Depth()); err != nil {
		return nil, err
	}
	a.flush()
	b.flush()
	var found []int
	var walk func(n int)
	walk = func(n int) {
		switch classify(&a.lay, n, a.node(n), b.node(n)) {
		case report:
			found = append(found, n)
		case descend:
			walk(2 * n)
			walk(2*n + 1)
		}
	}
	walk(1)
	return nodeRanges(&a.lay, found), nil
}

// nodeRanges returns the ranges of the nodes, sorted in ring order. The
// nodes must not overlap.
func nodeRanges(lay *layout, nodes []int) []Range {
	slices.SortFunc(nodes, func(x, y int) int {
		fx, _ := lay.nodeSpan(x)
		fy, _ := lay.nodeSpan(y)
		return fx - fy
	})
	out := make([]Range, len(nodes))
	for i, n := range nodes {
		out[i] = lay.nodeRange(n)
	}
	return out
}
