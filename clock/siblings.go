package clock

import (
	"cmp"
	"errors"
	"math"
	"slices"
)

// Sibling is one stored version of a key in the eventual tier: a value and
// the DVV of the write that produced it. A key holds a set of siblings that
// are pairwise concurrent; a read returns all of them.
//
// The functions on sibling sets below (Sync, Event, Put, Join) never
// modify their arguments and return sets sorted by dot, so two replicas with
// the same versions hold, and encode, the same slice.
type Sibling[V any] struct {
	// Clock is the version's dotted version vector.
	Clock DVV
	// Value is the version's payload.
	Value V
}

// ErrDotOverflow is returned by Event and Put when the coordinator's
// counter for a key is already math.MaxUint64 and no new dot exists.
var ErrDotOverflow = errors.New("clock: dot counter would overflow")

// Sync merges two sibling sets of the same key, such as a replica's own and
// one received from a peer, keeping exactly the versions that no other
// version in either set has seen: the sync operation of the DVV paper. When
// both sets hold a version (the same dot), a's copy is kept.
func Sync[V any](a, b []Sibling[V]) []Sibling[V] {
	all := make([]Sibling[V], 0, len(a)+len(b))
	all = append(all, a...)
	all = append(all, b...)
	return keepLatest(all)
}

// Event returns the clock for a new write to a key that replica r
// coordinates: its dot is r's next counter for the key, past every r event in
// the current siblings and in the client's context ctx, and its context is
// ctx (what the client read, Join of an earlier read; empty for a blind
// write). It returns ErrDotOverflow if no next counter exists.
func Event[V any](current []Sibling[V], ctx VersionVector, r ReplicaID) (DVV, error) {
	n := ctx.Get(r)
	for _, s := range current {
		n = max(n, s.Clock.Context.Get(r))
		if s.Clock.Dot.Replica == r {
			n = max(n, s.Clock.Dot.Counter)
		}
	}
	if n == math.MaxUint64 {
		return DVV{}, ErrDotOverflow
	}
	return DVV{Dot: Dot{Replica: r, Counter: n + 1}, Context: ctx.Clone()}, nil
}

// Put applies a client's write of v, coordinated by replica r, to the
// key's current siblings at r: it drops the siblings that ctx covers (the
// client saw them, so its write supersedes them), keeps the rest as
// concurrent siblings, and adds the new version with the clock from Event.
// The coordinator must then store and replicate the whole returned set.
func Put[V any](current []Sibling[V], ctx VersionVector, r ReplicaID, v V) ([]Sibling[V], error) {
	clk, err := Event(current, ctx, r)
	if err != nil {
		return nil, err
	}
	all := make([]Sibling[V], 0, len(current)+1)
	all = append(all, current...)
	all = append(all, Sibling[V]{Clock: clk, Value: v})
	return keepLatest(all), nil
}

// Join returns the causal context to hand a client along with a read of
// siblings s: the version vector of every history in s. A later write with
// this context supersedes all of s.
func Join[V any](s []Sibling[V]) VersionVector {
	var ctx VersionVector
	for _, x := range s {
		ctx.Merge(x.Clock.Context)
		ctx.Witness(x.Clock.Dot)
	}
	return ctx
}

// keepLatest sorts s by dot, drops repeated dots (keeping the first), and
// returns, in a new slice, the siblings that no other sibling covers. It is
// quadratic in len(s): the store bounds the number of siblings per key.
func keepLatest[V any](s []Sibling[V]) []Sibling[V] {
	slices.SortStableFunc(s, func(x, y Sibling[V]) int { return compareDots(x.Clock.Dot, y.Clock.Dot) })
	s = slices.CompactFunc(s, func(x, y Sibling[V]) bool { return x.Clock.Dot == y.Clock.Dot })
	out := make([]Sibling[V], 0, len(s))
	for i, x := range s {
		if !coveredByOther(s, i, x.Clock.Dot) {
			out = append(out, x)
		}
	}
	return out
}

// coveredByOther reports whether some sibling other than s[i] covers d.
func coveredByOther[V any](s []Sibling[V], i int, d Dot) bool {
	for j, y := range s {
		if j != i && y.Clock.Covers(d) {
			return true
		}
	}
	return false
}

// compareDots orders dots by replica, then counter.
func compareDots(x, y Dot) int {
	if c := cmp.Compare(x.Replica, y.Replica); c != 0 {
		return c
	}
	return cmp.Compare(x.Counter, y.Counter)
}
