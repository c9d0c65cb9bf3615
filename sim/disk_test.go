package sim_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairndb/cairn/sim"
	"pgregory.net/rapid"
)

func records(d *sim.Disk, name string) string {
	var parts []string
	for _, r := range d.Records(name) {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, ",")
}

func TestDiskCrashModes(t *testing.T) {
	setup := func() *sim.Disk {
		d := sim.NewDisk()
		d.Append("log", []byte("a"))
		d.Append("log", []byte("b"))
		d.WriteFile("hard", []byte("term=1"))
		d.SyncAll()
		d.Append("log", []byte("c"))
		d.WriteFile("hard", []byte("term=2"))
		d.Append("other", []byte("x"))
		return d
	}
	for _, tc := range []struct {
		mode             sim.LossMode
		log, hard, other string
	}{
		{sim.LossNone, "a,b,c", "term=2", "x"},
		{sim.LossAll, "a,b", "term=1", ""},
	} {
		d := setup()
		if got := records(d, "log"); got != "a,b,c" {
			t.Fatalf("before crash the running node sees %q", got)
		}
		d.Crash(tc.mode, sim.NewRand(1, "t"))
		hard, _ := d.ReadFile("hard")
		if records(d, "log") != tc.log || string(hard) != tc.hard || records(d, "other") != tc.other {
			t.Fatalf("%v: log %q hard %q other %q; want %q %q %q", tc.mode,
				records(d, "log"), hard, records(d, "other"), tc.log, tc.hard, tc.other)
		}
		if d.Exists("other") != (tc.other != "") {
			t.Fatalf("%v: Exists(other) = %v", tc.mode, d.Exists("other"))
		}
	}
}

// TestDiskLossPrefixKeepsOnlyPrefixes crashes with LossPrefix under many
// seeds: every outcome must be a prefix of the unsynced writes, and over
// the seeds all of none, some and all must happen.
func TestDiskLossPrefixKeepsOnlyPrefixes(t *testing.T) {
	seen := map[int]bool{}
	for seed := uint64(1); seed <= 200; seed++ {
		d := sim.NewDisk()
		d.Append("log", []byte("s"))
		d.Sync("log")
		for _, r := range []string{"1", "2", "3", "4"} {
			d.Append("log", []byte(r))
		}
		d.Crash(sim.LossPrefix, sim.NewRand(seed, "t"))
		got := records(d, "log")
		if !strings.HasPrefix("s,1,2,3,4", got) || !strings.HasPrefix(got, "s") {
			t.Fatalf("seed %d: %q is not a prefix of s,1,2,3,4 keeping the synced s", seed, got)
		}
		seen[d.Len("log")] = true
	}
	for n := 1; n <= 5; n++ {
		if !seen[n] {
			t.Fatalf("no seed kept exactly %d records; seen %v", n, seen)
		}
	}
}

func TestDiskTruncateAndRemove(t *testing.T) {
	d := sim.NewDisk()
	if err := d.Truncate("nope", 0); err == nil {
		t.Fatal("truncating a missing file succeeded")
	}
	for _, r := range []string{"a", "b", "c"} {
		d.Append("log", []byte(r))
	}
	if err := d.Truncate("log", 4); err == nil {
		t.Fatal("truncating beyond the end succeeded")
	}
	d.Sync("log")
	if err := d.Truncate("log", 1); err != nil {
		t.Fatal(err)
	}
	d.Append("log", []byte("B"))
	if got := records(d, "log"); got != "a,B" {
		t.Fatalf("after truncate+append: %q", got)
	}
	d.Crash(sim.LossAll, sim.NewRand(1, "t"))
	if got := records(d, "log"); got != "a,b,c" {
		t.Fatalf("an unsynced truncate survived a crash: %q", got)
	}
	d.Remove("log")
	if d.Exists("log") || d.Len("log") != 0 || len(d.Names()) != 0 {
		t.Fatal("Remove left the file")
	}
	d.Crash(sim.LossAll, sim.NewRand(1, "t"))
	if !d.Exists("log") {
		t.Fatal("an unsynced remove survived a crash")
	}
	d.Remove("log")
	d.Sync("log")
	d.Crash(sim.LossAll, sim.NewRand(1, "t"))
	if d.Exists("log") {
		t.Fatal("a synced remove was undone by a crash")
	}
}

