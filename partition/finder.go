package partition

import (
	"bytes"
	"math/rand/v2"
	"sync"
)

// finder looks for the key that splits a hot range's load in two, after
// CockroachDB's load-based splitter (pkg/kv/kvserver/split): it keeps a
// reservoir of keys sampled from the range's operations, so that a
// candidate is drawn with probability proportional to its traffic, and
// counts for every candidate how many later operations fall on each side
// of it. The candidate whose two sides are closest to equal is the split
// key. The counts decay with the range's moving averages, so the choice
// follows recent load.
type finder struct {
	mu      sync.Mutex
	rng     *rand.Rand
	maxKey  int
	seen    float64 // operations observed, decayed like the counts
	samples []sample
}

// sample is a candidate split key and the (decayed) number of operations
// observed since it was drawn whose key was below it (left) or at or above
// it (right): a split at key puts the first on the left range.
type sample struct {
	key         []byte
	left, right float64
}

// minSamplesSeen scales the least number of observations, per candidate,
// before a finder proposes a split: with fewer, a sampling error of a few
// requests would decide the split point.
const minSamplesSeen = 10

// minCandidateShare is the least share of the finder's observations a
// candidate must have seen to be chosen: a candidate drawn a moment ago
// has counted too few operations to judge its balance.
const minCandidateShare = 0.25

func newFinder(size, maxKey int, seed uint64) *finder {
	return &finder{
		rng:     rand.New(rand.NewPCG(seed, splitmix64(seed))),
		maxKey:  maxKey,
		samples: make([]sample, 0, size),
	}
}

// observe counts one operation on key.
func (f *finder) observe(key []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.samples {
		if s := &f.samples[i]; bytes.Compare(key, s.key) < 0 {
			s.left++
		} else {
			s.right++
		}
	}
	f.seen++
	if len(key) > f.maxKey {
		return
	}
	// Reservoir sampling (Vitter's Algorithm R) over the decayed count, so
	// that recent operations are as likely to be held as older ones were.
	if len(f.samples) < cap(f.samples) {
		f.samples = append(f.samples, sample{key: bytes.Clone(key)})
	} else if j := f.rng.Float64() * f.seen; j < float64(len(f.samples)) {
		f.samples[int(j)] = sample{key: bytes.Clone(key)}
	}
}

// decay ages the counts by one tick.
func (f *finder) decay(d float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen *= d
	for i := range f.samples {
		f.samples[i].left *= d
		f.samples[i].right *= d
	}
}

// best returns the candidate strictly inside r that divides the observed
// operations most evenly, with the share of them on its left, if it leaves
// at least minBalance of them on each side.
func (f *finder) best(r *Range, minBalance float64) (key []byte, leftShare float64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen < float64(minSamplesSeen*cap(f.samples)) {
		return nil, 0, false
	}
	bestBalance := -1.0
	for _, s := range f.samples {
		total := s.left + s.right
		if total < minCandidateShare*f.seen || !r.Contains(s.key) || bytes.Equal(s.key, r.start) {
			continue
		}
		if balance := min(s.left, s.right) / total; balance > bestBalance {
			bestBalance, key, leftShare = balance, s.key, s.left/total
		}
	}
	if bestBalance < minBalance {
		return nil, 0, false
	}
	return bytes.Clone(key), leftShare, true
}

// splitmix64 is the finaliser of Steele et al.'s SplitMix64: it turns
// related seeds (a table seed xor consecutive range IDs) into unrelated
// ones.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
