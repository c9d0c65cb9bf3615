package bench

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run1(target, name, level string, round int, rps, p50, p99, cpu float64) Result {
	r := Result{Target: target, Spec: Spec{Name: name, Consistency: level}, Round: round, Throughput: rps,
		Latency: LatencySummary{P50: p50, P99: p99}, Requests: 1, Histogram: &Histogram{}}
	if cpu > 0 {
		r.Server = &ServerUsage{CPUPerOpMicros: cpu}
	}
	return r
}

func TestSummarizeTakesMediansAndRatios(t *testing.T) {
	runs := []Result{
		run1("cairn", "put", "", 1, 900, 2, 20, 200),
		run1("etcd", "put", "", 1, 1000, 1, 10, 100),
		run1("cairn", "put", "", 2, 3000, 9, 90, 300), // an outlier round
		run1("etcd", "put", "", 2, 1200, 1.2, 12, 120),
		run1("cairn", "put", "", 3, 1100, 3, 30, 250),
		run1("etcd", "put", "", 3, 800, 0.8, 8, 80),
		run1("redis", "set", "", 1, 100000, 0.1, 1, 0),
		run1("cairn", "set", "ONE", 1, 50000, 0.2, 2, 0),
		run1("cairn", "set", "QUORUM", 1, 25000, 0.4, 4, 0),
		{Target: "cairn", Spec: Spec{Name: "set", Consistency: "ALL"}, Round: 1, Error: "NOQUORUM", Errors: 7},
		run1("cairn", "put", "", 1, 1, 1, 1, 1),
	}
	runs[len(runs)-1].Sweep = "put" // sweep runs stay out of the table
	rows := Summarize(runs)
	var got []string
	for _, r := range rows {
		got = append(got, r.Workload+"/"+r.Label)
	}
	if want := "put/etcd put/cairn set/redis set/cairn@ONE set/cairn@QUORUM set/cairn@ALL"; strings.Join(got, " ") != want {
		t.Fatalf("rows %v, want %s (anchor first, workloads in order)", got, want)
	}
	c := rows[1]
	if c.Runs != 3 || c.RPS != 1100 || c.P50 != 3 || c.P99 != 30 || c.CPUPerOp != 250 || c.Anchor != rows[0] {
		t.Fatalf("cairn put row %+v: want medians 1100 req/s, p50 3, p99 30, cpu 250 against etcd", c)
	}
	if rows[0].RPS != 1000 || rows[0].Anchor != nil {
		t.Fatalf("etcd row %+v", rows[0])
	}
	if rows[3].Anchor != rows[2] || !math.IsNaN(rows[3].CPUPerOp) {
		t.Fatalf("cairn@ONE row %+v", rows[3])
	}
	if all := rows[5]; all.Runs != 0 || all.Failed != 1 || all.Errors != 7 || all.LastError != "NOQUORUM" {
		t.Fatalf("failed row %+v", all)
	}
	var b strings.Builder
	WriteTable(&b, rows)
	out := b.String()
	for _, want := range []string{"1.10", "3.00", "2.50", "0.50", "0.25", "FAILED: NOQUORUM"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is a number")
	}
}

func TestWritePlotsWritesViewableCharts(t *testing.T) {
	rep := fullReport()
	rep.Runs = append(rep.Runs, run1("etcd", "put", "", 1, 1000, 1, 10, 100), run1("cairn", "put", "", 1, 900, 2, 20, 200))
	rep.Runs[len(rep.Runs)-1].Series = []Point{{T: 1, RPS: 800}, {T: 2, RPS: 1000}}
	dir := t.TempDir()
	files, err := WritePlots(dir, rep)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"latency-put.svg": true, "throughput-put.svg": true, "latency-watch.svg": true, "throughput-watch.svg": true, "sweep-watch.svg": true}
	for _, f := range files {
		delete(want, filepath.Base(f))
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), "<?xml") {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if len(want) > 0 {
		t.Fatalf("charts not written: %v (wrote %v)", want, files)
	}
}
