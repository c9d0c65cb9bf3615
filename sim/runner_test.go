package sim_test

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cairndb/cairn/sim"
)

// fakeTB records what RunSeeds reports instead of failing the real test.
type fakeTB struct {
	testing.TB // nil: only the methods below may be called
	name       string
	errors     []string
	fatal      string
}

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Name() string        { return f.name }
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

func TestReplayCommand(t *testing.T) {
	got := sim.ReplayCommand("TestRaft/five nodes", 12345, 3000)
	want := `go test ./sim -run '^TestRaft$/^five nodes$' -sim.seed=12345 -sim.steps=3000 -v`
	if got != want {
		t.Fatalf("ReplayCommand =\n %s\nwant\n %s", got, want)
	}
}

// TestRunSeedsReportsSmallestFailingSeed fails every seed divisible by 7:
// with any number of workers the report must name seed 7, with a replay
// line, and stop well before the end.
func TestRunSeedsReportsSmallestFailingSeed(t *testing.T) {
	for _, workers := range []int{1, 4} {
		var mu sync.Mutex
		ran := 0
		tb := &fakeTB{name: "TestX"}
		sim.RunSeeds(tb, sim.RunConfig{Seeds: 1000, Start: 1, Steps: 10, Workers: workers}, func(seed uint64) error {
			mu.Lock()
			ran++
			mu.Unlock()
			if seed%7 == 0 {
				return fmt.Errorf("boom %d", seed)
			}
			return nil
		})
		if len(tb.errors) != 1 || tb.errors[0] != "boom 7" {
			t.Fatalf("workers=%d: errors %v, want [boom 7]", workers, tb.errors)
		}
		if !strings.Contains(tb.fatal, "-sim.seed=7 ") || strings.Contains(tb.fatal, "\n") {
			t.Fatalf("workers=%d: replay line %q", workers, tb.fatal)
		}
		if ran > 100 {
			t.Fatalf("workers=%d: %d seeds ran after a failure at seed 7", workers, ran)
		}
	}
}

func TestRunSeedsRunsEverySeedOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint64]int{}
	tb := &fakeTB{name: "TestX"}
	sim.RunSeeds(tb, sim.RunConfig{Seeds: 50, Start: 100, Steps: 1, Workers: 3}, func(seed uint64) error {
		mu.Lock()
		seen[seed]++
		mu.Unlock()
		return nil
	})
	if tb.fatal != "" || len(tb.errors) != 0 || len(seen) != 50 {
		t.Fatalf("fatal %q errors %v, %d distinct seeds", tb.fatal, tb.errors, len(seen))
	}
	for s := uint64(100); s < 150; s++ {
		if seen[s] != 1 {
			t.Fatalf("seed %d ran %d times", s, seen[s])
		}
	}
}

func TestRunSeedsReplaysOneSeed(t *testing.T) {
	var got []uint64
	tb := &fakeTB{name: "TestX"}
	sim.RunSeeds(tb, sim.RunConfig{Replay: 42, Steps: 5, Workers: 1}, func(seed uint64) error {
		got = append(got, seed)
		return errors.New("still broken")
	})
	if len(got) != 1 || got[0] != 42 || !strings.Contains(tb.fatal, "-sim.seed=42") {
		t.Fatalf("replay ran %v, fatal %q", got, tb.fatal)
	}
}

func TestRunConfigValidate(t *testing.T) {
	for _, c := range []sim.RunConfig{
		{Seeds: 0, Start: 1, Steps: 1, Workers: 1},
		{Seeds: 1, Start: 0, Steps: 1, Workers: 1},
		{Seeds: 1, Start: 1, Steps: 0, Workers: 1},
		{Seeds: 1, Start: 1, Steps: 1, Workers: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
	if flag.Lookup("sim.seeds").Value.String() != "0" || flag.Lookup("sim.steps").Value.String() != "0" || flag.Lookup("sim.long").Value.String() != "false" {
		return // the defaults below are overridden on this command line
	}
	if c := sim.FlagRunConfig(17, 33); c.Seeds != 17 || c.Steps != 33 || c.Start != 1 || c.Workers < 1 || c.Validate() != nil {
		t.Errorf("FlagRunConfig(17, 33) = %+v", c)
	}
}
