package sim

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// LongSeeds is the number of seeds -sim.long runs.
const LongSeeds = 100000

var (
	flagSeeds   = flag.Int("sim.seeds", 0, "seeds per simulation test (0: the test's default, 1000 for CI)")
	flagSeed    = flag.Uint64("sim.seed", 0, "replay only this seed (seeds are >= 1)")
	flagStart   = flag.Uint64("sim.start", 1, "first seed of a run")
	flagSteps   = flag.Int("sim.steps", 0, "events per seed (0: the test's default)")
	flagLong    = flag.Bool("sim.long", false, fmt.Sprintf("run %d seeds per simulation test", LongSeeds))
	flagWorkers = flag.Int("sim.workers", 0, "seeds run in parallel (0: GOMAXPROCS)")
)

// RunConfig says which seeds RunSeeds runs. Build it with FlagRunConfig.
type RunConfig struct {
	// Seeds is how many seeds to run, Start, Start+1, ...
	Seeds int
	// Start is the first seed, >= 1.
	Start uint64
	// Replay, if not 0, runs only this seed (and Seeds and Start are
	// ignored).
	Replay uint64
	// Steps is the number of events per seed; RunSeeds only passes it on
	// (in the replay line), the test's run function uses it.
	Steps int
	// Workers is how many seeds run at once; each seed must build its own
	// World and share nothing.
	Workers int
}

// FlagRunConfig reads the -sim.* flags. defaultSeeds and defaultSteps
// apply when -sim.seeds and -sim.steps are not given; -sim.long sets
// LongSeeds seeds.
func FlagRunConfig(defaultSeeds, defaultSteps int) RunConfig {
	c := RunConfig{Seeds: defaultSeeds, Start: *flagStart, Replay: *flagSeed, Steps: defaultSteps, Workers: *flagWorkers}
	if *flagLong {
		c.Seeds = LongSeeds
	}
	if *flagSeeds > 0 {
		c.Seeds = *flagSeeds
	}
	if *flagSteps > 0 {
		c.Steps = *flagSteps
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c
}

// Replaying reports whether c replays a single seed, so that the test can
// log more (a longer trace tail, the full history).
func (c RunConfig) Replaying() bool { return c.Replay != 0 }

// Validate reports the first field that is out of range.
func (c RunConfig) Validate() error {
	switch {
	case c.Replay == 0 && c.Seeds < 1:
		return fmt.Errorf("sim: RunConfig.Seeds = %d, want >= 1", c.Seeds)
	case c.Replay == 0 && c.Start < 1:
		return errors.New("sim: RunConfig.Start = 0, seeds start at 1")
	case c.Steps < 1:
		return fmt.Errorf("sim: RunConfig.Steps = %d, want >= 1", c.Steps)
	case c.Workers < 1:
		return fmt.Errorf("sim: RunConfig.Workers = %d, want >= 1", c.Workers)
	}
	return nil
}

// RunSeeds runs fn for every seed of c, spread over c.Workers goroutines.
// At the first failure it stops handing out seeds, and reports the
// smallest failing seed it saw with its error and ONE line that replays
// it, e.g.
//
//	sim: replay: go test ./sim -run '^TestDemo$' -sim.seed=17 -sim.steps=2000 -v
func RunSeeds(t testing.TB, c RunConfig, fn func(seed uint64) error) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Replay != 0 {
		if err := fn(c.Replay); err != nil {
			t.Errorf("%v", err)
			t.Fatalf("sim: replay: %s", ReplayCommand(t.Name(), c.Replay, c.Steps))
		}
		return
	}
	began := time.Now() // real time, for the log line only; never reaches a World
	var (
		next    atomic.Int64
		stop    atomic.Bool
		mu      sync.Mutex
		badSeed uint64
		badErr  error
		wg      sync.WaitGroup
	)
	for range min(c.Workers, c.Seeds) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := next.Add(1) - 1
				if i >= int64(c.Seeds) {
					return
				}
				seed := c.Start + uint64(i)
				if err := fn(seed); err != nil {
					stop.Store(true)
					mu.Lock()
					if badErr == nil || seed < badSeed {
						badSeed, badErr = seed, err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if badErr != nil {
		t.Errorf("%v", badErr)
		t.Fatalf("sim: replay: %s", ReplayCommand(t.Name(), badSeed, c.Steps))
		return
	}
	t.Logf("sim: %d seeds from %d, %d steps each, passed in %v", c.Seeds, c.Start, c.Steps, time.Since(began).Round(time.Millisecond))
}

// ReplayCommand returns the go test command line that replays one seed of
// the named test (t.Name(), subtests included) from the module root.
func ReplayCommand(testName string, seed uint64, steps int) string {
	parts := strings.Split(testName, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test %s -run '%s' -sim.seed=%d -sim.steps=%d -v",
		packageDir(), strings.Join(parts, "/"), seed, steps)
}

// packageDir returns the test's package directory relative to the module
// root ("./sim"), since go test runs a test in its package directory.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// CheckDeterminism runs one seed twice and returns an error if the two runs
// differ in trace hash or in outcome. run returns the run's trace hash and
// its failure, if any.
func CheckDeterminism(seed uint64, run func(seed uint64) (hash uint64, err error)) error {
	h1, err1 := run(seed)
	h2, err2 := run(seed)
	if h1 != h2 {
		return fmt.Errorf("sim: seed %d is not deterministic: trace hash %#x then %#x", seed, h1, h2)
	}
	if errText(err1) != errText(err2) {
		return fmt.Errorf("sim: seed %d is not deterministic: outcome %q then %q", seed, errText(err1), errText(err2))
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
