package bench

import (
	"encoding/json"
	"errors"
	"fmt"
)

// histogramJSON is a Histogram on the wire: only the non-empty buckets,
// as [index, count] pairs in increasing index order, with the exact min,
// max and sum in nanoseconds. sub_bits names the layout so that a reader
// with another layout refuses the data instead of misreading it.
type histogramJSON struct {
	SubBits int         `json:"sub_bits"`
	MinNS   int64       `json:"min_ns"`
	MaxNS   int64       `json:"max_ns"`
	SumNS   int64       `json:"sum_ns"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON encodes the histogram sparsely (see histogramJSON).
func (h *Histogram) MarshalJSON() ([]byte, error) {
	out := histogramJSON{SubBits: subBits, MinNS: h.min, MaxNS: h.max, SumNS: h.sum, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			out.Buckets = append(out.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON wrote. It refuses another layout,
// bucket indexes out of range or out of order, empty buckets, a count
// total that overflows, and min/max that contradict the buckets, so a
// decoded histogram always answers Quantile within [Min, Max].
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var in histogramJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in.SubBits != subBits {
		return fmt.Errorf("histogram: sub_bits %d, this reader knows %d", in.SubBits, subBits)
	}
	var next Histogram
	last := -1
	for _, bc := range in.Buckets {
		if bc[0] >= uint64(histogramBuckets) {
			return fmt.Errorf("histogram: bucket %d out of range (max %d)", bc[0], histogramBuckets-1)
		}
		i := int(bc[0])
		if i <= last {
			return errors.New("histogram: buckets not in increasing order")
		}
		if bc[1] == 0 {
			return errors.New("histogram: empty bucket listed")
		}
		if next.total+bc[1] < next.total {
			return errors.New("histogram: count overflows")
		}
		if i >= len(next.counts) {
			next.grow(i + 1)
		}
		next.counts[i] = bc[1]
		next.total += bc[1]
		last = i
	}
	if next.total == 0 {
		if in.MinNS != 0 || in.MaxNS != 0 || in.SumNS != 0 {
			return errors.New("histogram: no buckets but non-zero min, max or sum")
		}
		*h = next
		return nil
	}
	if in.MinNS < 0 || in.MaxNS < in.MinNS || in.SumNS < 0 {
		return errors.New("histogram: min, max or sum out of range")
	}
	// The exact min and max must fall in the first and last buckets.
	first := 0
	for next.counts[first] == 0 {
		first++
	}
	if bucketIndex(min(in.MinNS, int64(HistogramMaxValue)-1)) != first || bucketIndex(min(in.MaxNS, int64(HistogramMaxValue)-1)) != last {
		return errors.New("histogram: min or max outside the first or last bucket")
	}
	next.min, next.max, next.sum = in.MinNS, in.MaxNS, in.SumNS
	*h = next
	return nil
}
