package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Row is one workload on one target, summarised over its rounds: the
// median of each figure over the runs that ran (a run with an Error that
// answered nothing is left out and counted in Failed).
type Row struct {
	Workload string
	// Label is the target and level ("cairn@QUORUM").
	Label  string
	Target string
	// Anchor is the row the others of the workload are compared with
	// (etcd for the strong tier, Redis for the eventual tier), nil for
	// the anchor itself or when there is none.
	Anchor *Row
	Runs   int
	Failed int
	// Errors is the failed requests, summed over the runs.
	Errors                        int64
	RPS, P50, P90, P99, P999, Max float64
	// CPUPerOp is the servers' CPU per request in microseconds (NaN when
	// bench did not start the servers).
	CPUPerOp float64
	// LastError is the error of the last failed run.
	LastError string
}

// Summarize groups runs by workload and label (sweep runs left out), in
// the order they first appear, and takes medians over rounds.
func Summarize(runs []Result) []*Row {
	type key struct{ w, l string }
	var order []key
	groups := map[key][]*Result{}
	for i := range runs {
		r := &runs[i]
		if r.Sweep != "" {
			continue
		}
		k := key{r.Spec.Name, r.Label()}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var rows []*Row
	anchors := map[string]*Row{}
	for _, k := range order {
		row := &Row{Workload: k.w, Label: k.l, CPUPerOp: math.NaN()}
		var rps, p50, p90, p99, p999, mx, cpu []float64
		for _, r := range groups[k] {
			row.Target = r.Target
			row.Errors += r.Errors
			if r.Error != "" && r.Requests == 0 {
				row.Failed++
				row.LastError = r.Error
				continue
			}
			row.Runs++
			t, l := r.Headline()
			rps, p50, p90, p99, p999, mx = append(rps, t), append(p50, l.P50), append(p90, l.P90), append(p99, l.P99), append(p999, l.P999), append(mx, l.Max)
			if r.Server != nil {
				cpu = append(cpu, r.Server.CPUPerOpMicros)
			}
		}
		row.RPS, row.P50, row.P90, row.P99, row.P999, row.Max = median(rps), median(p50), median(p90), median(p99), median(p999), median(mx)
		if len(cpu) > 0 {
			row.CPUPerOp = median(cpu)
		}
		if (row.Target == SystemEtcd || row.Target == SystemRedis) && anchors[k.w] == nil {
			anchors[k.w] = row
		}
		rows = append(rows, row)
	}
	for _, r := range rows {
		if a := anchors[r.Workload]; a != nil && a != r {
			r.Anchor = a
		}
	}
	return groupByWorkload(rows)
}

// groupByWorkload keeps the first-appearance order of workloads but puts
// all rows of a workload together, its anchor first.
func groupByWorkload(rows []*Row) []*Row {
	var names []string
	by := map[string][]*Row{}
	for _, r := range rows {
		if _, ok := by[r.Workload]; !ok {
			names = append(names, r.Workload)
		}
		by[r.Workload] = append(by[r.Workload], r)
	}
	out := make([]*Row, 0, len(rows))
	for _, n := range names {
		rs := by[n]
		slices.SortStableFunc(rs, func(a, b *Row) int { return boolInt(a.Anchor != nil) - boolInt(b.Anchor != nil) })
		out = append(out, rs...)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// median of xs (NaN when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratio is a/b formatted, "-" when either is missing.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func cell(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// WriteTable prints the rows: medians of throughput (req/s; events/s for
// watch), latency (ms) and server CPU per request, and each row's ratios to
// its workload's anchor (x = target / anchor).
func WriteTable(w io.Writer, rows []*Row) {
	fmt.Fprintf(w, "%-14s %-14s %4s %10s %9s %9s %9s %9s %9s %8s %7s | %7s %7s %7s %7s\n",
		"workload", "target", "runs", "req/s", "p50", "p90", "p99", "p99.9", "max", "cpu/op", "errors", "x req/s", "x p50", "x p99", "x cpu")
	prev := ""
	for _, r := range rows {
		if prev != "" && r.Workload != prev {
			fmt.Fprintln(w)
		}
		prev = r.Workload
		runs := fmt.Sprint(r.Runs)
		if r.Failed > 0 {
			runs = fmt.Sprintf("%d/%d", r.Runs, r.Runs+r.Failed)
		}
		fmt.Fprintf(w, "%-14s %-14s %4s %10s %9s %9s %9s %9s %9s %8s %7d",
			trunc(r.Workload, 14), trunc(r.Label, 14), runs, cell(r.RPS, 0), cell(r.P50, 2), cell(r.P90, 2), cell(r.P99, 2), cell(r.P999, 2), cell(r.Max, 2), cell(r.CPUPerOp, 0), r.Errors)
		if a := r.Anchor; a != nil {
			fmt.Fprintf(w, " | %7s %7s %7s %7s", ratio(r.RPS, a.RPS), ratio(r.P50, a.P50), ratio(r.P99, a.P99), ratio(r.CPUPerOp, a.CPUPerOp))
		}
		if r.Runs == 0 && r.LastError != "" {
			fmt.Fprintf(w, "  FAILED: %s", trunc(oneLine(r.LastError), 120))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "(medians over rounds; latency in ms, cpu/op = server CPU per request in us; watch rows: events/s and put->event latency;")
	fmt.Fprintln(w, " x = target / anchor, where the anchor is etcd (strong tier) or redis (eventual tier): x req/s > 1 means faster, x p50/p99/cpu > 1 slower)")
}

// WriteMemoryTable prints the memory measurements.
func WriteMemoryTable(w io.Writer, ms []MemoryResult) {
	if len(ms) == 0 {
		return
	}
	fmt.Fprintf(w, "%-8s %-9s %-7s %5s %8s %10s %12s %12s %14s %14s\n", "system", "tier", "level", "nodes", "keys", "key+value", "RSS B/key", "disk B/key", "RSS B/key/node", "disk B/key/node")
	for _, m := range ms {
		if m.Error != "" {
			fmt.Fprintf(w, "%-8s %-9s %-7s FAILED: %s\n", m.System, m.Tier, m.Consistency, trunc(oneLine(m.Error), 120))
			continue
		}
		fmt.Fprintf(w, "%-8s %-9s %-7s %5d %8d %10d %12.0f %12.0f %14.0f %14.0f\n", m.System, m.Tier, m.Consistency, m.Nodes, m.Keys,
			m.KeySize+m.ValueSize, m.RSSPerKey, m.DiskPerKey, m.RSSPerKeyPerNode, m.DiskPerKeyPerNode)
	}
	fmt.Fprintln(w, "(growth after writing the keys, over all members; RSS includes garbage the Go runtime has not returned, disk counts allocated blocks)")
}

func trunc(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
