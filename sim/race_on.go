//go:build race

package sim

// RaceEnabled reports whether the binary was built with -race, which slows
// a simulation about tenfold: tests use it to pick a smaller default seed
// count that still fits the CI budget.
const RaceEnabled = true
