package partition

import (
	"cmp"
	"slices"
)

// Suggestion proposes splitting a hot range at Key.
type Suggestion struct {
	// Range is the range to split (it may have been retired since: Split
	// validates the key again).
	Range *Range
	// Key is the proposed split key: strictly inside Range.
	Key []byte
	// OpsPerTick is the range's recent rate of operations.
	OpsPerTick float64
	// LeftShare is the share of the range's recent sampled operations
	// whose key is below Key, that would stay in the left half.
	LeftShare float64
}

// SuggestSplits returns up to limit splits of hot ranges, hottest first.
// A range is suggested when its recent rate is at least HotOpsPerTick, it
// has sampled enough operations, and some sampled key leaves at least
// SplitBalance of its recent load on each side; the key is the sampled one
// that divides the load most evenly, so that each half takes about half of
// the traffic rather than half of the keys. A range whose load sits on one
// key is never suggested: no split would relieve it.
func (t *Table) SuggestSplits(limit int) []Suggestion {
	var out []Suggestion
	for _, r := range t.snap.Load().ranges {
		f := r.load.finder.Load()
		if f == nil {
			continue
		}
		rate := r.load.opsRate()
		if rate < t.cfg.HotOpsPerTick {
			continue
		}
		if key, left, ok := f.best(r, t.cfg.SplitBalance); ok {
			out = append(out, Suggestion{Range: r, Key: key, OpsPerTick: rate, LeftShare: left})
		}
	}
	slices.SortStableFunc(out, func(a, b Suggestion) int { return cmp.Compare(b.OpsPerTick, a.OpsPerTick) })
	return out[:min(len(out), max(limit, 0))]
}
