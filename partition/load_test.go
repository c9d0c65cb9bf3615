package partition

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// loadConfig is a config for load tests: hot at 1000 operations a tick,
// half-life 2 ticks.
func loadConfig() Config {
	cfg := DefaultConfig()
	cfg.HotOpsPerTick = 1000
	cfg.HalfLifeTicks = 2
	return cfg
}

func TestRatesConvergeAndDecay(t *testing.T) {
	tb := mustTable(t, loadConfig())
	r := tb.Lookup(nil)
	for range 40 {
		for range 100 {
			r.Record(OpRead, []byte("k"), 3)
		}
		for range 50 {
			r.Record(OpWrite, []byte("k"), 7)
		}
		tb.Tick()
	}
	l := r.Load()
	if l.Reads != 4000 || l.Writes != 2000 || l.Bytes != 4000*3+2000*7 {
		t.Errorf("totals = %+v", l)
	}
	// After 20 half-lives the averages are within 2^-20 of the steady rates.
	for name, c := range map[string][2]float64{
		"reads": {l.ReadsPerTick, 100}, "writes": {l.WritesPerTick, 50}, "bytes": {l.BytesPerTick, 650}, "ops": {l.OpsPerTick(), 150},
	} {
		if math.Abs(c[0]-c[1]) > c[1]*1e-5 {
			t.Errorf("%s rate = %v, want %v", name, c[0], c[1])
		}
	}
	// Without traffic the rate halves every HalfLifeTicks ticks: hot means recent.
	for range 2 {
		tb.Tick()
	}
	if got := r.Load().OpsPerTick(); math.Abs(got-75) > 75*1e-5 {
		t.Errorf("rate one half-life after the traffic stopped = %v, want 75", got)
	}
}

// skewedKey draws from a workload where 80% of the operations hit 100 keys
// (user/0100 .. user/0199) and the rest spread over 10,000.
func skewedKey(rng *rand.Rand) []byte {
	if rng.IntN(10) < 8 {
		return fmt.Appendf(nil, "user/%04d", 100+rng.IntN(100))
	}
	return fmt.Appendf(nil, "user/%04d", rng.IntN(10000))
}

// leftShare returns the share of n fresh operations of the workload whose
// key sorts below split.
func leftShare(rng *rand.Rand, key func(*rand.Rand) []byte, split []byte, n int) float64 {
	left := 0
	for range n {
		if bytes.Compare(key(rng), split) < 0 {
			left++
		}
	}
	return float64(left) / float64(n)
}

// TestSuggestSplitDividesLoad drives a skewed workload through one range
// and checks that the suggested split leaves about half of the load on
// each side (measured on fresh traffic from the same workload), where the
// middle of the keyspace would leave 90% on one side.
func TestSuggestSplitDividesLoad(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg := loadConfig()
	cfg.Seed = seed
	tb := mustTable(t, cfg)
	r := tb.Lookup(nil)
	for range 12 {
		for range 5000 {
			r.Record(OpRead, skewedKey(rng), 100)
		}
		tb.Tick()
	}
	got := tb.SuggestSplits(10)
	if len(got) != 1 || got[0].Range != r {
		t.Fatalf("seed %d: SuggestSplits = %v, want one suggestion for %v", seed, got, r)
	}
	s := got[0]
	share := leftShare(rng, skewedKey, s.Key, 100_000)
	t.Logf("split at %q: %.3f of fresh load on the left (sampled %.3f); the keyspace middle user/5000 leaves %.3f",
		s.Key, share, s.LeftShare, leftShare(rng, skewedKey, []byte("user/5000"), 100_000))
	if share < 0.4 || share > 0.6 {
		t.Errorf("seed %d: split at %q leaves %.3f of the load on the left, want 0.5 +- 0.1", seed, s.Key, share)
	}
	if math.Abs(share-s.LeftShare) > 0.05 {
		t.Errorf("seed %d: reported LeftShare %.3f, measured %.3f", seed, s.LeftShare, share)
	}
	if math.Abs(s.OpsPerTick-5000) > 500 {
		t.Errorf("seed %d: OpsPerTick = %v, want about 5000", seed, s.OpsPerTick)
	}
	left, right, err := tb.Split(s.Key)
	if err != nil {
		t.Fatalf("seed %d: Split(%q) = %v", seed, s.Key, err)
	}
	if left.Load() != (Load{}) || right.Load() != (Load{}) {
		t.Errorf("split halves do not start empty: %+v %+v", left.Load(), right.Load())
	}
	if r.load.finder.Load() != nil {
		t.Errorf("the retired range still samples")
	}
}

