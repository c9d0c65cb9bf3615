package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormed parses doc with encoding/xml to the end and returns the root
// element's name and all text content.
func wellFormed(t *testing.T, doc []byte) (root string, text string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var sb strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = x.Name.Local
				if x.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root namespace %q", x.Name.Space)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			sb.Write(x)
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements (depth %d at the end)", depth)
	}
	return root, sb.String()
}

// hostile is a label with every character XML treats specially.
const hostile = `a<b>&c"d'e]]>` + "\x01\u00e9\u2603"

func TestLineChartIsWellFormedAndKeepsLabels(t *testing.T) {
	c := LineChart{
		Title: "t " + hostile, Subtitle: hostile, XLabel: hostile, YLabel: hostile, LogY: true,
		Series: []Series{
			{Name: "s1 " + hostile, Points: []XY{{0, 1}, {1, 10}, {2, 0}, {3, math.NaN()}, {4, math.Inf(1)}, {5, 1000}}},
			{Name: "s2", Dashed: true, Markers: true, Points: []XY{{0, 5}}},
			{Name: "empty"},
		},
	}
	doc, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	root, text := wellFormed(t, doc)
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	if !strings.Contains(text, "s1 a<b>&c\"d'e]]>") {
		t.Fatalf("the series name did not survive escaping: %q", text)
	}
	if strings.Contains(string(doc), "NaN") || strings.Contains(string(doc), "Inf") {
		t.Fatal("a NaN or infinite value reached the document")
	}
}

func TestBarChartIsWellFormed(t *testing.T) {
	c := BarChart{
		Title: hostile, YLabel: "ms", LogY: true, Categories: []string{"p50", hostile},
		Series: []BarSeries{{Name: "etcd", Values: []float64{1.5, 20}}, {Name: hostile, Values: []float64{0, math.NaN()}}},
	}
	doc, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	if root, text := wellFormed(t, doc); root != "svg" || !strings.Contains(text, "1.5") || !strings.Contains(text, "20") {
		t.Fatalf("root %q, text %q: want the bar values written", root, text)
	}
	c.Series[0].Values = []float64{1}
	if _, err := c.Render(); err == nil {
		t.Fatal("a series with too few values rendered")
	}
}

func TestChartsWithoutDataSaySo(t *testing.T) {
	for _, r := range []func() ([]byte, error){
		LineChart{Title: "x"}.Render,
		LineChart{Title: "x", LogX: true, Series: []Series{{Points: []XY{{0, 1}, {-1, 2}}}}}.Render,
		BarChart{Title: "x", Categories: []string{"a"}, LogY: true, Series: []BarSeries{{Values: []float64{0}}}}.Render,
	} {
		doc, err := r()
		if err != nil {
			t.Fatal(err)
		}
		if _, text := wellFormed(t, doc); !strings.Contains(text, "no data") {
			t.Fatalf("chart without data does not say so: %q", text)
		}
	}
}

func TestChartBounds(t *testing.T) {
	many := make([]Series, MaxSeries+1)
	if _, err := (LineChart{Series: many}).Render(); err == nil {
		t.Fatal("rendered more than MaxSeries series")
	}
	if _, err := (LineChart{Series: []Series{{Points: make([]XY, MaxPoints+1)}}}).Render(); err == nil {
		t.Fatal("rendered more than MaxPoints points")
	}
}

func TestScalesCoverTheDataWithNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		log    bool
	}{{0, 1, false}, {3, 97, false}, {0.2, 0.7, false}, {1200, 48000, false}, {0.05, 7000, true}, {0.3, 0.9, true}, {5, 5, true}, {5, 5, false}} {
		s := newScale(tc.lo, tc.hi, tc.log, 0, 100)
		if s.lo > tc.lo || s.hi < tc.hi {
			t.Errorf("%+v: scale [%v, %v] does not cover the data", tc, s.lo, s.hi)
		}
		if len(s.ticks) < 2 || len(s.ticks) > 16 {
			t.Errorf("%+v: %d ticks %v", tc, len(s.ticks), s.ticks)
		}
		for _, v := range s.ticks {
			m := v / math.Pow(10, math.Floor(math.Log10(math.Abs(v))))
			if v != 0 && math.Abs(m-math.Round(m)) > 1e-9 {
				t.Errorf("%+v: tick %v is not a round number", tc, v)
			}
			if p := s.at(v); p < -1e-9 || p > 100+1e-9 {
				t.Errorf("%+v: tick %v at pixel %v, outside the axis", tc, v, p)
			}
		}
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.25: "0.25", 1.234: "1.23", 999: "999", 12000: "12k", 1500000: "1.5M", 0.0004: "0.0004", -3: "-3", math.NaN(): "-"} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}