func TestDiskCopiesInput(t *testing.T) {
	d := sim.NewDisk()
	buf := []byte("abc")
	d.Append("f", buf)
	buf[0] = 'X'
	if got, _ := d.ReadFile("f"); string(got) != "abc" {
		t.Fatalf("Append kept a reference to the caller's slice: %q", got)
	}
}

// diskModel is the reference for the rapid test: per file, the durable
// records and the unsynced operations as closures over a record list.
type diskModel struct {
	durable map[string][]string
	exists  map[string]bool
	pending map[string][]func(recs []string, exists bool) ([]string, bool)
}

func (m *diskModel) current(name string) ([]string, bool) {
	recs, ex := slices.Clone(m.durable[name]), m.exists[name]
	for _, op := range m.pending[name] {
		recs, ex = op(recs, ex)
	}
	return recs, ex
}

// TestDiskMatchesModel drives a Disk and a simple model with the same
// random operations and crashes; after a LossPrefix crash the disk must
// hold, for each file, the durable state plus some prefix of its pending
// operations.
func TestDiskMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		d := sim.NewDisk()
		m := &diskModel{durable: map[string][]string{}, exists: map[string]bool{}, pending: map[string][]func([]string, bool) ([]string, bool){}}
		names := []string{"log", "hard"}
		rng := sim.NewRand(rapid.Uint64().Draw(rt, "seed"), "disk")
		for i := range rapid.IntRange(1, 60).Draw(rt, "ops") {
			name := rapid.SampledFrom(names).Draw(rt, "name")
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0, 1:
				rec := fmt.Sprintf("r%d", i)
				d.Append(name, []byte(rec))
				m.pending[name] = append(m.pending[name], func(r []string, _ bool) ([]string, bool) { return append(r, rec), true })
			case 2:
				cur, ex := m.current(name)
				if !ex {
					continue
				}
				n := rapid.IntRange(0, len(cur)).Draw(rt, "n")
				if err := d.Truncate(name, n); err != nil {
					rt.Fatal(err)
				}
				m.pending[name] = append(m.pending[name], func(r []string, ex bool) ([]string, bool) { return r[:n], ex })
			case 3:
				rec := fmt.Sprintf("w%d", i)
				d.WriteFile(name, []byte(rec))
				m.pending[name] = append(m.pending[name], func([]string, bool) ([]string, bool) { return []string{rec}, true })
			case 4:
				d.Sync(name)
				m.durable[name], m.exists[name] = m.current(name)
				m.pending[name] = nil
			case 5:
				d.Crash(sim.LossPrefix, rng)
				for _, name := range names {
					got := d.Records(name)
					recs, ex := slices.Clone(m.durable[name]), m.exists[name]
					match := false
					for k := 0; k <= len(m.pending[name]) && !match; k++ {
						if k > 0 {
							recs, ex = m.pending[name][k-1](recs, ex)
						}
						match = ex == d.Exists(name) && slices.Equal(recs, toStrings(got))
					}
					if !match {
						rt.Fatalf("after crash %s = %v (exists %v): not durable state plus a prefix of pending writes", name, toStrings(got), d.Exists(name))
					}
					m.durable[name], m.exists[name] = toStrings(got), d.Exists(name)
					m.pending[name] = nil
				}
				continue
			}
			for _, name := range names {
				want, ex := m.current(name)
				if ex != d.Exists(name) || !slices.Equal(want, toStrings(d.Records(name))) {
					rt.Fatalf("%s = %v (exists %v), model %v (exists %v)", name, toStrings(d.Records(name)), d.Exists(name), want, ex)
				}
			}
		}
	})
}

func toStrings(recs [][]byte) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r))
	}
	return out
}

func TestLossModeString(t *testing.T) {
	for m, want := range map[sim.LossMode]string{sim.LossNone: "LossNone", sim.LossAll: "LossAll", sim.LossPrefix: "LossPrefix", 9: "LossMode(9)"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(m), m.String(), want)
		}
	}
}
