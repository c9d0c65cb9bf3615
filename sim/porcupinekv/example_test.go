package porcupinekv_test

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/sim/porcupinekv"
)

// ExampleCheckLinearizable records a history with sim.History, leaving
// one write's outcome unknown, and checks it.
func ExampleCheckLinearizable() {
	var h sim.History
	put := h.Invoke(0, 0, porcupinekv.Input{Kind: porcupinekv.OpPut, Key: "x", Value: "1"})
	h.Complete(put, 10*time.Millisecond, porcupinekv.Output{})
	h.Invoke(1, 20*time.Millisecond, porcupinekv.Input{Kind: porcupinekv.OpPut, Key: "x", Value: "2"}) // timed out
	get := h.Invoke(0, 30*time.Millisecond, porcupinekv.Input{Kind: porcupinekv.OpGet, Key: "x"})
	h.Complete(get, 40*time.Millisecond, porcupinekv.Output{Value: "2", Found: true})

	ops := h.Operations(porcupinekv.Unknown())
	ok, details := porcupinekv.CheckLinearizable(ops, time.Minute, "")
	fmt.Println(ok, details)
	// Output: true linearizable: 3 ops on 1 keys
}
