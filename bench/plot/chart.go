package plot

import (
	"errors"
	"fmt"
	"math"
)

// Bounds of a chart.
const (
	MaxSeries = 32
	MaxPoints = 100_000
	// Width and Height are every chart's size in pixels.
	Width  = 960
	Height = 540
)

// Palette is the default colors of the series, in order (colorblind-safe
// Okabe-Ito, then greys).
var Palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#777777", "#BBBBBB"}

// Color returns the palette color of series i.
func Color(i int) string { return Palette[i%len(Palette)] }

// frame is the plot area of a chart and its surroundings.
const (
	left   = 90.0
	right  = Width - 230.0
	top    = 70.0
	bottom = Height - 70.0
)

// XY is one point of a line.
type XY struct{ X, Y float64 }

// Series is one line of a LineChart.
type Series struct {
	Name   string
	Color  string // "" = Color(index)
	Dashed bool
	// Markers draws a dot at every point (for sweeps, where each point is
	// a run).
	Markers bool
	Points  []XY
}

// LineChart draws series of points joined by lines.
type LineChart struct {
	Title, Subtitle string
	XLabel, YLabel  string
	LogX, LogY      bool
	Series          []Series
}

// Render returns the chart as an SVG document.
func (c LineChart) Render() ([]byte, error) {
	if len(c.Series) > MaxSeries {
		return nil, fmt.Errorf("plot: %d series, at most %d", len(c.Series), MaxSeries)
	}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		if len(s.Points) > MaxPoints {
			return nil, fmt.Errorf("plot: series %q has %d points, at most %d", s.Name, len(s.Points), MaxPoints)
		}
		for _, p := range s.Points {
			if !usable(p.X, c.LogX) || !usable(p.Y, c.LogY) {
				continue
			}
			xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
		}
	}
	doc := NewSVG(Width, Height, c.Title)
	header(doc, c.Title, c.Subtitle)
	if math.IsInf(xlo, 1) {
		noData(doc)
		return doc.Bytes(), nil
	}
	xs := newScale(xlo, xhi, c.LogX, left, right)
	ys := newScale(ylo, yhi, c.LogY, bottom, top)
	axes(doc, xs, ys, c.XLabel, c.YLabel)
	var legend []legendEntry
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = Color(i)
		}
		st := Style{Stroke: color, StrokeWidth: 2}
		if s.Dashed {
			st.Dash = "7 4"
		}
		var pts [][2]float64
		// A point the axes cannot show breaks the line in two.
		flush := func() {
			if len(pts) > 1 {
				doc.Polyline(pts, st)
			}
			pts = pts[:0]
		}
		for _, p := range s.Points {
			if !xs.shows(p.X) || !ys.shows(p.Y) {
				flush()
				continue
			}
			pts = append(pts, [2]float64{xs.at(p.X), ys.at(p.Y)})
			if s.Markers || len(s.Points) == 1 {
				doc.Circle(xs.at(p.X), ys.at(p.Y), 3.5, Style{Fill: color})
			}
		}
		flush()
		legend = append(legend, legendEntry{s.Name, color, s.Dashed})
	}
	drawLegend(doc, legend)
	return doc.Bytes(), nil
}

func usable(v float64, log bool) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && (!log || v > 0)
}

// BarSeries is one color of a BarChart: a value per category.
type BarSeries struct {
	Name   string
	Color  string // "" = Color(index)
	Values []float64
}

// BarChart draws, for each category, one bar per series side by side.
type BarChart struct {
	Title, Subtitle string
	YLabel          string
	LogY            bool
	Categories      []string
	Series          []BarSeries
}

