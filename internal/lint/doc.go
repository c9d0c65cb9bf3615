// Package lint holds the project's rules as tests, in the manner of Pebble's
// internal/lint: every package has a doc.go, every exported name has a doc
// comment, and the pure protocol cores never read the wall clock, sleep,
// start goroutines or use global randomness (any of which would break
// deterministic replay in the simulator).
package lint
