package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"sort"
	"time"

	"github.com/cairndb/cairn/verify/history"
	"github.com/cairndb/cairn/verify/nemesis"
)

// Bounds of the HTML page.
const (
	// MaxPoints bounds the operations drawn in the latency chart.
	MaxPoints = 20000
	// MaxTableOps bounds the operations listed in the history table.
	MaxTableOps = 3000
)

// Chart geometry, in SVG pixels.
const (
	chartW, chartH = 1200.0, 360.0
	padL, padB     = 60.0, 30.0
	padT           = 20.0
)

type point struct {
	X, Y  float64
	Class string
	Title string
}

type band struct {
	X, W  float64
	Class string
	Title string
	Row   int
}

type tick struct {
	Pos   float64
	Label string
}

type page struct {
	*Report
	Width, Height, PlotH, PadL, PadT float64
	Points                           []point
	Bands                            []band
	XTicks, YTicks                   []tick
	Table                            []history.Op
	TableNote                        string
	Artifacts                        []string
}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	p := &page{Report: r, Width: chartW, Height: chartH, PlotH: chartH - padB - padT, PadL: padL, PadT: padT}
	end := r.Duration
	for _, op := range r.Ops {
		end = max(end, op.Return)
	}
	for _, e := range r.Events {
		end = max(end, e.End)
	}
	if end <= 0 {
		end = time.Second
	}
	x := func(d time.Duration) float64 { return padL + (chartW-padL-10)*float64(d)/float64(end) }
	// Latency on a log scale from 100 µs to twice the op timeout.
	lo, hi := math.Log10(1e-4), math.Log10(2*max(r.OpTimeout, time.Second).Seconds())
	y := func(d time.Duration) float64 {
		v := math.Log10(max(d.Seconds(), 1e-4))
		return padT + p.PlotH*(1-(min(v, hi)-lo)/(hi-lo))
	}
	for _, op := range sample(r.Ops, MaxPoints) {
		p.Points = append(p.Points, point{X: x(op.Call), Y: y(op.Latency()), Class: op.Outcome.String(),
			Title: fmt.Sprintf("%s %s c%d: %s (%v)", op.Workload, op.Kind, op.Client, op.Desc, op.Latency().Round(time.Microsecond))})
	}
	for i, e := range r.Events {
		stop := e.End
		if stop == 0 {
			stop = end
		}
		p.Bands = append(p.Bands, band{X: x(e.Start), W: max(1, x(stop)-x(e.Start)), Class: e.Kind.String(),
			Title: fmt.Sprintf("%.1fs-%.1fs %s: %s %s", e.Start.Seconds(), stop.Seconds(), e.Kind, e.Desc, e.Err), Row: i % 3})
	}
	step := niceStep(end)
	for t := time.Duration(0); t <= end; t += step {
		p.XTicks = append(p.XTicks, tick{Pos: x(t), Label: fmt.Sprintf("%gs", t.Seconds())})
	}
	for _, d := range []time.Duration{100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second} {
		if v := math.Log10(d.Seconds()); v >= lo && v <= hi {
			p.YTicks = append(p.YTicks, tick{Pos: y(d), Label: d.String()})
		}
	}
	p.Table, p.TableNote = tableOps(r.Ops, MaxTableOps)
	for _, res := range r.Results {
		for _, a := range res.Artifacts {
			p.Artifacts = append(p.Artifacts, filepath.Base(a))
		}
	}
	return pageTemplate.Execute(w, p)
}

// niceStep picks a tick spacing giving about ten ticks.
func niceStep(end time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute} {
		if end/s <= 12 {
			return s
		}
	}
	return 30 * time.Minute
}

// sample returns at most n ops: every op that did not end OK, then an
// even sample of the rest.
func sample(ops []history.Op, n int) []history.Op {
	if len(ops) <= n {
		return ops
	}
	var bad, good []history.Op
	for _, op := range ops {
		if op.Outcome != history.OK {
			bad = append(bad, op)
		} else {
			good = append(good, op)
		}
	}
	if len(bad) >= n {
		return bad[:n]
	}
	room := n - len(bad)
	out := bad
	for i := 0; i < room; i++ {
		out = append(out, good[i*len(good)/room])
	}
	return out
}