// Render returns the chart as an SVG document.
func (c BarChart) Render() ([]byte, error) {
	if len(c.Series) > MaxSeries {
		return nil, fmt.Errorf("plot: %d series, at most %d", len(c.Series), MaxSeries)
	}
	if len(c.Categories) == 0 || len(c.Categories) > MaxPoints {
		return nil, errors.New("plot: a bar chart needs 1 to MaxPoints categories")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		if len(s.Values) != len(c.Categories) {
			return nil, fmt.Errorf("plot: series %q has %d values for %d categories", s.Name, len(s.Values), len(c.Categories))
		}
		for _, v := range s.Values {
			if usable(v, c.LogY) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	doc := NewSVG(Width, Height, c.Title)
	header(doc, c.Title, c.Subtitle)
	if math.IsInf(lo, 1) {
		noData(doc)
		return doc.Bytes(), nil
	}
	ys := newScale(lo, hi, c.LogY, bottom, top)
	axes(doc, scale{}, ys, "", c.YLabel)
	group := (right - left) / float64(len(c.Categories))
	n := max(len(c.Series), 1)
	bw := group * 0.8 / float64(n)
	for ci, name := range c.Categories {
		gx := left + float64(ci)*group
		doc.Text(gx+group/2, bottom+20, name, 13, Middle, "#222222", false, 0)
		for si, s := range c.Series {
			color := s.Color
			if color == "" {
				color = Color(si)
			}
			x := gx + group*0.1 + float64(si)*bw
			v := s.Values[ci]
			if !ys.shows(v) {
				doc.Rect(x+1, bottom-1, bw-2, 1, Style{Fill: color})
				continue
			}
			y := ys.at(v)
			doc.Rect(x+1, y, bw-2, bottom-y, Style{Fill: color})
			if bw >= 18 {
				doc.Text(x+bw/2, y-4, FormatValue(v), math.Min(11, bw/3), Middle, "#222222", false, 0)
			}
		}
	}
	var legend []legendEntry
	for i, s := range c.Series {
		color := s.Color
		if color == "" {
			color = Color(i)
		}
		legend = append(legend, legendEntry{s.Name, color, false})
	}
	drawLegend(doc, legend)
	return doc.Bytes(), nil
}

func header(doc *SVG, title, subtitle string) {
	doc.Text(left, 32, title, 18, Start, "#111111", true, 0)
	if subtitle != "" {
		doc.Text(left, 52, subtitle, 12, Start, "#555555", false, 0)
	}
}

func noData(doc *SVG) {
	doc.Rect(left, top, right-left, bottom-top, Style{Fill: "none", Stroke: "#999999"})
	doc.Text((left+right)/2, (top+bottom)/2, "no data", 16, Middle, "#999999", false, 0)
}

// axes draws the frame, the grid and the tick labels of ys, and of xs when
// it has ticks (a bar chart's x axis is its categories).
func axes(doc *SVG, xs, ys scale, xlabel, ylabel string) {
	grid := Style{Stroke: "#e4e4e4", StrokeWidth: 1}
	for _, t := range ys.ticks {
		y := ys.at(t)
		doc.Line(left, y, right, y, grid)
		doc.Text(left-8, y+4, FormatValue(t), 12, End, "#333333", false, 0)
	}
	for _, t := range xs.ticks {
		x := xs.at(t)
		doc.Line(x, top, x, bottom, grid)
		doc.Text(x, bottom+18, FormatValue(t), 12, Middle, "#333333", false, 0)
	}
	doc.Rect(left, top, right-left, bottom-top, Style{Fill: "none", Stroke: "#444444", StrokeWidth: 1})
	if xlabel != "" {
		doc.Text((left+right)/2, bottom+45, xlabel, 13, Middle, "#222222", false, 0)
	}
	if ylabel != "" {
		doc.Text(24, (top+bottom)/2, ylabel, 13, Middle, "#222222", false, -90)
	}
}

type legendEntry struct {
	name, color string
	dashed      bool
}

// drawLegend lists the series right of the plot area.
func drawLegend(doc *SVG, entries []legendEntry) {
	x, y := right+20, top+10
	for _, e := range entries {
		st := Style{Stroke: e.color, StrokeWidth: 3}
		if e.dashed {
			st.Dash = "7 4"
		}
		doc.Line(x, y, x+26, y, st)
		name := e.name
		if r := []rune(name); len(r) > 28 {
			name = string(r[:27]) + "…"
		}
		doc.Text(x+34, y+4, name, 12, Start, "#222222", false, 0)
		y += 20
	}
}
