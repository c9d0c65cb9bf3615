package partition

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func mustTable(t testing.TB, cfg Config, splits ...string) *Table {
	t.Helper()
	keys := make([][]byte, len(splits))
	for i, s := range splits {
		keys[i] = []byte(s)
	}
	tb, err := New(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// describe renders the table as "start|start|..." with IDs, for comparisons.
func describe(tb *Table) string {
	var b strings.Builder
	for _, r := range tb.Ranges() {
		b.WriteString(r.String())
	}
	return b.String()
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	mods := map[string]func(*Config){
		"zero MaxRanges":        func(c *Config) { c.MaxRanges = 0 },
		"huge MaxRanges":        func(c *Config) { c.MaxRanges = MaxRangesLimit + 1 },
		"zero MaxKeySize":       func(c *Config) { c.MaxKeySize = 0 },
		"huge MaxKeySize":       func(c *Config) { c.MaxKeySize = MaxKeySizeLimit + 1 },
		"zero SampleSize":       func(c *Config) { c.SampleSize = 0 },
		"huge SampleSize":       func(c *Config) { c.SampleSize = MaxSampleSize + 1 },
		"zero MaxSampledRanges": func(c *Config) { c.MaxSampledRanges = 0 },
		"huge MaxSampledRanges": func(c *Config) { c.MaxSampledRanges = MaxSampledRangesLimit + 1 },
		"zero HalfLifeTicks":    func(c *Config) { c.HalfLifeTicks = 0 },
		"huge HalfLifeTicks":    func(c *Config) { c.HalfLifeTicks = MaxHalfLifeTicks + 1 },
		"zero HotOpsPerTick":    func(c *Config) { c.HotOpsPerTick = 0 },
		"negative HotOps":       func(c *Config) { c.HotOpsPerTick = -1 },
		"NaN HotOps":            func(c *Config) { c.HotOpsPerTick = math.NaN() },
		"infinite HotOps":       func(c *Config) { c.HotOpsPerTick = math.Inf(1) },
		"zero SplitBalance":     func(c *Config) { c.SplitBalance = 0 },
		"SplitBalance over 0.5": func(c *Config) { c.SplitBalance = 0.51 },
		"NaN SplitBalance":      func(c *Config) { c.SplitBalance = math.NaN() },
	}
	for name, mod := range mods {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidConfig", name, err)
		}
		if _, err := New(c, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New() = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestNew(t *testing.T) {
	one := mustTable(t, DefaultConfig())
	if got := describe(one); got != `r1["", +inf)` {
		t.Errorf("empty table = %s", got)
	}
	tb := mustTable(t, DefaultConfig(), "m", "c", "x")
	if got, want := describe(tb), `r1["", "c")r2["c", "m")r3["m", "x")r4["x", +inf)`; got != want {
		t.Errorf("table = %s, want %s", got, want)
	}
	small := DefaultConfig()
	small.MaxRanges, small.MaxKeySize = 3, 4
	cases := []struct {
		name string
		keys []string
		want error
	}{
		{"duplicate", []string{"b", "b"}, ErrBoundary},
		{"empty key", []string{""}, ErrBoundary},
		{"too many", []string{"a", "b", "c"}, ErrTooManyRanges},
		{"too large", []string{"abcde"}, ErrKeyTooLarge},
	}
	for _, c := range cases {
		keys := make([][]byte, len(c.keys))
		for i, k := range c.keys {
			keys[i] = []byte(k)
		}
		if _, err := New(small, keys); !errors.Is(err, c.want) {
			t.Errorf("%s: New() = %v, want %v", c.name, err, c.want)
		}
	}
	// New copies the keys: changing the caller's buffer changes nothing.
	buf := []byte("k")
	tb2, err := New(DefaultConfig(), [][]byte{buf})
	if err != nil {
		t.Fatal(err)
	}
	buf[0] = 'z'
	if got := tb2.Lookup([]byte("k")).Start(); string(got) != "k" {
		t.Errorf("New kept the caller's buffer: start %q", got)
	}
}

func TestSplitErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRanges, cfg.MaxKeySize = 3, 8
	tb := mustTable(t, cfg, "m")
	before := describe(tb)
	cases := []struct {
		key  string
		want error
	}{
		{"", ErrBoundary},
		{"m", ErrBoundary},
		{"123456789", ErrKeyTooLarge},
	}
	for _, c := range cases {
		if _, _, err := tb.Split([]byte(c.key)); !errors.Is(err, c.want) {
			t.Errorf("Split(%q) = %v, want %v", c.key, err, c.want)
		}
	}
	if _, _, err := tb.Split([]byte("f")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tb.Split([]byte("t")); !errors.Is(err, ErrTooManyRanges) {
		t.Errorf("Split past MaxRanges = %v, want ErrTooManyRanges", err)
	}
	// A boundary is reported as such even when the table is full.
	if _, _, err := tb.Split([]byte("f")); !errors.Is(err, ErrBoundary) {
		t.Errorf("Split at a boundary of a full table = %v, want ErrBoundary", err)
	}
	if got := describe(tb); got == before || tb.Len() != 3 {
		t.Errorf("table after one good split = %s", got)
	}
}

func TestSplitAndMerge(t *testing.T) {
	tb := mustTable(t, DefaultConfig())
	buf := []byte("m")
	left, right, err := tb.Split(buf)
	if err != nil {
		t.Fatal(err)
	}
	buf[0] = 'z' // Split copied the key
	if left.ID() != 2 || right.ID() != 3 || string(left.End()) != "m" || string(right.Start()) != "m" || right.End() != nil {
		t.Fatalf("Split(m) = %v, %v", left, right)
	}
	_, rr, err := tb.Split([]byte("t"))
	if err != nil {
		t.Fatal(err)
	}
	// Ranges: r2["", m) r4[m, t) r5[t, +inf).
	errCases := []struct {
		name        string
		left, right RangeID
		want        error
	}{
		{"retired", 1, 2, ErrRangeNotFound},
		{"retired right", 2, 3, ErrRangeNotFound},
		{"never existed", 2, 99, ErrRangeNotFound},
		{"reversed", 4, 2, ErrNotAdjacent},
		{"not neighbours", 2, 5, ErrNotAdjacent},
		{"same range", 4, 4, ErrNotAdjacent},
	}
	for _, c := range errCases {
		if _, err := tb.Merge(c.left, c.right); !errors.Is(err, c.want) {
			t.Errorf("%s: Merge(%d, %d) = %v, want %v", c.name, c.left, c.right, err, c.want)
		}
	}
	merged, err := tb.Merge(4, rr.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describe(tb), `r2["", "m")r6["m", +inf)`; got != want || merged.ID() != 6 {
		t.Errorf("after merge: %s (merged %v), want %s", got, merged, want)
	}
	if _, err := tb.Merge(left.ID(), merged.ID()); err != nil {
		t.Fatal(err)
	}
	if got, want := describe(tb), `r7["", +inf)`; got != want {
		t.Errorf("after merging all: %s, want %s", got, want)
	}
}

func TestLookupAndContains(t *testing.T) {
	tb := mustTable(t, DefaultConfig(), "b", "b\x00", "c")
	cases := map[string]string{
		"":      "",
		"a":     "",
		"b":     "b",
		"b\x00": "b\x00",
		"b\x01": "b\x00",
		"bz":    "b\x00",
		"c":     "c",
		"\xff":  "c",
	}
	for key, start := range cases {
		r := tb.Lookup([]byte(key))
		if !bytes.Equal(r.Start(), []byte(start)) || !r.Contains([]byte(key)) {
			t.Errorf("Lookup(%q) = %v, want the range starting at %q", key, r, start)
		}
	}
	if r := tb.Lookup([]byte("a")); r.Contains([]byte("b")) || r.Contains(nil) == false {
		t.Errorf("%v: Contains is wrong at its bounds", r)
	}
}

func TestMergeSumsLoad(t *testing.T) {
	tb := mustTable(t, DefaultConfig(), "m")
	a, b := tb.Lookup([]byte("a")), tb.Lookup([]byte("z"))
	for range 30 {
		a.Record(OpRead, []byte("a"), 10)
	}
	for range 10 {
		b.Record(OpWrite, []byte("z"), 5)
	}
	tb.Tick()
	b.Record(OpWrite, []byte("z"), 5) // after the tick: new load for the merged range
	merged, err := tb.Merge(a.ID(), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	got := merged.Load()
	want := Load{Reads: 30, Writes: 11, Bytes: 355,
		ReadsPerTick: a.Load().ReadsPerTick, WritesPerTick: b.Load().WritesPerTick, BytesPerTick: a.Load().BytesPerTick + b.Load().BytesPerTick}
	if got != want {
		t.Errorf("merged load = %+v, want %+v", got, want)
	}
	tb.Tick()
	d := tb.decay
	if w := d*want.WritesPerTick + (1-d)*1; math.Abs(merged.Load().WritesPerTick-w) > 1e-9 {
		t.Errorf("writes rate after the next tick = %v, want %v (one new write)", merged.Load().WritesPerTick, w)
	}
}

func TestRecordRejectsMisuse(t *testing.T) {
	r := mustTable(t, DefaultConfig()).Lookup(nil)
	for name, f := range map[string]func(){
		"zero op":       func() { r.Record(0, nil, 1) },
		"unknown op":    func() { r.Record(OpWrite+1, nil, 1) },
		"negative size": func() { r.Record(OpRead, nil, -1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Record did not panic", name)
				}
			}()
			f()
		}()
	}
	if l := r.Load(); l.Reads != 0 || l.Writes != 0 {
		t.Errorf("a rejected Record counted: %+v", l)
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{OpRead: "read", OpWrite: "write", 0: "Op(0)", 9: "Op(9)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", uint8(op), got, want)
		}
	}
}