// TestNoSuggestion checks the cases that must not give a split: a cold
// range, a hot range whose load is on one key, and a hot range that has
// not sampled enough yet.
func TestNoSuggestion(t *testing.T) {
	cfg := loadConfig()
	t.Run("cold", func(t *testing.T) {
		tb := mustTable(t, cfg)
		r := tb.Lookup(nil)
		for i := range 20 {
			for j := range 400 { // 400 < 1000 a tick
				r.Record(OpWrite, fmt.Appendf(nil, "k%d", i*400+j), 1)
			}
			tb.Tick()
		}
		if r.load.finder.Load() != nil || len(tb.SuggestSplits(10)) != 0 {
			t.Errorf("a cold range samples or is suggested")
		}
	})
	t.Run("one hot key", func(t *testing.T) {
		tb := mustTable(t, cfg)
		r := tb.Lookup(nil)
		for i := range 20 {
			for range 5000 {
				r.Record(OpRead, []byte("hot"), 1)
			}
			r.Record(OpRead, fmt.Appendf(nil, "cold%d", i), 1)
			tb.Tick()
		}
		if r.load.finder.Load() == nil {
			t.Fatalf("the hot range does not sample")
		}
		if got := tb.SuggestSplits(10); len(got) != 0 {
			t.Errorf("SuggestSplits = %+v for a range whose load is on one key", got)
		}
	})
	t.Run("too few samples", func(t *testing.T) {
		c := cfg
		c.HotOpsPerTick = 10
		tb := mustTable(t, c)
		r := tb.Lookup(nil)
		for range 30 {
			r.Record(OpRead, []byte("a"), 1)
			r.Record(OpRead, []byte("b"), 1)
		}
		tb.Tick() // hot now: starts sampling
		enough := minSamplesSeen * c.SampleSize
		for range enough/2 - 1 {
			r.Record(OpRead, []byte("a"), 1)
			r.Record(OpRead, []byte("b"), 1)
		}
		if got := tb.SuggestSplits(10); len(got) != 0 {
			t.Errorf("SuggestSplits = %+v after %d observations, fewer than %d", got, enough-2, enough)
		}
		r.Record(OpRead, []byte("a"), 1)
		r.Record(OpRead, []byte("b"), 1)
		if got := tb.SuggestSplits(10); len(got) != 1 || string(got[0].Key) != "b" {
			t.Errorf("SuggestSplits = %+v with enough samples, want a split at b", got)
		}
	})
}

// TestSamplingIsBounded checks that only the MaxSampledRanges hottest
// ranges sample, and that a sampling range keeps sampling down to half the
// threshold and stops below it.
func TestSamplingIsBounded(t *testing.T) {
	cfg := loadConfig()
	cfg.MaxSampledRanges = 2
	cfg.HalfLifeTicks = 1
	tb := mustTable(t, cfg, "b", "c", "d", "e")
	ranges := tb.Ranges()
	drive := func(perRange []int) {
		for i, n := range perRange {
			for range n {
				ranges[i].Record(OpRead, ranges[i].Start(), 1)
			}
		}
		tb.Tick()
	}
	sampling := func() []bool {
		out := make([]bool, len(ranges))
		for i, r := range ranges {
			out[i] = r.load.finder.Load() != nil
		}
		return out
	}
	for range 20 {
		drive([]int{1200, 3000, 100, 2000, 1500})
	}
	if got, want := fmt.Sprint(sampling()), "[false true false true false]"; got != want {
		t.Errorf("sampling ranges = %s, want %s (the two hottest)", got, want)
	}
	for range 20 {
		drive([]int{0, 700, 0, 400, 0}) // 700 >= 1000/2 keeps sampling, 400 stops
	}
	if got, want := fmt.Sprint(sampling()), "[false true false false false]"; got != want {
		t.Errorf("sampling ranges = %s, want %s (hysteresis)", got, want)
	}
	for range 20 {
		drive([]int{0, 0, 0, 700, 0}) // 700 < 1000 does not start sampling
	}
	if got, want := fmt.Sprint(sampling()), "[false false false false false]"; got != want {
		t.Errorf("sampling ranges = %s, want %s", got, want)
	}
}

// TestConcurrentRecording records from many goroutines while another
// ticks and asks for suggestions (run with -race). No count is lost.
func TestConcurrentRecording(t *testing.T) {
	cfg := loadConfig()
	cfg.HotOpsPerTick = 100
	tb := mustTable(t, cfg, "k5")
	const workers, perWorker = 4, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				tb.Tick()
				tb.SuggestSplits(4)
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				key := fmt.Appendf(nil, "k%d", (w*perWorker+i)%10)
				tb.Lookup(key).Record(OpWrite, key, 2)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	var writes, size uint64
	for _, r := range tb.Ranges() {
		writes += r.Load().Writes
		size += r.Load().Bytes
	}
	if writes != workers*perWorker || size != 2*workers*perWorker {
		t.Errorf("counted %d writes, %d bytes; want %d, %d", writes, size, workers*perWorker, 2*workers*perWorker)
	}
}

// TestConcurrentSplitMerge splits and merges while other goroutines look
// up and record (run with -race): every lookup finds a range containing
// its key, and the table stays a partition of the keyspace.
func TestConcurrentSplitMerge(t *testing.T) {
	cfg := loadConfig()
	cfg.HotOpsPerTick = 50
	tb := mustTable(t, cfg)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 4)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 0))
			for {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Appendf(nil, "%03d", rng.IntN(1000))
				r := tb.Lookup(key)
				if !r.Contains(key) {
					select {
					case errs <- fmt.Sprintf("Lookup(%q) = %v", key, r):
					default:
					}
				}
				r.Record(OpRead, key, 1)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(42, 0))
	for i := range 300 {
		if ranges := tb.Ranges(); len(ranges) > 1 && i%3 == 0 {
			j := rng.IntN(len(ranges) - 1)
			if _, err := tb.Merge(ranges[j].ID(), ranges[j+1].ID()); err != nil {
				t.Fatal(err)
			}
		} else if _, _, err := tb.Split(fmt.Appendf(nil, "%03d", 1+rng.IntN(999))); err != nil && !errors.Is(err, ErrBoundary) {
			t.Fatal(err)
		}
		tb.Tick()
		for _, s := range tb.SuggestSplits(1) {
			tb.Split(s.Key) // may fail: the range may be gone
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
