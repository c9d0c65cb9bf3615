package porcupinekv_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

// BenchmarkCheckLinearizable checks a linearizable history of n operations
// by 3 overlapping clients on 3 keys, every tenth write's outcome unknown.
func BenchmarkCheckLinearizable(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			var h sim.History
			values := map[string]string{}
			for i := range n {
				key := string(rune('a' + i%3))
				at := time.Duration(i) * time.Millisecond
				if i%2 == 0 {
					id := h.Invoke(i%3, at, porcupinekv.Input{Kind: porcupinekv.OpPut, Key: key, Value: fmt.Sprint(i)})
					values[key] = fmt.Sprint(i)
					if i%10 != 0 {
						h.Complete(id, at+2*time.Millisecond, porcupinekv.Output{})
					}
					continue
				}
				v, ok := values[key]
				id := h.Invoke(i%3, at, porcupinekv.Input{Kind: porcupinekv.OpGet, Key: key})
				h.Complete(id, at+2*time.Millisecond, porcupinekv.Output{Value: v, Found: ok})
			}
			ops := h.Operations(porcupinekv.Unknown())
			b.ReportAllocs()
			for b.Loop() {
				if ok, details := porcupinekv.CheckLinearizable(ops, time.Minute, ""); !ok {
					b.Fatal(details)
				}
			}
		})
	}
}
