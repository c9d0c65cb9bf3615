package history

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRecorderKeepsAtMostMaxOpsAndCountsAll(t *testing.T) {
	r := NewRecorder(time.Now(), 3)
	for i := range 5 {
		o := OK
		if i%2 == 1 {
			o = Unknown
		}
		r.Add(Op{Workload: "w", Client: i, Kind: "put", Outcome: o})
	}
	if got := len(r.Ops()); got != 3 {
		t.Fatalf("kept %d ops, want 3", got)
	}
	if r.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", r.Dropped())
	}
	c := r.Counts()["w"]
	if c[OK] != 3 || c[Unknown] != 2 {
		t.Fatalf("counts %v, want 3 ok and 2 unknown", c)
	}
	var b bytes.Buffer
	if err := r.WriteJSONL(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 3 || !strings.Contains(b.String(), `"outcome":"ok"`) {
		t.Fatalf("jsonl:\n%s", b.String())
	}
}

func TestOutcomeStrings(t *testing.T) {
	for o, want := range map[Outcome]string{OK: "ok", Failed: "fail", Unknown: "unknown", 0: "Outcome(0)"} {
		if o.String() != want {
			t.Errorf("%d: %q, want %q", o, o.String(), want)
		}
	}
}