// tableOps returns the ops for the table, by call time, with a note if
// some were left out.
func tableOps(ops []history.Op, n int) ([]history.Op, string) {
	out := append([]history.Op(nil), sample(ops, n)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	note := ""
	if len(ops) > n {
		note = fmt.Sprintf("%d of %d operations shown (every one that did not end OK, then an even sample); history.jsonl has them all.", len(out), len(ops))
	}
	return out, note
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs":  func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) },
	"ms":    func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) },
	"event": func(e nemesis.Event) string { return formatEvent(e) },
	"add":   func(a, b float64) float64 { return a + b },
	"rowY":  func(row int) float64 { return 2 + float64(row)*6 },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>cairn verify: {{.Verdict}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1 .PASS{color:#167a2e}h1 .FAIL{color:#b3261e}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
td.PASS{color:#167a2e;font-weight:bold}td.FAIL{color:#b3261e;font-weight:bold}td.SKIP{color:#8a6d00;font-weight:bold}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}
circle.ok{fill:#2e7d32;fill-opacity:.5}circle.fail{fill:#ef6c00}circle.unknown{fill:#c62828}
rect.kill{fill:#c62828}rect.pause{fill:#6a1b9a}rect.partition{fill:#1565c0}rect.loss{fill:#ef6c00}rect.delay{fill:#f9a825}rect.member{fill:#00838f}
rect.band{fill-opacity:.13}
.legend span{display:inline-block;margin-right:1em}
tr.unknown td{background:#fdecea}tr.fail td{background:#fff4e5}
</style></head><body>
<h1>cairn verify: <span class="{{.Verdict}}">{{.Verdict}}</span></h1>
<p>{{.Target}}<br>workloads {{range $i, $w := .Workloads}}{{if $i}}, {{end}}{{$w}}{{end}}; nemesis {{.Nemeses}}; seed {{.Seed}}; ran {{.Duration}}; started {{.Start.Format "2006-01-02 15:04:05 MST"}}</p>
<p>repeat with: <code>{{.Command}}</code></p>
<h2>Verdicts</h2>
<table><tr><th>verdict</th><th>checker</th><th>summary and details</th></tr>
{{range .Results}}<tr><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{.Checker}}</td><td>{{.Summary}}{{if .Details}}<pre>{{range .Details}}{{.}}
{{end}}</pre>{{end}}{{range .Artifacts}}<br>see <a href="{{.}}">{{.}}</a>{{end}}</td></tr>
{{end}}</table>
{{range .Notes}}<p>note: {{.}}</p>{{end}}
<h2>Latency over time</h2>
<p class="legend"><span style="color:#2e7d32">● ok</span><span style="color:#ef6c00">● failed (no effect)</span><span style="color:#c62828">● unknown outcome</span>
bands: <span style="color:#c62828">kill</span><span style="color:#6a1b9a">pause</span><span style="color:#1565c0">partition</span><span style="color:#ef6c00">loss</span><span style="color:#f9a825">delay</span><span style="color:#00838f">member</span> (hover for details)</p>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg" style="border:1px solid #ddd">
{{range .Bands}}<rect class="band {{.Class}}" x="{{.X}}" y="{{$.PadT}}" width="{{.W}}" height="{{$.PlotH}}"><title>{{.Title}}</title></rect>
<rect class="{{.Class}}" x="{{.X}}" y="{{rowY .Row}}" width="{{.W}}" height="5"><title>{{.Title}}</title></rect>
{{end}}{{range .YTicks}}<line x1="{{$.PadL}}" x2="{{$.Width}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#eee"/><text x="4" y="{{.Pos}}" font-size="11">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="{{$.Height}}" dy="-8" font-size="11" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Points}}<circle class="{{.Class}}" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="1.6"><title>{{.Title}}</title></circle>
{{end}}</svg>
<h2>Faults</h2>
<pre>{{range .Events}}{{event .}}
{{else}}none
{{end}}</pre>
{{if .Artifacts}}<h2>Linearizability</h2><p>{{range .Artifacts}}Porcupine's visualization: <a href="{{.}}">{{.}}</a> {{end}}</p>{{end}}
<h2>History</h2>
<p>{{.TableNote}} Times in seconds since the start; latency in ms.</p>
<table><tr><th>call</th><th>return</th><th>ms</th><th>workload</th><th>client</th><th>member</th><th>op</th><th>outcome</th><th>description</th></tr>
{{range .Table}}<tr class="{{.Outcome}}"><td>{{secs .Call}}</td><td>{{secs .Return}}</td><td>{{ms .Latency}}</td><td>{{.Workload}}</td><td>{{.Client}}</td><td>{{.Node}}</td><td>{{.Kind}}</td><td>{{.Outcome}}</td><td>{{.Desc}}</td></tr>
{{end}}</table>
</body></html>
`))
