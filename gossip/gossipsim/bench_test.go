package gossipsim

import (
	"fmt"
	"testing"
)

// BenchmarkRound measures the simulation cost of one probe period of a
// warm cluster at 1% loss, per cluster size (-gossipsim.nodes adds one):
// what the figures cost, and the messages each node sends per period.
func BenchmarkRound(b *testing.B) {
	sizes := []int{10, 100, 1000}
	if *flagNodes > 0 {
		sizes = append(sizes, *flagNodes)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c, err := NewNetCluster(NetOptions{Net: DefaultNetConfig(1, n), Seeds: 3, Warm: true})
			if err != nil {
				b.Fatal(err)
			}
			c.Net.RunFor(5 * c.RoundDuration())
			sent := c.Net.Stats().Sent
			rounds := 0
			b.ResetTimer()
			for b.Loop() {
				c.Net.RunFor(c.RoundDuration())
				rounds++
			}
			if err := c.Err(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(c.Net.Stats().Sent-sent)/float64(n*rounds), "msgs/node/round")
		})
	}
}
