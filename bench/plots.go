package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cairndb/cairn/bench/plot"
)

// systemColors keeps a system's color the same in every chart.
var systemColors = map[string]string{SystemEtcd: plot.Palette[0], SystemRedis: plot.Palette[3], SystemCairn: plot.Palette[1]}

// colorOf picks a label's color: its system's, varied by level.
func colorOf(label string, i int) string {
	sys, level, _ := strings.Cut(label, "@")
	c, ok := systemColors[sys]
	if !ok {
		return plot.Color(i)
	}
	if level != "" && level != "ONE" {
		// cairn at other levels: the palette's later colors.
		return plot.Color(4 + i%5)
	}
	return c
}

// LatencyChart is one workload's latency percentiles per target (medians
// over rounds), on a log axis.
func LatencyChart(workload string, rows []*Row) plot.BarChart {
	c := plot.BarChart{
		Title:      "Latency: " + workload,
		Subtitle:   "median over rounds of each percentile; log scale",
		YLabel:     "latency (ms)",
		LogY:       true,
		Categories: []string{"p50", "p90", "p99", "p99.9", "max"},
	}
	for i, r := range rows {
		if r.Workload != workload || r.Runs == 0 {
			continue
		}
		c.Series = append(c.Series, plot.BarSeries{Name: fmt.Sprintf("%s (%s/s)", r.Label, plot.FormatValue(r.RPS)), Color: colorOf(r.Label, i),
			Values: []float64{r.P50, r.P90, r.P99, r.P999, r.Max}})
	}
	return c
}

// ThroughputChart is one workload's requests per second, second by
// second, one line per target and round.
func ThroughputChart(workload string, runs []Result) plot.LineChart {
	c := plot.LineChart{
		Title:    "Throughput over time: " + workload,
		Subtitle: "answered requests per second, each round (even rounds dashed)",
		XLabel:   "time since the start of the run (s)",
		YLabel:   "requests/s",
	}
	labels := map[string]int{}
	for _, r := range runs {
		if r.Spec.Name != workload || r.Sweep != "" || len(r.Series) == 0 {
			continue
		}
		if r.Spec.Kind == KindWatch {
			c.Subtitle = "puts answered per second, each round (even rounds dashed); every watcher receives each put"
			c.YLabel = "puts/s"
		}
		if _, ok := labels[r.Label()]; !ok {
			labels[r.Label()] = len(labels)
		}
		s := plot.Series{Name: r.Label(), Color: colorOf(r.Label(), labels[r.Label()]), Dashed: r.Round > 0 && r.Round%2 == 0}
		if r.Round > 0 {
			s.Name = fmt.Sprintf("%s round %d", r.Label(), r.Round)
		}
		// Steps: each point's rate holds over its whole interval.
		prev := 0.0
		for _, p := range r.Series {
			s.Points = append(s.Points, plot.XY{X: prev, Y: p.RPS}, plot.XY{X: p.T, Y: p.RPS})
			prev = p.T
		}
		if len(c.Series) < plot.MaxSeries {
			c.Series = append(c.Series, s)
		}
	}
	return c
}

// SweepChart is a workload's latency against achieved throughput: per
// target, one point per offered rate, the median over rounds of the
// achieved throughput and of the p99 (solid) and p50 (dashed) latency, in
// the order of the offered rate. Unpaced runs measure service time in a
// closed loop, not latency at a given load, so they are not points of the
// curve; their throughput (the target's maximum) is written in the legend.
func SweepChart(workload string, runs []Result) plot.LineChart {
	c := plot.LineChart{
		Title:    "Latency at load: " + workload,
		Subtitle: "a point per offered rate (median over rounds); solid p99, dashed p50; latency counted from each request's due time",
		XLabel:   "achieved throughput (requests/s)",
		YLabel:   "latency (ms)",
		LogY:     true,
	}
	type key struct {
		label string
		rate  float64
	}
	type acc struct{ x, p50, p99 []float64 }
	points := map[key]*acc{}
	rates := map[string][]float64{}
	unpaced := map[string][]float64{}
	var labels []string
	for _, r := range runs {
		if r.Spec.Name != workload || r.Requests == 0 {
			continue
		}
		lb := r.Label()
		t, l := r.Headline()
		if r.Spec.Rate == 0 {
			unpaced[lb] = append(unpaced[lb], t)
			continue
		}
		if _, ok := rates[lb]; !ok {
			labels = append(labels, lb)
		}
		k := key{lb, r.Spec.Rate}
		if points[k] == nil {
			points[k] = &acc{}
			rates[lb] = append(rates[lb], r.Spec.Rate)
		}
		a := points[k]
		a.x, a.p50, a.p99 = append(a.x, t), append(a.p50, l.P50), append(a.p99, l.P99)
	}
	for i, lb := range labels {
		sort.Float64s(rates[lb])
		name := lb
		if u := unpaced[lb]; len(u) > 0 {
			name = fmt.Sprintf("%s (unpaced %s/s)", lb, plot.FormatValue(median(u)))
		}
		p99 := plot.Series{Name: name + " p99", Color: colorOf(lb, i), Markers: true}
		p50 := plot.Series{Name: lb + " p50", Color: colorOf(lb, i), Markers: true, Dashed: true}
		for _, rate := range rates[lb] {
			a := points[key{lb, rate}]
			x := median(a.x)
			p99.Points = append(p99.Points, plot.XY{X: x, Y: median(a.p99)})
			p50.Points = append(p50.Points, plot.XY{X: x, Y: median(a.p50)})
		}
		c.Series = append(c.Series, p99, p50)
	}
	return c
}

// WritePlots writes the charts of rep into dir: latency-<workload>.svg and
// throughput-<workload>.svg for every workload, sweep-<workload>.svg for
// every swept one. It returns the files written.
func WritePlots(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rows := Summarize(rep.Runs)
	var files []string
	write := func(name string, render func() ([]byte, error)) error {
		b, err := render()
		if err != nil {
			return err
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		files = append(files, p)
		return nil
	}
	// Workloads in order of appearance; swept ones also get a sweep chart
	// (even when only paced runs of them exist).
	var names []string
	seen, swept := map[string]bool{}, map[string]bool{}
	for _, r := range rep.Runs {
		w := r.Spec.Name
		if r.Sweep != "" {
			w, swept[r.Sweep] = r.Sweep, true
		}
		if !seen[w] {
			seen[w] = true
			names = append(names, w)
		}
	}
	for _, w := range names {
		if err := write("latency-"+fileSafe(w)+".svg", LatencyChart(w, rows).Render); err != nil {
			return files, err
		}
		if err := write("throughput-"+fileSafe(w)+".svg", ThroughputChart(w, rep.Runs).Render); err != nil {
			return files, err
		}
		if swept[w] {
			if err := write("sweep-"+fileSafe(w)+".svg", SweepChart(w, rep.Runs).Render); err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// fileSafe keeps letters, digits, '-', '_' and '.'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
