// Package report renders a verification run: a text verdict per checker
// with the fault timeline and the command that repeats the run, and a
// self-contained HTML page with the same verdicts, the timeline, latency
// over time with the faults drawn as bands behind it, and the operation
// history.
//
// Bounds: the HTML page draws at most MaxPoints operations in the chart
// and lists at most MaxTableOps in its table (every operation that did
// not end OK first, then an even sample of the rest); the full history
// is in history.jsonl beside it.
package report
