package gossipsim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SizeFigures are the medians over seeds of the join, crash and partition
// measurements for one cluster size, in probe periods.
type SizeFigures struct {
	Nodes, Seeds int
	Join         JoinResult
	Crash        CrashResult
	// Partition is measured only when asked (it is the slowest).
	Partition *PartitionResult
	// MsgsPerNodeRound is the steady-state traffic at 1% loss.
	MsgsPerNodeRound float64
	// Goal is log2(N)+4 rounds.
	Goal float64
	// MinSuspicion is the minimum suspicion timeout in rounds.
	MinSuspicion float64
}

// MeasureSize runs MeasureJoin, MeasureCrash and, if partition is set,
// MeasurePartition on seeds 1..seeds at 1% loss, plus a short
// false-positive run for the message rate.
func MeasureSize(nodes, seeds int, partition bool) (SizeFigures, error) {
	f := SizeFigures{Nodes: nodes, Seeds: seeds, Goal: math.Log2(float64(nodes)) + 4}
	cfg := SimConfig(1, 0)
	f.MinSuspicion = float64(cfg.SuspicionMult) * math.Max(1, math.Log10(float64(nodes)))
	var joins, joiners, first, allSusp, firstDead, allDead, split, healed []float64
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		s := Scenario{Seed: seed, Nodes: nodes, Variant: Lifeguard, Drop: 0.01}
		j, err := MeasureJoin(s)
		if err != nil {
			return f, fmt.Errorf("n=%d seed %d: join: %w", nodes, seed, err)
		}
		joins, joiners = append(joins, j.KnownByAll), append(joiners, j.JoinerKnowsAll)
		c, err := MeasureCrash(s)
		if err != nil {
			return f, fmt.Errorf("n=%d seed %d: crash: %w", nodes, seed, err)
		}
		first, allSusp = append(first, c.FirstSuspect), append(allSusp, c.AllSuspect)
		firstDead, allDead = append(firstDead, c.FirstDead), append(allDead, c.AllDead)
		if partition {
			p, err := MeasurePartition(s)
			if err != nil {
				return f, fmt.Errorf("n=%d seed %d: partition: %w", nodes, seed, err)
			}
			split, healed = append(split, p.SplitDead), append(healed, p.Healed)
		}
	}
	f.Join = JoinResult{KnownByAll: median(joins), JoinerKnowsAll: median(joiners)}
	f.Crash = CrashResult{FirstSuspect: median(first), AllSuspect: median(allSusp), FirstDead: median(firstDead), AllDead: median(allDead)}
	if partition {
		f.Partition = &PartitionResult{SplitDead: median(split), Healed: median(healed)}
	}
	fp, err := MeasureFalsePositives(Scenario{Seed: 1, Nodes: nodes, Variant: Lifeguard, Drop: 0.01, Rounds: 30})
	if err != nil {
		return f, err
	}
	f.MsgsPerNodeRound = fp.MsgsPerNodeRound
	return f, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// SizeTable formats figures as a Markdown table.
func SizeTable(fs []SizeFigures) string {
	var b strings.Builder
	b.WriteString("| nodes | seeds | join known by all | joiner knows all | first suspect | crash suspected by all | first dead | crash dead at all | min suspicion | log2(N)+4 | split: sides dead | heal: converged | msgs/node/round |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range fs {
		split, heal := "—", "—"
		if f.Partition != nil {
			split, heal = fmt.Sprintf("%.1f", f.Partition.SplitDead), fmt.Sprintf("%.1f", f.Partition.Healed)
		}
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %s | %s | %.2f |\n",
			f.Nodes, f.Seeds, f.Join.KnownByAll, f.Join.JoinerKnowsAll, f.Crash.FirstSuspect, f.Crash.AllSuspect,
			f.Crash.FirstDead, f.Crash.AllDead, f.MinSuspicion, f.Goal, split, heal, f.MsgsPerNodeRound)
	}
	return b.String()
}

// FPRow is one line of the false-positive comparison.
type FPRow struct {
	Scenario string
	Detector string
	// Declared and Healthy are false verdicts per node-hour: all of them,
	// and those about members that were never slow or paused.
	Declared, Healthy float64
	// Episodes is distinct false deaths per node-hour (gossip only).
	Episodes float64
	// Msgs is messages per node per period.
	Msgs float64
}

// NamedScenario is a scenario of the false-positive comparison.
type NamedScenario struct {
	Name string
	Scenario
}

// FPScenarios are the conditions of the false-positive comparison, for n
// nodes and rounds probe periods.
func FPScenarios(n, rounds int) []NamedScenario {
	base := Scenario{Nodes: n, Rounds: rounds, Drop: 0.01}
	loss5, loss10 := base, base
	loss5.Drop, loss10.Drop = 0.05, 0.10
	slow := base
	slow.Slow, slow.SlowDelay = max(1, n/20), 300*time.Millisecond
	pause := base
	pause.PauseEvery, pause.PauseRounds = 5, 3
	return []NamedScenario{
		{"1% loss", base}, {"5% loss", loss5}, {"10% loss", loss10},
		{fmt.Sprintf("%d slow nodes (+300 ms each way), 1%% loss", slow.Slow), slow},
		{"a 3-period pause every 5 periods, 1% loss", pause},
	}
}

// MeasureFPTable runs every scenario with each gossip variant and the
// heartbeat baseline at two timeouts (3 periods, the classic, and
// matchRounds, about the gossip's own crash detection time).
func MeasureFPTable(n, rounds int, seed uint64, matchRounds int) ([]FPRow, error) {
	var rows []FPRow
	for _, ns := range FPScenarios(n, rounds) {
		s := ns.Scenario
		s.Seed = seed
		for _, v := range []Variant{Lifeguard, SWIM} {
			s.Variant = v
			r, err := MeasureFalsePositives(s)
			if err != nil {
				return nil, fmt.Errorf("%s, %v: %w", ns.Name, v, err)
			}
			rows = append(rows, FPRow{Scenario: ns.Name, Detector: v.String(), Declared: float64(r.Declared) / r.NodeHours,
				Healthy: float64(r.HealthyDeclared) / r.NodeHours, Episodes: r.PerNodeHour(), Msgs: r.MsgsPerNodeRound})
		}
		for _, timeout := range []int{3, matchRounds} {
			r, err := MeasureHeartbeat(s, timeout)
			if err != nil {
				return nil, err
			}
			rows = append(rows, FPRow{Scenario: ns.Name, Detector: fmt.Sprintf("heartbeat, %d-period timeout", timeout),
				Declared: float64(r.FalseVerdicts) / r.NodeHours, Healthy: float64(r.Healthy) / r.NodeHours,
				Episodes: math.NaN(), Msgs: r.MsgsPerNodeRound})
		}
	}
	return rows, nil
}

// FPTable formats rows as a Markdown table.
func FPTable(rows []FPRow) string {
	var b strings.Builder
	b.WriteString("| scenario | detector | false verdicts /node-hour | about healthy nodes | false deaths (episodes) /node-hour | msgs/node/period |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ep := "—"
		if !math.IsNaN(r.Episodes) {
			ep = fmt.Sprintf("%.3f", r.Episodes)
		}
		fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f | %s | %.2f |\n", r.Scenario, r.Detector, r.Declared, r.Healthy, ep, r.Msgs)
	}
	return b.String()
}
