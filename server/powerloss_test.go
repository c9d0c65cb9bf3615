package server

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// powerCut writes keys through every member, cuts the power of all three
// at once (each member's store keeps exactly what was synced: Pebble's
// crashable in-memory file system), restarts them from what survived, and
// returns how many acknowledged writes are missing.
func powerCut(t *testing.T, noFsync bool) (acked, missing int) {
	fss := make([]*vfs.MemFS, 3)
	c := newTestClusterWith(t, 3, func(i int, cfg *Config) {
		fss[i] = vfs.NewCrashableMem()
		cfg.FS = fss[i]
		cfg.UnsafeNoFsync = noFsync
	})
	cx := ctx(t)
	for i := range 120 {
		if _, err := c.client(i%3).Put(cx, fmt.Sprintf("p%03d", i), "v"); err != nil {
			t.Fatal(err)
		}
		acked++
	}
	// The power goes out: every unsynced byte is lost, on every member.
	for i, fs := range fss {
		c.cfgs[i].FS = fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	}
	c.closeAll()
	for i := range 3 {
		c.start(i)
	}
	c.leader()
	get, err := c.client(0).Get(cx, "p", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return acked, acked - int(get.Count)
}

// TestPowerLossKeepsAcknowledgedWrites is the durability claim proven
// against a power cut, which kill -9 cannot show (a killed process's
// writes survive in the page cache).
func TestPowerLossKeepsAcknowledgedWrites(t *testing.T) {
	acked, missing := powerCut(t, false)
	if missing != 0 {
		t.Fatalf("%d of %d acknowledged writes lost in a power cut", missing, acked)
	}
}

// TestPowerLossCatchesASkippedFsync shows the test above can fail: with
// the Raft log's fsync skipped (--unsafe-no-fsync), the same power cut
// loses acknowledged writes.
func TestPowerLossCatchesASkippedFsync(t *testing.T) {
	acked, missing := powerCut(t, true)
	if missing == 0 {
		t.Fatalf("no write of %d lost without fsync: the power cut is not simulated", acked)
	}
	t.Logf("without fsync, %d of %d acknowledged writes were lost", missing, acked)
}
