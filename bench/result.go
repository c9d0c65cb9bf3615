package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// SchemaVersion names the JSON layout of a Report. A reader refuses any
// other value; a change that renames or re-means a field bumps it.
const SchemaVersion = "cairn-bench/v1"

// LatencySummary is the fixed set of latency figures a result reports, in
// milliseconds. Quantiles carry the histogram's relative error
// (HistogramRelativeError); Min, Mean and Max are exact.
type LatencySummary struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// Point is one second of a run: requests answered and failed in that
// second, their rate, and the mean latency of the answered ones.
type Point struct {
	// T is the end of the interval, in seconds since the run started.
	T        float64 `json:"t_s"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	MeanMS   float64 `json:"mean_ms"`
}

// EventResult is what the watch workload's watchers saw: Expected is the
// successful puts times the watchers; Latency runs from the put being sent
// to the event arriving at a watcher.
type EventResult struct {
	Watchers   int            `json:"watchers"`
	Expected   int64          `json:"expected"`
	Received   int64          `json:"received"`
	Throughput float64        `json:"throughput_eps"`
	Latency    LatencySummary `json:"latency_ms"`
	Histogram  *Histogram     `json:"histogram"`
}

// ServerUsage is the CPU the target's server processes used during a run
// (only when bench started them, as --compare does): user+system seconds
// of all members, and that per answered request in microseconds (per
// received event for watch, the unit of its headline rate).
type ServerUsage struct {
	Processes      int     `json:"processes"`
	CPUSeconds     float64 `json:"cpu_s"`
	CPUPerOpMicros float64 `json:"cpu_us_per_op"`
}

// Result is one run of one Spec against one target.
type Result struct {
	// Target labels the system measured ("cairn", "etcd", "redis", or the
	// endpoints when bench did not start them).
	Target string `json:"target"`
	Spec   Spec   `json:"spec"`
	// Round is the repetition in a comparison (1-based; 0 outside one).
	Round int `json:"round,omitempty"`
	// Sweep is set on the runs of a rate sweep: they share it and differ
	// in Spec.Rate.
	Sweep   string    `json:"sweep,omitempty"`
	Start   time.Time `json:"start"`
	Elapsed Seconds   `json:"elapsed_s"`
	// Requests answered without error, and requests that failed.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// ErrorKinds counts failures by message (at most MaxErrorKinds
	// messages; the rest under "other").
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// Throughput is Requests / Elapsed.
	Throughput float64        `json:"throughput_rps"`
	Latency    LatencySummary `json:"latency_ms"`
	Histogram  *Histogram     `json:"histogram"`
	Series     []Point        `json:"series"`
	Events     *EventResult   `json:"events,omitempty"`
	Server     *ServerUsage   `json:"server,omitempty"`
	// LoadAvg is the 1-minute load average just before the run.
	LoadAvg float64 `json:"loadavg_1m"`
	// Error is why the run did not happen or stopped early ("" = it ran).
	Error string `json:"error,omitempty"`
}

// Label is the target and, for a RESP run with a consistency level, the
// level: "cairn@QUORUM".
func (r *Result) Label() string {
	if r.Spec.Consistency != "" {
		return r.Target + "@" + strings.ToUpper(strings.ReplaceAll(r.Spec.Consistency, " ", "/"))
	}
	return r.Target
}

// Headline is the throughput and latency a table shows: for watch the
// events' (what a watcher waits for), for the rest the requests'.
func (r *Result) Headline() (throughput float64, lat LatencySummary) {
	if r.Events != nil {
		return r.Events.Throughput, r.Events.Latency
	}
	return r.Throughput, r.Latency
}

// Host describes the machine a report was measured on.
type Host struct {
	Hostname  string     `json:"hostname"`
	OS        string     `json:"os"`
	Arch      string     `json:"arch"`
	CPUs      int        `json:"cpus"`
	CPUModel  string     `json:"cpu_model,omitempty"`
	MemoryMB  int64      `json:"memory_mb,omitempty"`
	GoVersion string     `json:"go_version"`
	LoadAvg   [3]float64 `json:"loadavg"`
}

// Report is the JSON file bench writes: the machine, the command, every
// run, the memory measurements, and notes (targets skipped and why).
type Report struct {
	Schema  string         `json:"schema"`
	Tool    string         `json:"tool"`
	Created time.Time      `json:"created"`
	Command []string       `json:"command"`
	Host    Host           `json:"host"`
	Runs    []Result       `json:"runs"`
	Memory  []MemoryResult `json:"memory,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
}

// NewReport starts a report for this machine and command line.
func NewReport(tool string, command []string) *Report {
	return &Report{Schema: SchemaVersion, Tool: tool, Created: time.Now().UTC(), Command: command, Host: ThisHost(), Runs: []Result{}}
}

// ThisHost reads the machine's description (Linux /proc where needed;
// fields it cannot read stay empty).
func ThisHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	h.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			h.MemoryMB = kb / 1024
		}
	}
	h.LoadAvg = loadAvg()
	return h
}

// WriteFile writes the report as indented JSON.
func (r *Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadReport reads a report written by WriteFile, refusing another schema.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeReport(b)
}

// DecodeReport decodes a report, refusing another schema.
func DecodeReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("report schema %q, this reader knows %q", r.Schema, SchemaVersion)
	}
	return &r, nil
}
