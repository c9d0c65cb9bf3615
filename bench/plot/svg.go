package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SVG builds one SVG document. Every string that reaches the output goes
// through escaping (text content and attribute values alike), so labels
// taken from user input (target names, workload names) cannot break the
// XML. Coordinates are in pixels from the top left corner.
type SVG struct {
	b    bytes.Buffer
	w, h int
}

// NewSVG starts a document of w x h pixels with a white background and a
// title (shown by viewers as the document's name).
func NewSVG(w, h int, title string) *SVG {
	s := &SVG{w: w, h: h}
	fmt.Fprintf(&s.b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`+"\n", w, h, w, h)
	s.b.WriteString("<title>")
	s.escape(title)
	s.b.WriteString("</title>\n")
	s.Rect(0, 0, float64(w), float64(h), Style{Fill: "#ffffff"})
	return s
}

// Style is how a shape is painted. Empty fields are left out ("none" for
// Fill when a shape should not be filled).
type Style struct {
	Fill        string
	Stroke      string
	StrokeWidth float64
	// Dash is an SVG stroke-dasharray, such as "6 4".
	Dash    string
	Opacity float64 // 0 = opaque
}

func (s *SVG) style(st Style) {
	if st.Fill != "" {
		s.attr("fill", st.Fill)
	}
	if st.Stroke != "" {
		s.attr("stroke", st.Stroke)
	}
	if st.StrokeWidth > 0 {
		s.attr("stroke-width", num(st.StrokeWidth))
	}
	if st.Dash != "" {
		s.attr("stroke-dasharray", st.Dash)
	}
	if st.Opacity > 0 && st.Opacity < 1 {
		s.attr("opacity", num(st.Opacity))
	}
}

// attr writes ` name="value"` with the value escaped.
func (s *SVG) attr(name, value string) {
	s.b.WriteByte(' ')
	s.b.WriteString(name)
	s.b.WriteString(`="`)
	s.escape(value)
	s.b.WriteByte('"')
}

func (s *SVG) escape(v string) {
	// xml.EscapeText escapes <, >, &, ' and ", and newlines; invalid
	// UTF-8 and control characters become U+FFFD.
	_ = xml.EscapeText(&s.b, []byte(v))
}

// Rect draws a rectangle.
func (s *SVG) Rect(x, y, w, h float64, st Style) {
	s.b.WriteString("<rect")
	s.attr("x", num(x))
	s.attr("y", num(y))
	s.attr("width", num(max(w, 0)))
	s.attr("height", num(max(h, 0)))
	s.style(st)
	s.b.WriteString("/>\n")
}

// Line draws a segment.
func (s *SVG) Line(x1, y1, x2, y2 float64, st Style) {
	s.b.WriteString("<line")
	s.attr("x1", num(x1))
	s.attr("y1", num(y1))
	s.attr("x2", num(x2))
	s.attr("y2", num(y2))
	s.style(st)
	s.b.WriteString("/>\n")
}

// Polyline draws connected segments through pts ([x, y] pairs).
func (s *SVG) Polyline(pts [][2]float64, st Style) {
	if len(pts) == 0 {
		return
	}
	var p strings.Builder
	for i, pt := range pts {
		if i > 0 {
			p.WriteByte(' ')
		}
		p.WriteString(num(pt[0]))
		p.WriteByte(',')
		p.WriteString(num(pt[1]))
	}
	s.b.WriteString("<polyline")
	s.attr("points", p.String())
	if st.Fill == "" {
		st.Fill = "none"
	}
	s.style(st)
	s.attr("stroke-linejoin", "round")
	s.b.WriteString("/>\n")
}

// Circle draws a disc.
func (s *SVG) Circle(cx, cy, r float64, st Style) {
	s.b.WriteString("<circle")
	s.attr("cx", num(cx))
	s.attr("cy", num(cy))
	s.attr("r", num(r))
	s.style(st)
	s.b.WriteString("/>\n")
}

// Anchor is a text's horizontal alignment.
type Anchor string

// Text anchors.
const (
	Start  Anchor = "start"
	Middle Anchor = "middle"
	End    Anchor = "end"
)

// Text writes t with its baseline at y. rotate turns it by degrees around
// (x, y) (-90 for a vertical axis title).
func (s *SVG) Text(x, y float64, t string, size float64, anchor Anchor, fill string, bold bool, rotate float64) {
	s.b.WriteString("<text")
	s.attr("x", num(x))
	s.attr("y", num(y))
	s.attr("font-size", num(size))
	s.attr("text-anchor", string(anchor))
	if fill != "" {
		s.attr("fill", fill)
	}
	if bold {
		s.attr("font-weight", "bold")
	}
	if rotate != 0 {
		s.attr("transform", fmt.Sprintf("rotate(%s %s %s)", num(rotate), num(x), num(y)))
	}
	s.b.WriteByte('>')
	s.escape(t)
	s.b.WriteString("</text>\n")
}

// Bytes closes the document and returns it. The SVG must not be used
// after.
func (s *SVG) Bytes() []byte {
	s.b.WriteString("</svg>\n")
	return s.b.Bytes()
}

// num formats a coordinate with at most two decimals (NaN and infinities,
// which no caller should pass, become 0 rather than invalid SVG).
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	t := strconv.FormatFloat(v, 'f', 2, 64)
	t = strings.TrimRight(t, "0")
	t = strings.TrimSuffix(t, ".")
	if t == "-0" || t == "" {
		return "0"
	}
	return t
}
