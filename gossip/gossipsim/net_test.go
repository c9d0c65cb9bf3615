package gossipsim

import (
	"testing"
	"time"

	"github.com/cairndb/cairn/gossip"
)

// runNetScript runs a 100-node cluster through loss, a slow node, a pause,
// a crash with restart and a partition, with Valid sampled, and returns
// its trace hash.
func runNetScript(t *testing.T, seed uint64) uint64 {
	t.Helper()
	o := NetOptions{Net: DefaultNetConfig(seed, 100), Seeds: 3, Warm: true, ValidEvery: 97}
	o.Net.DropProb = 0.05
	c, err := NewNetCluster(o)
	if err != nil {
		t.Fatal(err)
	}
	round := c.RoundDuration()
	c.Net.SetExtraDelay(7, 200*time.Millisecond)
	c.Net.Pause(9)
	c.Net.RunFor(3 * round)
	c.Net.Resume(9)
	c.Crash(11)
	c.Net.RunFor(30 * round)
	c.Restart(11)
	groups := make([]int, 100)
	for i := range groups {
		groups[i] = i % 2
	}
	c.Net.SetGroups(groups)
	c.Net.RunFor(40 * round)
	c.Net.SetGroups(nil)
	if !c.Net.RunUntil(300*round, c.sampled(c.Converged)) {
		t.Fatalf("seed %d: no convergence after the partition", seed)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if st, _ := c.peers[0].core.State(11); st != gossip.StateAlive {
		t.Fatalf("seed %d: restarted node 11 is %v", seed, st)
	}
	return c.Net.TraceHash()
}

func TestNetScriptIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		if a, b := runNetScript(t, seed), runNetScript(t, seed); a != b {
			t.Fatalf("seed %d: trace hash %#x then %#x", seed, a, b)
		}
	}
	if runNetScript(t, 1) == runNetScript(t, 2) {
		t.Fatal("two seeds gave the same trace: the hash sees nothing")
	}
}
