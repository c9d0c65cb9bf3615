package server

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// These tests drive real nodes (real Pebble, real gRPC, real sockets)
// through etcd's own client, clientv3, and check what an etcd user would
// see: revisions, versions, errors, watch events and lease behaviour.

func TestSingleNodeKVMatchesEtcd(t *testing.T) {
	c := newTestCluster(t, 1)
	cli := c.client()
	cx := ctx(t)
	// A fresh etcd store is at revision 1; the first write makes it 2.
	put, err := cli.Put(cx, "a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if put.Header.Revision != 2 {
		t.Fatalf("first put at revision %d, etcd gives 2", put.Header.Revision)
	}
	if _, err := cli.Put(cx, "a", "2"); err != nil {
		t.Fatal(err)
	}
	get, err := cli.Get(cx, "a")
	if err != nil {
		t.Fatal(err)
	}
	kv := get.Kvs[0]
	if string(kv.Value) != "2" || kv.CreateRevision != 2 || kv.ModRevision != 3 || kv.Version != 2 {
		t.Fatalf("get a = %+v", kv)
	}
	old, err := cli.Get(cx, "a", clientv3.WithRev(2))
	if err != nil || string(old.Kvs[0].Value) != "1" {
		t.Fatalf("get a at rev 2 = %v, %v", old, err)
	}
	del, err := cli.Delete(cx, "a", clientv3.WithPrevKV())
	if err != nil || del.Deleted != 1 || string(del.PrevKvs[0].Value) != "2" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if _, err := cli.Put(cx, "a", "3"); err != nil {
		t.Fatal(err)
	}
	get, _ = cli.Get(cx, "a")
	if kv := get.Kvs[0]; kv.Version != 1 || kv.CreateRevision != 5 {
		t.Fatalf("re-created key %+v: version must restart at 1", kv)
	}
	if _, err := cli.Compact(cx, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Get(cx, "a", clientv3.WithRev(3)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("read below compaction: %v, want %v", err, rpctypes.ErrCompacted)
	}
	if _, err := cli.Get(cx, "a", clientv3.WithRev(99)); !errors.Is(err, rpctypes.ErrFutureRev) {
		t.Fatalf("read at a future revision: %v, want %v", err, rpctypes.ErrFutureRev)
	}
	if _, err := cli.Put(cx, "", "x"); !errors.Is(err, rpctypes.ErrEmptyKey) {
		t.Fatalf("empty key: %v, want %v", err, rpctypes.ErrEmptyKey)
	}
}

func TestThreeNodesReplicateAndServeLinearizableReads(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	cx := ctx(t)
	for i := range 3 {
		cli := c.client(i)
		key := fmt.Sprintf("k%d", i)
		if _, err := cli.Put(cx, key, fmt.Sprint(i)); err != nil {
			t.Fatalf("put through node %d: %v", i, err)
		}
		// A linearizable read on every other node sees the write at once.
		for j := range 3 {
			get, err := c.client(j).Get(cx, key)
			if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != fmt.Sprint(i) {
				t.Fatalf("read %s on node %d after the put on node %d: %v, %v", key, j, i, get, err)
			}
		}
	}
	ms, err := c.client(0).MemberList(cx)
	if err != nil || len(ms.Members) != 3 {
		t.Fatalf("member list: %v, %v", ms, err)
	}
	names := map[string]bool{}
	for _, m := range ms.Members {
		names[m.Name] = len(m.PeerURLs) == 1
	}
	if !names["n1"] || !names["n2"] || !names["n3"] {
		t.Fatalf("members %v", ms.Members)
	}
	st, err := c.client(1).Status(cx, c.endpoints(1)[0])
	if err != nil || st.Leader == 0 || st.Version == "" {
		t.Fatalf("status: %+v, %v", st, err)
	}
}

func TestTxnMatchesEtcd(t *testing.T) {
	c := newTestCluster(t, 1)
	cli := c.client()
	cx := ctx(t)
	if _, err := cli.Put(cx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Txn(cx).
		If(clientv3.Compare(clientv3.Value("x"), "=", "1")).
		Then(clientv3.OpPut("x", "2"), clientv3.OpPut("y", "2"), clientv3.OpGet("x")).
		Else(clientv3.OpPut("x", "fail")).
		Commit()
	if err != nil || !resp.Succeeded {
		t.Fatalf("txn: %+v, %v", resp, err)
	}
	// Every write of a transaction shares one revision.
	if resp.Header.Revision != 3 {
		t.Fatalf("txn revision %d, want 3", resp.Header.Revision)
	}
	got := resp.Responses[2].GetResponseRange().Kvs[0]
	if string(got.Value) != "2" || got.ModRevision != 3 {
		t.Fatalf("get inside txn: %+v", got)
	}
	resp, err = cli.Txn(cx).If(clientv3.Compare(clientv3.Version("x"), ">", 5)).Then(clientv3.OpPut("z", "1")).Commit()
	if err != nil || resp.Succeeded {
		t.Fatalf("failed compare: %+v, %v", resp, err)
	}
	if _, err := cli.Txn(cx).Then(clientv3.OpPut("d", "1"), clientv3.OpPut("d", "2")).Commit(); !errors.Is(err, rpctypes.ErrDuplicateKey) {
		t.Fatalf("duplicate key in txn: %v, want %v", err, rpctypes.ErrDuplicateKey)
	}
}

func TestWatchAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	cx := ctx(t)
	wch := c.client(2).Watch(cx, "w/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	// Let the watch be created before the writes.
	time.Sleep(100 * time.Millisecond)
	writer := c.client(0)
	for i := range 20 {
		if _, err := writer.Put(cx, fmt.Sprintf("w/%d", i%5), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := writer.Delete(cx, "w/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	var last int64
	puts, dels := 0, 0
	for puts+dels < 25 {
		select {
		case wr := <-wch:
			if err := wr.Err(); err != nil {
				t.Fatal(err)
			}
			for _, ev := range wr.Events {
				if ev.Kv.ModRevision < last {
					t.Fatalf("event at revision %d after %d", ev.Kv.ModRevision, last)
				}
				last = ev.Kv.ModRevision
				if ev.Type == mvccpb.PUT {
					puts++
					if puts > 5 && ev.PrevKv == nil {
						t.Fatalf("put event without prev_kv: %+v", ev)
					}
				} else {
					dels++
				}
			}
		case <-cx.Done():
			t.Fatalf("watch got %d puts and %d deletes of 20 and 5", puts, dels)
		}
	}
	if puts != 20 || dels != 5 {
		t.Fatalf("watch got %d puts and %d deletes, want 20 and 5", puts, dels)
	}
}

func TestLeasesExpireAndRevokeKeys(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	cli := c.client(1)
	cx := ctx(t)
	short, err := cli.Grant(cx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(cx, "eph", "x", clientv3.WithLease(short.ID)); err != nil {
		t.Fatal(err)
	}
	long, err := cli.Grant(cx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(cx, "kept", "x", clientv3.WithLease(long.ID)); err != nil {
		t.Fatal(err)
	}
	ttl, err := cli.TimeToLive(cx, long.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != 30 || len(ttl.Keys) != 1 {
		t.Fatalf("time to live: %+v, %v", ttl, err)
	}
	if _, err := cli.KeepAliveOnce(cx, long.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(cx, "bad", "x", clientv3.WithLease(12345)); !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		t.Fatalf("put with a missing lease: %v, want %v", err, rpctypes.ErrLeaseNotFound)
	}
	// The short lease's TTL is raised to the minimum (1.5 election
	// timeouts, here under a second); its key must be gone within seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		get, err := cli.Get(cx, "eph")
		if err != nil {
			t.Fatal(err)
		}
		if len(get.Kvs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key of an expired lease is still there")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := cli.Revoke(cx, long.ID); err != nil {
		t.Fatal(err)
	}
	if get, _ := cli.Get(cx, "kept"); len(get.Kvs) != 0 {
		t.Fatal("revoke left the lease's key")
	}
}

func TestLeaderFailoverAndRejoin(t *testing.T) {
	c := newTestCluster(t, 3)
	lead := c.leader()
	cx := ctx(t)
	if _, err := c.client(lead).Put(cx, "before", "1"); err != nil {
		t.Fatal(err)
	}
	c.stop(lead)
	survivors := []int{}
	for i := range 3 {
		if i != lead {
			survivors = append(survivors, i)
		}
	}
	// Until the others notice, requests forwarded to the dead leader are
	// lost and time out, as in etcd; wait for the new leader.
	c.leader()
	cli := c.client(survivors...)
	if _, err := cli.Put(cx, "during", "2"); err != nil {
		t.Fatalf("write with the old leader down: %v", err)
	}
	c.start(lead)
	// The restarted member catches up from the new leader.
	old := c.client(lead)
	deadline := time.Now().Add(10 * time.Second)
	for {
		get, err := old.Get(cx, "during", clientv3.WithSerializable())
		if err == nil && len(get.Kvs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted member did not catch up: %v, %v", get, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if get, err := old.Get(cx, "before"); err != nil || len(get.Kvs) != 1 {
		t.Fatalf("restarted member lost data: %v, %v", get, err)
	}
}

func TestFullRestartKeepsDataAndRevision(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	cx := ctx(t)
	var rev int64
	for i := range 50 {
		resp, err := c.client(i%3).Put(cx, fmt.Sprintf("r%d", i), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	c.closeAll()
	for i := range 3 {
		c.start(i)
	}
	c.leader()
	get, err := c.client(1).Get(cx, "r", clientv3.WithPrefix())
	if err != nil || get.Count != 50 || get.Header.Revision != rev {
		t.Fatalf("after restart: count %d at revision %d (want 50 at %d), %v", get.Count, get.Header.Revision, rev, err)
	}
	put, err := c.client(2).Put(cx, "after", "x")
	if err != nil || put.Header.Revision != rev+1 {
		t.Fatalf("put after restart at revision %d, want %d: %v", put.Header.Revision, rev+1, err)
	}
}

func TestLaggingMemberCatchesUpFromASnapshot(t *testing.T) {
	c := newTestCluster(t, 3)
	for i := range c.cfgs {
		c.cfgs[i].SnapshotCount = 100
		c.cfgs[i].SnapshotCatchUpEntries = 20
	}
	c.closeAll()
	for i := range 3 {
		c.start(i)
	}
	lead := c.leader()
	lagger := (lead + 1) % 3
	c.stop(lagger)
	cx := ctx(t)
	cli := c.client(lead)
	for i := range 400 {
		if _, err := cli.Put(cx, fmt.Sprintf("s%03d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.start(lagger)
	lc := c.client(lagger)
	deadline := time.Now().Add(15 * time.Second)
	for {
		get, err := lc.Get(cx, "s", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
		if err == nil && get.Count == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lagging member has %v keys: %v", get, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every member holds the same history.
	var hashes []uint32
	for i := range 3 {
		resp, err := c.client(i).HashKV(cx, c.endpoints(i)[0], 0)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, resp.Hash)
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("HashKV differs between members: %v", hashes)
	}
}

// TestConcurrentReadsOnEveryMember: linearizable reads from every member
// at once all succeed and see the write before them.
func TestConcurrentReadsOnEveryMember(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	if _, err := c.client(0).Put(cx, "r", "1"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for node := range 3 {
		cli := c.client(node)
		wg.Go(func() {
			for range 50 {
				get, err := cli.Get(cx, "r")
				if err != nil || len(get.Kvs) != 1 {
					t.Errorf("read on node %d: %v %v", node, get, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestQuotaRaisesNOSPACE: past --quota-backend-bytes writes fail with
// etcd's NOSPACE error and alarm, reads and deletes still work, and
// disarming the alarm (after raising the quota) lets writes through.
func TestQuotaRaisesNOSPACE(t *testing.T) {
	c := newTestCluster(t, 1)
	c.stop(0)
	c.cfgs[0].QuotaBackendBytes = 1 // any store is larger
	c.start(0)
	c.leader()
	cli := c.client()
	cx := ctx(t)
	if _, err := cli.Put(cx, "k", "v"); !errors.Is(err, rpctypes.ErrNoSpace) {
		t.Fatalf("put over quota: %v, want %v", err, rpctypes.ErrNoSpace)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		alarms, err := cli.AlarmList(cx)
		if err == nil && len(alarms.Alarms) == 1 && alarms.Alarms[0].Alarm.String() == "NOSPACE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm list: %v, %v", alarms, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := cli.Get(cx, "k"); err != nil {
		t.Fatalf("read under NOSPACE: %v", err)
	}
	if _, err := cli.Delete(cx, "k"); err != nil {
		t.Fatalf("delete under NOSPACE: %v", err)
	}
	if code, _ := httpGet(t, "http://"+c.nodes[0].AdminAddr()+"/health"); code != 503 {
		t.Fatalf("/health with an alarm = %d, want 503", code)
	}
	c.stop(0)
	c.cfgs[0].QuotaBackendBytes = 1 << 30
	c.start(0)
	c.leader()
	cli = c.client()
	if _, err := cli.AlarmDisarm(cx, &clientv3.AlarmMember{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(cx, "k", "v"); err != nil {
		t.Fatalf("put after disarm: %v", err)
	}
}
