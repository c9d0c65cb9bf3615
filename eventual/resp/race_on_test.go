//go:build race

package resp

// raceEnabled: the race detector randomly drops sync.Pool items and adds
// allocations, so allocation counts are not checked under it.
const raceEnabled = true
