package check

import (
	"fmt"
	"strings"
)

// Verdict is a checker's conclusion.
type Verdict uint8

// The verdicts. The zero Verdict is unset.
const (
	// Pass: the history satisfies the property.
	Pass Verdict = iota + 1
	// Fail: the history shows a violation, or the check could not
	// finish (a timeout is never a pass).
	Fail
	// Skip: the workload could not run (its port did not answer); the
	// Summary says why.
	Skip
)

// String returns "PASS", "FAIL" or "SKIP".
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Skip:
		return "SKIP"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// MarshalText encodes the verdict as its String.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MaxDetails bounds the detail lines of one Result; the rest are counted.
const MaxDetails = 25

// Result is what one checker concluded.
type Result struct {
	// Checker names the property ("register linearizability").
	Checker string `json:"checker"`
	// Verdict is PASS, FAIL or SKIP.
	Verdict Verdict `json:"verdict"`
	// Summary is one line: what was checked and the numbers.
	Summary string `json:"summary"`
	// Details are the violations (or notes), at most MaxDetails.
	Details []string `json:"details,omitempty"`
	// Artifacts are files written for a person (Porcupine's
	// visualization of a non-linearizable key).
	Artifacts []string `json:"artifacts,omitempty"`
}

// OK reports whether the result is not a failure.
func (r Result) OK() bool { return r.Verdict != Fail }

// String renders the result as the report's text lines.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %s: %s", r.Verdict, r.Checker, r.Summary)
	for _, d := range r.Details {
		b.WriteString("\n       ")
		b.WriteString(strings.ReplaceAll(d, "\n", "\n       "))
	}
	for _, a := range r.Artifacts {
		fmt.Fprintf(&b, "\n       see %s", a)
	}
	return b.String()
}

// Skipped returns a SKIP result for a checker whose workload did not run.
func Skipped(checker, why string) Result {
	return Result{Checker: checker, Verdict: Skip, Summary: why}
}

// violations collects detail lines up to MaxDetails and counts the rest.
type violations struct {
	lines []string
	more  int
}

func (v *violations) add(format string, args ...any) {
	if len(v.lines) >= MaxDetails {
		v.more++
		return
	}
	v.lines = append(v.lines, fmt.Sprintf(format, args...))
}

func (v *violations) count() int { return len(v.lines) + v.more }

// details returns the lines, with a last one counting those left out.
func (v *violations) details() []string {
	if v.more == 0 {
		return v.lines
	}
	return append(append([]string(nil), v.lines...), fmt.Sprintf("... and %d more", v.more))
}

// result builds a PASS (no violation) or FAIL result.
func (v *violations) result(checker, summary string) Result {
	r := Result{Checker: checker, Verdict: Pass, Summary: summary, Details: v.details()}
	if v.count() > 0 {
		r.Verdict = Fail
		r.Summary = fmt.Sprintf("%d violation(s); %s", v.count(), summary)
	}
	return r
}
