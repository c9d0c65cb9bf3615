package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// fullReport fills every field of a report, so that the round trip and
// the schema check below see all of them.
func fullReport() *Report {
	rep := NewReport("cairn test", []string{"cairn", "bench", "--compare"})
	rep.Host.CPUModel, rep.Host.MemoryMB = "test cpu", 1024
	var h, eh Histogram
	for i := range 1000 {
		h.Record(time.Duration(i) * time.Microsecond)
		eh.Record(time.Duration(i) * 2 * time.Microsecond)
	}
	spec := DefaultSpec(KindWatch)
	spec.Total, spec.Conns, spec.Sequential, spec.RangeEnd, spec.Serializable = 10, 10, true, "fop", true
	spec.Pipeline, spec.Consistency = 1, "QUORUM"
	rep.Runs = append(rep.Runs, Result{
		Target: "cairn", Spec: spec, Round: 2, Sweep: "watch", Start: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
		Elapsed: 1.5, Requests: 1000, Errors: 2, ErrorKinds: map[string]int64{"boom": 2}, Throughput: 666.7,
		Latency: h.Summary(), Histogram: &h, Series: []Point{{T: 1, Requests: 600, Errors: 1, RPS: 600, MeanMS: 0.5}},
		Events:  &EventResult{Watchers: 100, Expected: 100000, Received: 99999, Throughput: 66666, Latency: eh.Summary(), Histogram: &eh},
		Server:  &ServerUsage{Processes: 3, CPUSeconds: 1.25, CPUPerOpMicros: 1250},
		LoadAvg: 1.5, Error: "stopped",
	})
	rep.Memory = []MemoryResult{{System: "cairn", Tier: "eventual", Nodes: 3, Keys: 10, KeySize: 8, ValueSize: 256, Consistency: "QUORUM",
		RSSBefore: 1, RSSAfter: 2, DiskBefore: 3, DiskAfter: 4, RSSPerKey: 5, DiskPerKey: 6, RSSPerKeyPerNode: 7, DiskPerKeyPerNode: 8, Error: "x"}}
	rep.Notes = []string{"redis skipped"}
	return rep
}

func TestReportJSONRoundTrip(t *testing.T) {
	rep := fullReport()
	path := filepath.Join(t.TempDir(), "report.json")
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	// Histograms compare by content (their capacity may differ).
	for i := range rep.Runs {
		if !got.Runs[i].Histogram.Equal(rep.Runs[i].Histogram) || !got.Runs[i].Events.Histogram.Equal(rep.Runs[i].Events.Histogram) {
			t.Fatal("a histogram changed through JSON")
		}
		got.Runs[i].Histogram, rep.Runs[i].Histogram = nil, nil
		got.Runs[i].Events.Histogram, rep.Runs[i].Events.Histogram = nil, nil
	}
	if !reflect.DeepEqual(got, rep) {
		a, _ := json.Marshal(rep)
		b, _ := json.Marshal(got)
		t.Fatalf("report changed through JSON:\nwrote %s\nread  %s", a, b)
	}
}

func TestReportRefusesAnotherSchema(t *testing.T) {
	b, _ := json.Marshal(fullReport())
	other := strings.Replace(string(b), SchemaVersion, "cairn-bench/v0", 1)
	if _, err := DecodeReport([]byte(other)); err == nil {
		t.Fatal("decoded a report of another schema")
	}
}

// TestSchemaIsDocumented: every JSON field a report can hold is named in
// README.md, so the documented schema cannot fall behind the code.
func TestSchemaIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(fullReport())
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				// error_kinds' keys are messages, not fields.
				if k != "boom" {
					keys[k] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	var missing []string
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") && !strings.Contains(string(doc), "`"+k+"[]`") {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("README.md does not document these report fields: %v", missing)
	}
}
