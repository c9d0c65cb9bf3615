package watch

import "slices"

// syncedGroup indexes the synced watchers for Notify: single-key watchers
// by key and prefix watchers by prefix (one map lookup per distinct
// prefix length in use per event), other ranges in a slice scanned per
// event. A watcher's pos is its index in its slice, for O(1) removal.
type syncedGroup struct {
	byKey    map[string][]*watcher
	byPrefix map[string][]*watcher
	// prefixLens are the distinct lengths of byPrefix's keys, sorted;
	// prefixLenRefs counts the prefixes of each length.
	prefixLens    []int
	prefixLenRefs map[int]int
	ranges        []*watcher
	size          int
}

func newSyncedGroup() syncedGroup {
	return syncedGroup{byKey: map[string][]*watcher{}, byPrefix: map[string][]*watcher{}, prefixLenRefs: map[int]int{}}
}

func (g *syncedGroup) add(w *watcher) {
	g.size++
	k := string(w.filter.rng.key)
	switch w.filter.rng.kind {
	case rangeSingle:
		g.byKey[k] = appendAt(g.byKey[k], w)
	case rangePrefix:
		if len(g.byPrefix[k]) == 0 {
			if g.prefixLenRefs[len(k)]++; g.prefixLenRefs[len(k)] == 1 {
				g.prefixLens = append(g.prefixLens, len(k))
				slices.Sort(g.prefixLens)
			}
		}
		g.byPrefix[k] = appendAt(g.byPrefix[k], w)
	default:
		g.ranges = appendAt(g.ranges, w)
	}
}

func (g *syncedGroup) remove(w *watcher) {
	g.size--
	k := string(w.filter.rng.key)
	switch w.filter.rng.kind {
	case rangeSingle:
		if g.byKey[k] = removeAt(g.byKey[k], w); len(g.byKey[k]) == 0 {
			delete(g.byKey, k)
		}
	case rangePrefix:
		if g.byPrefix[k] = removeAt(g.byPrefix[k], w); len(g.byPrefix[k]) == 0 {
			delete(g.byPrefix, k)
			if g.prefixLenRefs[len(k)]--; g.prefixLenRefs[len(k)] == 0 {
				delete(g.prefixLenRefs, len(k))
				g.prefixLens = slices.DeleteFunc(g.prefixLens, func(n int) bool { return n == len(k) })
			}
		}
	default:
		g.ranges = removeAt(g.ranges, w)
	}
}

// appendCandidates appends the watchers whose range holds key (their
// filters are not checked) to dst.
func (g *syncedGroup) appendCandidates(dst []*watcher, key []byte) []*watcher {
	dst = append(dst, g.byKey[string(key)]...)
	for _, n := range g.prefixLens {
		if n > len(key) {
			break
		}
		dst = append(dst, g.byPrefix[string(key[:n])]...)
	}
	for _, w := range g.ranges {
		if w.filter.rng.contains(key) {
			dst = append(dst, w)
		}
	}
	return dst
}

// all appends every synced watcher to dst.
func (g *syncedGroup) all(dst []*watcher) []*watcher {
	for _, ws := range g.byKey {
		dst = append(dst, ws...)
	}
	for _, ws := range g.byPrefix {
		dst = append(dst, ws...)
	}
	return append(dst, g.ranges...)
}

func appendAt(ws []*watcher, w *watcher) []*watcher {
	w.pos = len(ws)
	return append(ws, w)
}

// removeAt swap-removes w from ws.
func removeAt(ws []*watcher, w *watcher) []*watcher {
	last := len(ws) - 1
	ws[w.pos] = ws[last]
	ws[w.pos].pos = w.pos
	ws[last] = nil
	return ws[:last]
}
