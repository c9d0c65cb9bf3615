package history

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Outcome is what a client learned of an operation.
type Outcome uint8

// The outcomes. The zero Outcome is not an outcome.
const (
	// OK: the operation took effect and its result is known.
	OK Outcome = iota + 1
	// Failed: the operation certainly had no effect.
	Failed
	// Unknown: the client gave up; a write may or may not take effect.
	Unknown
)

// String returns "ok", "fail" or "unknown".
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "fail"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// MarshalText encodes the outcome as its String.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Op is one recorded operation.
type Op struct {
	// Workload names the workload that issued it ("register", "bank").
	Workload string `json:"workload"`
	// Client is the issuing worker, unique within the run.
	Client int `json:"client"`
	// Node is the index of the member the worker was bound to, or -1 for
	// a client that may use any member.
	Node int `json:"node"`
	// Kind is the operation ("get", "put", "cas", "transfer", "incr").
	Kind string `json:"kind"`
	// Call and Return are the invocation and completion times since the
	// run's start; for an Unknown outcome Return is when the client gave
	// up.
	Call   time.Duration `json:"call"`
	Return time.Duration `json:"return"`
	// Outcome is what the client learned.
	Outcome Outcome `json:"outcome"`
	// Desc shows the operation and its result to a person.
	Desc string `json:"desc"`
}

// Latency is Return - Call.
func (o Op) Latency() time.Duration { return o.Return - o.Call }

// DefaultMaxOps bounds a Recorder: two million operations (about 300 MB
// at worst), more than a 30-minute run at the default rates issues.
const DefaultMaxOps = 2_000_000

// Recorder collects Ops from concurrent workers. It is safe for
// concurrent use.
type Recorder struct {
	start  time.Time
	maxOps int
	// observe, if set, sees every op as it is added (metrics).
	observe func(Op)

	mu struct {
		sync.Mutex
		ops     []Op
		dropped int
		counts  map[string]map[Outcome]int
	}
}

// NewRecorder returns a Recorder whose clock starts at start and which
// keeps at most maxOps operations (DefaultMaxOps if maxOps <= 0).
func NewRecorder(start time.Time, maxOps int) *Recorder {
	if maxOps <= 0 {
		maxOps = DefaultMaxOps
	}
	r := &Recorder{start: start, maxOps: maxOps}
	r.mu.counts = map[string]map[Outcome]int{}
	return r
}

// Observe makes f see every op added from now on; call it before the
// workers start. f must be fast and safe for concurrent use.
func (r *Recorder) Observe(f func(Op)) { r.observe = f }

// Start returns the wall-clock instant the Recorder's times count from.
func (r *Recorder) Start() time.Time { return r.start }

// Now returns the time since the Recorder's start.
func (r *Recorder) Now() time.Duration { return time.Since(r.start) }

// Add records op. Past MaxOps the op is counted but not kept.
func (r *Recorder) Add(op Op) {
	if r.observe != nil {
		r.observe(op)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.mu.counts[op.Workload]
	if c == nil {
		c = map[Outcome]int{}
		r.mu.counts[op.Workload] = c
	}
	c[op.Outcome]++
	if len(r.mu.ops) >= r.maxOps {
		r.mu.dropped++
		return
	}
	r.mu.ops = append(r.mu.ops, op)
}

// Ops returns a copy of the kept operations in the order they were added
// (completion order, roughly).
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.mu.ops...)
}

// Dropped returns how many operations were counted but not kept.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.dropped
}

// Counts returns, per workload, how many operations ended with each
// outcome (kept or not).
func (r *Recorder) Counts() map[string]map[Outcome]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[Outcome]int, len(r.mu.counts))
	for w, c := range r.mu.counts {
		cc := make(map[Outcome]int, len(c))
		for k, v := range c {
			cc[k] = v
		}
		out[w] = cc
	}
	return out
}

// WriteJSONL writes the kept operations, one JSON object per line.
func (r *Recorder) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, op := range r.Ops() {
		if err := enc.Encode(op); err != nil {
			return err
		}
	}
	return nil
}
