package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/verify/check"
	"github.com/cairndb/cairn/verify/history"
	"github.com/cairndb/cairn/verify/nemesis"
)

func sampleReport(verdict check.Verdict) (*Report, *history.Recorder) {
	rec := history.NewRecorder(time.Now(), 0)
	for i := range 50 {
		o := history.OK
		if i%10 == 0 {
			o = history.Unknown
		}
		rec.Add(history.Op{Workload: "register", Client: i % 3, Kind: "put", Call: time.Duration(i) * 100 * time.Millisecond,
			Return: time.Duration(i)*100*time.Millisecond + 5*time.Millisecond, Outcome: o, Desc: "put(<k>, v)"})
	}
	r := &Report{
		Command: "cairn verify --seed 9", Target: "3 local processes", Seed: 9, Nemeses: "kill", Workloads: []string{"register"},
		Start: time.Now(), Duration: 5 * time.Second, OpTimeout: 2 * time.Second,
		Results: []check.Result{{Checker: "register linearizability", Verdict: verdict, Summary: "42 ops", Details: []string{"detail <b>"}}},
		Events:  []nemesis.Event{{Kind: nemesis.Kill, Desc: "kill -9 n2", Start: time.Second, End: 2 * time.Second}},
		Counts:  rec.Counts(), Ops: rec.Ops(),
	}
	return r, rec
}

func TestTextNamesVerdictsFaultsAndTheRepeatCommandOnFailure(t *testing.T) {
	r, _ := sampleReport(check.Pass)
	txt := r.Text()
	for _, want := range []string{"cairn verify: PASS", "PASS register linearizability: 42 ops", "kill -9 n2", "1.0s -      2.0s"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "repeat with") {
		t.Errorf("a passing run printed a repeat command:\n%s", txt)
	}
	r.Results[0].Verdict = check.Fail
	if txt := r.Text(); !strings.Contains(txt, "cairn verify: FAIL") || !strings.Contains(txt, "repeat with:\n  cairn verify --seed 9") {
		t.Errorf("a failing run must print the command that repeats it:\n%s", txt)
	}
	if (&Report{}).Passed() {
		t.Error("a report without results passed")
	}
}

func TestWriteFilesWritesAPageWithChartTimelineAndHistory(t *testing.T) {
	r, rec := sampleReport(check.Fail)
	dir := t.TempDir()
	if err := r.WriteFiles(dir, rec); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{"<svg", `class="band kill"`, `<circle class="unknown"`, "kill -9 n2", "detail &lt;b&gt;", "cairn verify --seed 9"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, f := range []string{"report.txt", "report.json", "history.jsonl"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSampleKeepsEveryOpThatDidNotEndOK(t *testing.T) {
	var ops []history.Op
	for i := range 1000 {
		o := history.OK
		if i%100 == 0 {
			o = history.Unknown
		}
		ops = append(ops, history.Op{Client: i, Outcome: o})
	}
	got := sample(ops, 50)
	bad := 0
	for _, op := range got {
		if op.Outcome != history.OK {
			bad++
		}
	}
	if len(got) != 50 || bad != 10 {
		t.Fatalf("sampled %d ops with %d not ok, want 50 with 10", len(got), bad)
	}
}
