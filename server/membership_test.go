package server

import (
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
)

// TestMemberAddJoinPromoteRemove is etcd's runbook for growing a cluster:
// MemberAdd (as a learner), start the new member with
// --initial-cluster-state existing, let it catch up, promote it, then
// remove another member; the cluster serves throughout.
func TestMemberAddJoinPromoteRemove(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	cli := c.client()
	for i := range 50 {
		if _, err := cli.Put(cx, fmt.Sprintf("j%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	ports := testutil.FreePorts(t, 3)
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	add, err := cli.MemberAddAsLearner(cx, []string{peer})
	if err != nil {
		t.Fatal(err)
	}
	if !add.Member.IsLearner || len(add.Members) != 4 {
		t.Fatalf("member add: %+v", add)
	}
	if _, err := cli.MemberAddAsLearner(cx, []string{peer}); err == nil {
		t.Fatal("adding the same peer URL twice succeeded")
	}

	cfg := c.cfgs[0]
	cfg.Name = "n4"
	cfg.DataDir = filepath.Join(t.TempDir(), "n4")
	client := mustURL(fmt.Sprintf("http://127.0.0.1:%d", ports[0]))
	cfg.ListenClientURLs, cfg.AdvertiseClientURLs = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerURLs, cfg.InitialAdvertisePeerURLs = []url.URL{mustURL(peer)}, []url.URL{mustURL(peer)}
	cfg.ListenHTTP = fmt.Sprintf("127.0.0.1:%d", ports[2])
	cfg.ListenRedis = "127.0.0.1:0"
	cfg.InitialCluster = map[string][]url.URL{"n4": {mustURL(peer)}}
	for k, v := range c.cfgs[0].InitialCluster {
		cfg.InitialCluster[k] = v
	}
	cfg.InitialClusterState = "existing"
	c.cfgs = append(c.cfgs, cfg)
	c.nodes = append(c.nodes, nil)
	c.start(3)
	if MemberID(cfg.InitialAdvertisePeerURLs, cfg.InitialClusterToken) != add.Member.ID {
		t.Fatalf("the joining member computes ID %x, MemberAdd gave %x", MemberID(cfg.InitialAdvertisePeerURLs, cfg.InitialClusterToken), add.Member.ID)
	}

	newcomer := c.client(3)
	deadline := time.Now().Add(15 * time.Second)
	for {
		get, err := newcomer.Get(cx, "j", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithCountOnly())
		if err == nil && get.Count == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new member did not catch up: %v, %v", get, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := cli.MemberPromote(cx, add.Member.ID); err != nil {
		t.Fatalf("promote: %v", err)
	}
	// The new member publishes its name and client URLs once it runs.
	deadline = time.Now().Add(10 * time.Second)
	for ok := false; !ok; {
		list, err := cli.MemberList(cx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list.Members {
			if m.ID == add.Member.ID {
				ok = !m.IsLearner && m.Name == "n4" && len(m.ClientURLs) == 1
				if !ok && time.Now().After(deadline) {
					t.Fatalf("promoted member listed as %+v", m)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Writes through the new voter, then remove a founder.
	if _, err := newcomer.Put(cx, "from-n4", "x"); err != nil {
		t.Fatal(err)
	}
	victim := (c.leader() + 1) % 3
	vid := MemberID(c.cfgs[victim].InitialAdvertisePeerURLs, c.cfgs[victim].InitialClusterToken)
	// Ask a member that stays: the removed one may never learn that its
	// own removal committed (the leader stops replicating to it).
	if _, err := newcomer.MemberRemove(cx, vid); err != nil {
		t.Fatalf("remove: %v", err)
	}
	c.stop(victim)
	list, _ := newcomer.MemberList(cx)
	if len(list.Members) != 3 {
		t.Fatalf("after remove: %d members", len(list.Members))
	}
	if _, err := newcomer.Put(cx, "after-remove", "x"); err != nil {
		t.Fatal(err)
	}
}

func TestMemberUpdateChangesPeerURLs(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	cli := c.client()
	id := MemberID(c.cfgs[2].InitialAdvertisePeerURLs, c.cfgs[2].InitialClusterToken)
	// The same address under another spelling: the member stays reachable.
	port := c.cfgs[2].InitialAdvertisePeerURLs[0].Port()
	newURL := "http://localhost:" + port
	resp, err := cli.MemberUpdate(cx, id, []string{newURL})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range resp.Members {
		if m.ID == id {
			found = len(m.PeerURLs) == 1 && m.PeerURLs[0] == newURL && m.Name == "n3"
		}
	}
	if !found {
		t.Fatalf("member update response %+v", resp.Members)
	}
	if _, err := cli.MemberUpdate(cx, 12345, []string{newURL}); err == nil {
		t.Fatal("updating an unknown member succeeded")
	}
	if _, err := c.client(2).Put(cx, "still", "works"); err != nil {
		t.Fatal(err)
	}
}
