package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	// loadWriters is the number of concurrent clientv3 writers.
	loadWriters = 4
	// warmAcks are the acknowledged puts before a kill, so that the kill
	// lands mid-load with data behind it.
	warmAcks = 200
	// progressAcks prove that the cluster serves writes again.
	progressAcks = 100
	// failoverWithin bounds the time from killing the leader to
	// progressAcks new acknowledged puts: an election (0.5 s timeout here)
	// plus the writers stuck on the dead leader (putTimeout).
	failoverWithin = 10 * time.Second
	// loadWithin bounds any other wait for acknowledged puts.
	loadWithin = 60 * time.Second
	// killRounds is how often each kind of kill is repeated.
	killRounds = 2
)

// TestKill9KeepsAcknowledgedWrites kills the leader, then a follower,
// then all three members with SIGKILL while clients write, restarts them
// with the same flags, and checks that no acknowledged write is lost.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts real processes under load")
	}
	c := startCluster(t, 3)
	owed := map[string]map[string]string{} // key prefix -> acknowledged puts
	load := startWriteLoad(t, c.endpoints(), loadWriters, "one/")
	load.waitAcks(t, warmAcks, loadWithin)
	for range killRounds {
		killOneAndRestart(t, c, load, c.leader(), "leader")
		killOneAndRestart(t, c, load, c.follower(c.leader()), "follower")
	}
	load.stop()
	t.Logf("load while members died one at a time: %v", load)
	owed[load.prefix] = load.acknowledged()
	checkOwed(c, owed)
	c.checkHashKVAgree()

	// Every member dies at the same instant: nothing but what each had
	// made durable survives, and the acknowledged writes must be in it.
	for round := range killRounds {
		load = startWriteLoad(t, c.endpoints(), loadWriters, fmt.Sprintf("all%d/", round))
		load.waitAcks(t, warmAcks, loadWithin)
		killAll(c)
		load.stop()
		t.Logf("killed all members; load: %v", load)
		owed[load.prefix] = load.acknowledged()
		restartAll(c)
		checkOwed(c, owed)
		c.checkHashKVAgree()
	}
}

// killOneAndRestart kills member i mid-load, checks that the others
// keep acknowledging writes, and restarts it.
func killOneAndRestart(t *testing.T, c *procCluster, load *writeLoad, i int, role string) {
	t.Helper()
	killedAt := load.acks()
	c.procs[i].kill()
	took := load.waitAcks(t, killedAt+progressAcks, failoverWithin)
	t.Logf("killed %s %s at %d acknowledged; %d more acknowledged %v later",
		role, c.procs[i].name, killedAt, progressAcks, took.Round(time.Millisecond))
	restart(t, c, i)
	load.waitAcks(t, load.acks()+progressAcks, loadWithin)
}

// checkOwed checks every acknowledged put of every load so far.
func checkOwed(c *procCluster, owed map[string]map[string]string) {
	c.t.Helper()
	for prefix, acked := range owed {
		c.checkAcknowledged(prefix, acked)
	}
}

// TestKill9MemberCatchesUpFromSnapshot keeps a killed member down while
// the others write far past their log compaction, so that on restart it
// can only catch up from a snapshot.
func TestKill9MemberCatchesUpFromSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts real processes under load")
	}
	const writesWhileDown = 1200
	c := startCluster(t, 3, "--snapshot-count", "200", "--snapshot-catchup-entries", "50")
	down := c.follower(c.leader())
	c.procs[down].kill()
	load := startWriteLoad(t, c.endpoints(), loadWriters, "s/")
	load.waitAcks(t, writesWhileDown, loadWithin)
	restart(t, c, down)
	load.waitAcks(t, load.acks()+progressAcks, loadWithin)
	load.stop()
	t.Logf("%s was down for %d acknowledged puts; load: %v", c.procs[down].name, writesWhileDown, load)
	if log := c.procs[down].logOfRun(); cairnOnly(t, "the snapshot install in the log") && !strings.Contains(log, `"msg":"installed snapshot"`) {
		t.Errorf("%s caught up without installing a snapshot (no \"installed snapshot\" in its log); "+
			"the test no longer covers snapshot catch-up", c.procs[down].name)
	}
	caughtUp := load.acknowledged()
	c.checkAcknowledged("s/", caughtUp)
	c.checkHashKVAgree()

	// With snapshots every 200 entries, members restart from a snapshot
	// plus a log tail; kill them all mid-load to cover that path too.
	load = startWriteLoad(t, c.endpoints(), loadWriters, "t/")
	load.waitAcks(t, warmAcks*2, loadWithin)
	killAll(c)
	load.stop()
	restartAll(c)
	c.checkAcknowledged("s/", caughtUp)
	c.checkAcknowledged("t/", load.acknowledged())
	c.checkHashKVAgree()
}

// restart starts member i again with the same flags, waits until it is
// ready (it knows the leader and has applied what the leader had
// committed) and logs how long that took.
func restart(t *testing.T, c *procCluster, i int) {
	t.Helper()
	start := time.Now()
	c.procs[i].start()
	c.waitReady(i)
	t.Logf("restarted %s: ready %v later", c.procs[i].name, time.Since(start).Round(time.Millisecond))
}

// killAll sends SIGKILL to every member at the same instant and waits
// for them to die.
func killAll(c *procCluster) {
	for _, p := range c.procs {
		p.signalKill()
	}
	for _, p := range c.procs {
		p.reap()
	}
}

// restartAll starts every member again and waits until all are ready.
func restartAll(c *procCluster) {
	for _, p := range c.procs {
		p.start()
	}
	c.waitReady(c.all()...)
}
