package partition

import (
	"cmp"
	"slices"
)

// Tick advances the table's clock by one tick: it folds the operations
// recorded since the previous tick into every range's moving averages, and
// chooses the ranges that sample split keys: the up to MaxSampledRanges
// hottest whose rate is at least HotOpsPerTick, or, for a range already
// sampling, at least half of it (so that a range near the threshold does
// not drop its samples on every dip). The caller ticks at a fixed interval
// (the node does so every second, so rates are per second); the table never
// reads a clock. It takes O(ranges) time.
func (t *Table) Tick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	ranges := t.snap.Load().ranges
	var hot []*Range
	for _, r := range ranges {
		r.load.tick(t.decay)
		rate, threshold := r.load.opsRate(), t.cfg.HotOpsPerTick
		if r.load.finder.Load() != nil {
			threshold /= 2
		}
		r.load.sample = rate >= threshold
		if r.load.sample {
			hot = append(hot, r)
		}
	}
	if len(hot) > t.cfg.MaxSampledRanges {
		slices.SortFunc(hot, func(a, b *Range) int { return cmp.Compare(b.load.opsRate(), a.load.opsRate()) })
		for _, r := range hot[t.cfg.MaxSampledRanges:] {
			r.load.sample = false
		}
	}
	for _, r := range ranges {
		f := r.load.finder.Load()
		switch {
		case !r.load.sample:
			r.load.finder.Store(nil)
		case f == nil:
			seed := splitmix64(t.cfg.Seed ^ uint64(r.id))
			r.load.finder.Store(newFinder(t.cfg.SampleSize, t.cfg.MaxKeySize, seed))
		default:
			f.decay(t.decay)
		}
	}
}
