package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MaxSweepRates bounds the rates of one sweep.
const MaxSweepRates = 64

// Sweep runs spec once unpaced (its rate as given, usually 0: as fast as
// the clients go) and then at each of rates, for a throughput-against-
// latency curve. Every run is returned, failed ones with Error set; the
// sweep stops early only when ctx ends.
func Sweep(ctx context.Context, spec Spec, t Target, rates []float64, opts RunOptions) ([]Result, error) {
	if len(rates) == 0 || len(rates) > MaxSweepRates {
		return nil, fmt.Errorf("sweep: 1 to %d rates", MaxSweepRates)
	}
	var out []Result
	all := append([]float64{spec.Rate}, rates...)
	for i, rate := range all {
		s := spec
		s.Rate = rate
		res, _ := Run(ctx, s, t, opts)
		if i > 0 {
			res.Sweep = spec.Name
			if res.Sweep == "" {
				res.Sweep = string(spec.Kind)
			}
		}
		out = append(out, *res)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// ParseRates parses a comma-separated list of positive rates ("1000,2000,
// 5k" with k and M suffixes).
func ParseRates(s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mult := 1.0
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1e3, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "M"):
			mult, f = 1e6, strings.TrimSuffix(f, "M")
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v*mult > 0) || v*mult > MaxRate {
			return nil, fmt.Errorf("rate %q: want a number in (0, %d] (k and M suffixes allowed)", f, MaxRate)
		}
		out = append(out, v*mult)
	}
	if len(out) == 0 || len(out) > MaxSweepRates {
		return nil, fmt.Errorf("rates %q: want 1 to %d comma-separated rates", s, MaxSweepRates)
	}
	return out, nil
}
