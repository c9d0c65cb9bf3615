package detector_test

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/detector"
)

// A gossip driver records each heartbeat with the time it arrived and asks
// whether a member is available with the time of the question. Here the
// clock is simulated; in a node it is time.Now.
func ExamplePhiAccrual() {
	d, err := detector.NewPhiAccrual[string](detector.DefaultPhiAccrualConfig())
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// About one heartbeat a second for a minute, with some jitter.
	jitter := []time.Duration{0, 150 * time.Millisecond, -100 * time.Millisecond, 50 * time.Millisecond}
	var last time.Time
	for i := range 60 {
		last = start.Add(time.Duration(i)*time.Second + jitter[i%len(jitter)])
		if err := d.Heartbeat("node-2", last); err != nil {
			panic(err)
		}
	}
	for _, silence := range []time.Duration{time.Second, 2 * time.Second, 2500 * time.Millisecond, 3 * time.Second} {
		now := last.Add(silence)
		fmt.Printf("silent %v: phi %.1f, available %v\n", silence, d.Suspicion("node-2", now), d.Available("node-2", now))
	}
	// Output:
	// silent 1s: phi 0.0, available true
	// silent 2s: phi 0.3, available true
	// silent 2.5s: phi 2.8, available true
	// silent 3s: phi 10.2, available false
}

func ExampleFixedTimeout() {
	d, err := detector.NewFixedTimeout[uint64](detector.DefaultFixedTimeoutConfig())
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := d.Heartbeat(2, start); err != nil {
		panic(err)
	}
	for _, silence := range []time.Duration{4 * time.Second, 5 * time.Second} {
		fmt.Printf("silent %v: available %v\n", silence, d.Available(2, start.Add(silence)))
	}
	// Output:
	// silent 4s: available true
	// silent 5s: available false
}
