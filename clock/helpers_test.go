package clock

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Test flags; pass them after -args: go test ./clock -args -clock.long
var (
	seedFlag = flag.Uint64("clock.seed", 0, "seed for the randomized (non-rapid) tests; 0 picks one")
	longFlag = flag.Bool("clock.long", false, "run the randomized tests for longer")
)

// testRand returns a seeded generator and logs the seed if the test fails,
// so that -clock.seed replays the run.
func testRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with -clock.seed=%d", seed)
		}
	})
	return newRandFromSeed(seed)
}

// checkVV fails t unless v keeps VersionVector's invariant: entries sorted by
// strictly increasing replica, no zero counter.
func checkVV(t rapid.TB, v VersionVector) {
	t.Helper()
	for i, d := range v.dots {
		if d.Counter == 0 {
			t.Fatalf("%v: zero counter at %d", v, i)
		}
		if i > 0 && v.dots[i-1].Replica >= d.Replica {
			t.Fatalf("%v: replicas not strictly increasing at %d", v, i)
		}
	}
}

// refVV is the reference model of a version vector: a map with no zeros.
type refVV map[ReplicaID]uint64

func toRef(v VersionVector) refVV {
	m := refVV{}
	for _, d := range v.dots {
		m[d.Replica] = d.Counter
	}
	return m
}

// refCompare compares two reference vectors entry by entry.
func refCompare(a, b refVV) Ordering {
	less, greater := false, false
	for r, c := range a {
		if c > b[r] {
			greater = true
		}
	}
	for r, c := range b {
		if c > a[r] {
			less = true
		}
	}
	switch {
	case less && greater:
		return Concurrent
	case less:
		return Before
	case greater:
		return After
	}
	return Equal
}

// vv builds a vector from replica, counter pairs.
func vv(pairs ...uint64) VersionVector {
	var v VersionVector
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(ReplicaID(pairs[i]), pairs[i+1])
	}
	return v
}

// genVV draws vectors over replicas 0..maxReplica with counters up to
// maxCounter: small ranges make equal, ordered and concurrent pairs common.
func genVV(maxReplica, maxCounter uint64) *rapid.Generator[VersionVector] {
	return rapid.Custom(func(t *rapid.T) VersionVector {
		var v VersionVector
		n := rapid.IntRange(0, int(maxReplica)+2).Draw(t, "sets")
		for range n {
			r := rapid.Uint64Range(0, maxReplica).Draw(t, "replica")
			c := rapid.Uint64Range(0, maxCounter).Draw(t, "counter")
			v.Set(ReplicaID(r), c) // 0 removes: exercises both paths of Set
		}
		return v
	})
}

// genWideVV draws vectors whose replicas and counters span the full uint64
// range, including the extremes, for encoding tests.
func genWideVV() *rapid.Generator[VersionVector] {
	wide := rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(0, 300),
		rapid.Uint64Range(math.MaxUint64-3, math.MaxUint64))
	return rapid.Custom(func(t *rapid.T) VersionVector {
		var v VersionVector
		n := rapid.IntRange(0, 12).Draw(t, "sets")
		for range n {
			v.Set(ReplicaID(wide.Draw(t, "replica")), wide.Draw(t, "counter"))
		}
		return v
	})
}

// genTimestamp draws timestamps across the whole range, extremes included.
func genTimestamp() *rapid.Generator[Timestamp] {
	wall := rapid.OneOf(rapid.Int64(), rapid.Int64Range(-3, 3),
		rapid.Int64Range(math.MinInt64, math.MinInt64+2), rapid.Int64Range(math.MaxInt64-2, math.MaxInt64))
	logical := rapid.OneOf(rapid.Uint32(), rapid.Uint32Range(0, 3), rapid.Uint32Range(math.MaxUint32-2, math.MaxUint32))
	return rapid.Custom(func(t *rapid.T) Timestamp {
		return Timestamp{WallTime: wall.Draw(t, "wall"), Logical: logical.Draw(t, "logical")}
	})
}

// newRandFromSeed returns a generator for one goroutine of a seeded test.
func newRandFromSeed(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
