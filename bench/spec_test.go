package bench

import (
	"math"
	"strings"
	"sync/atomic"
	"testing"
)

func TestDefaultSpecsAreValid(t *testing.T) {
	for _, k := range Kinds {
		s := DefaultSpec(k)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestSpecValidateRefuses(t *testing.T) {
	for _, tc := range []struct {
		want  string
		tweak func(*Spec)
	}{
		{"unknown workload", func(s *Spec) { s.Kind = "drop-table" }},
		{"clients", func(s *Spec) { s.Clients = 0 }},
		{"clients", func(s *Spec) { s.Clients = MaxClients + 1 }},
		{"conns", func(s *Spec) { s.Conns = 2 }}, // more conns than clients
		{"total", func(s *Spec) { s.Total, s.Duration = 0, 0 }},
		{"rate", func(s *Spec) { s.Rate = math.NaN() }},
		{"key size", func(s *Spec) { s.KeySize = 4 }}, // 100,000 keys need 5 digits
		{"value size", func(s *Spec) { s.ValueSize = MaxValueSize + 1 }},
		{"pipelining", func(s *Spec) { s.Pipeline = 4 }},
	} {
		s := DefaultSpec(KindPut)
		tc.tweak(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error about %q, got %v", tc.want, err)
		}
	}
	w := DefaultSpec(KindWatch)
	w.ValueSize = 4
	if err := w.Validate(); err == nil {
		t.Error("watch accepted values too short for the send time")
	}
	m := DefaultSpec(KindMixed)
	m.ReadRatio = 1.5
	if err := m.Validate(); err == nil {
		t.Error("mixed accepted a read ratio of 1.5")
	}
}

func TestKeysHaveTheSpecSizeAndStayInTheKeySpace(t *testing.T) {
	s := DefaultSpec(KindIncr)
	s.KeySpace, s.KeySize = 1000, 6
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	g := newKeyGen(&s, 0, nil)
	for range 1000 {
		k := g.next()
		if len(k) != 6 || !strings.HasPrefix(k, "c") || k > "c00999" {
			t.Fatalf("key %q", k)
		}
	}
	// Sequential keys share one counter and wrap at the key space.
	s.Sequential = true
	var seq atomic.Int64
	a, b := newKeyGen(&s, 0, &seq), newKeyGen(&s, 1, &seq)
	var got []string
	for range 1001 {
		got = append(got, a.next(), b.next())
	}
	if got[0] != "c00000" || got[1] != "c00001" || got[1999] != "c00999" || got[2000] != "c00000" {
		t.Fatalf("sequential keys %v ... %v", got[:3], got[1998:])
	}
	if formatKey("", 42, 8) != "00000042" {
		t.Fatal(formatKey("", 42, 8))
	}
}

func TestParseRatio(t *testing.T) {
	for in, want := range map[string]float64{"9:1": 0.9, "1:1": 0.5, "0:5": 0, "3:0": 1, "0.25": 0.25, " 1 : 3 ": 0.25} {
		if got, err := ParseRatio(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseRatio(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0:0", "-1:2", "a:b", "1.5", "NaN", "1:Inf", "Inf:1"} {
		if _, err := ParseRatio(in); err == nil {
			t.Errorf("ParseRatio(%q) accepted", in)
		}
	}
}

func TestParseRates(t *testing.T) {
	got, err := ParseRates("500, 2k,1.5k,1M")
	if err != nil || len(got) != 4 || got[0] != 500 || got[1] != 2000 || got[2] != 1500 || got[3] != 1e6 {
		t.Fatalf("%v %v", got, err)
	}
	for _, in := range []string{"", "0", "-5", "x", "1e9", ",,"} {
		if _, err := ParseRates(in); err == nil {
			t.Errorf("ParseRates(%q) accepted", in)
		}
	}
}

// FuzzParseRatio: an accepted ratio is a read fraction in [0, 1].
func FuzzParseRatio(f *testing.F) {
	for _, s := range []string{"9:1", "0.5", "1:0", "0:0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRatio(s)
		if err == nil && !(r >= 0 && r <= 1) {
			t.Fatalf("ParseRatio(%q) = %v", s, r)
		}
	})
}

// FuzzParseRates: accepted rates are all in (0, MaxRate], at most
// MaxSweepRates of them.
func FuzzParseRates(f *testing.F) {
	for _, s := range []string{"1000,2000", "5k", "1M", "", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRates(s)
		if err != nil {
			return
		}
		if len(rs) == 0 || len(rs) > MaxSweepRates {
			t.Fatalf("%d rates", len(rs))
		}
		for _, r := range rs {
			if !(r > 0 && r <= MaxRate) {
				t.Fatalf("ParseRates(%q) gave %v", s, r)
			}
		}
	})
}
