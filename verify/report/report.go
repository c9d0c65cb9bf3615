package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
	"github.com/cairndb/cairn/verify/nemesis"
)

// Report is everything a run produced.
type Report struct {
	// Command repeats the run.
	Command string `json:"command"`
	// Target describes the cluster.
	Target string `json:"target"`
	// Seed, Nemeses and Workloads are the run's choices.
	Seed      uint64   `json:"seed"`
	Nemeses   string   `json:"nemeses"`
	Workloads []string `json:"workloads"`
	// Start is when the run began; Duration how long the workloads ran;
	// Elapsed the whole run with setup and checks.
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	Elapsed  time.Duration `json:"elapsed"`
	// Results are the checkers' verdicts.
	Results []check.Result `json:"results"`
	// Events is the fault timeline.
	Events []nemesis.Event `json:"events"`
	// Counts are the operations per workload and outcome.
	Counts map[string]map[history.Outcome]int `json:"counts"`
	// Ops is the recorded history (not in JSON: history.jsonl has it).
	Ops []history.Op `json:"-"`
	// Dropped counts operations past the recorder's bound.
	Dropped int `json:"dropped,omitempty"`
	// OpTimeout is the clients' per-operation timeout (the chart's top).
	OpTimeout time.Duration `json:"op_timeout"`
	// Dir is where the files were written.
	Dir string `json:"dir"`
	// Notes are remarks on the run (a skipped lever, a slow heal).
	Notes []string `json:"notes,omitempty"`
}

// Passed reports whether no checker failed.
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if !res.OK() {
			return false
		}
	}
	return len(r.Results) > 0
}

// Verdict is "PASS" or "FAIL".
func (r *Report) Verdict() string {
	if r.Passed() {
		return "PASS"
	}
	return "FAIL"
}

// Text renders the report for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cairn verify: %s\n", r.Verdict())
	fmt.Fprintf(&b, "target:    %s\n", r.Target)
	fmt.Fprintf(&b, "workloads: %s; nemesis: %s; seed %d; ran %v (%v with setup and checks)\n",
		strings.Join(r.Workloads, ","), r.Nemeses, r.Seed, r.Duration.Round(time.Second), r.Elapsed.Round(time.Second))
	b.WriteString("\noperations:\n")
	for _, w := range slices.Sorted(maps.Keys(r.Counts)) {
		c := r.Counts[w]
		fmt.Fprintf(&b, "  %-10s %6d ok %6d fail %6d unknown\n", w, c[history.OK], c[history.Failed], c[history.Unknown])
	}
	if r.Dropped > 0 {
		fmt.Fprintf(&b, "  (%d operations past the recorder's bound were counted but not kept)\n", r.Dropped)
	}
	b.WriteString("\nfaults:\n")
	if len(r.Events) == 0 {
		b.WriteString("  none\n")
	}
	for _, e := range r.Events {
		fmt.Fprintf(&b, "  %s\n", formatEvent(e))
	}
	b.WriteString("\nverdicts:\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(res.String(), "\n", "\n  "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.Dir != "" {
		fmt.Fprintf(&b, "\nreport: %s\n", filepath.Join(r.Dir, "report.html"))
	}
	if !r.Passed() {
		fmt.Fprintf(&b, "\nrepeat with:\n  %s\n", r.Command)
	}
	return b.String()
}

func formatEvent(e nemesis.Event) string {
	end := "(not healed)"
	if e.End > 0 {
		end = fmt.Sprintf("%8.1fs", e.End.Seconds())
	}
	s := fmt.Sprintf("%8.1fs - %s  %-9s %s", e.Start.Seconds(), end, e.Kind, e.Desc)
	if e.Err != "" {
		s += "  [error: " + e.Err + "]"
	}
	return s
}

// WriteFiles writes report.txt, report.html, report.json and
// history.jsonl into dir.
func (r *Report) WriteFiles(dir string, rec *history.Recorder) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.Dir = dir
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), []byte(r.Text()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), js, 0o644); err != nil {
		return err
	}
	if rec != nil {
		f, err := os.Create(filepath.Join(dir, "history.jsonl"))
		if err != nil {
			return err
		}
		if err := rec.WriteJSONL(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	if err := r.WriteHTML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
