package server

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// fastGossip runs the gossip of a test cluster ten times faster than the
// default.
func fastGossip(_ int, cfg *Config) { cfg.GossipInterval = 100 * time.Millisecond }

func getMembers(t *testing.T, n *Node) []memberJSON {
	t.Helper()
	code, body := httpGet(t, "http://"+n.AdminAddr()+"/members")
	if code != 200 {
		t.Fatalf("/members = %d %q", code, body)
	}
	var ms []memberJSON
	if err := json.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("/members: %v in %q", err, body)
	}
	return ms
}

// waitMembers polls /members of node i until ok accepts it.
func waitMembers(t *testing.T, n *Node, what string, ok func([]memberJSON) bool) []memberJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms := getMembers(t, n)
		if ok(ms) {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s: %+v", what, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allAlive(want int) func([]memberJSON) bool {
	return func(ms []memberJSON) bool {
		alive := 0
		for _, m := range ms {
			if m.State == "alive" {
				alive++
			}
		}
		return len(ms) == want && alive == want
	}
}

// TestGossipMembersEndpoint: every node of a cluster lists every member
// alive on /members, under its Raft member id, with its name, peer
// address and metadata (client URLs, HTTP and Redis addresses), and
// exports the cairn_gossip_* metrics.
func TestGossipMembersEndpoint(t *testing.T) {
	c := newTestClusterWith(t, 3, fastGossip)
	for i, n := range c.nodes {
		// Each node advertises its bound RESP address once it has bound it
		// (a metadata update gossip spreads): wait for it too.
		ms := waitMembers(t, n, fmt.Sprintf("n%d sees 3 alive with their RESP addresses", i+1), func(ms []memberJSON) bool {
			for _, m := range ms {
				if m.Meta == nil || strings.HasSuffix(m.Meta.Redis, ":0") {
					return false
				}
			}
			return allAlive(3)(ms)
		})
		selves := 0
		for _, m := range ms {
			j := -1
			for k, cfg := range c.cfgs {
				if cfg.Name == m.Name {
					j = k
				}
			}
			if j < 0 || m.Meta == nil {
				t.Fatalf("n%d lists an unknown member %+v", i+1, m)
			}
			cfg := c.cfgs[j]
			if id := MemberID(cfg.InitialAdvertisePeerURLs, cfg.InitialClusterToken); m.ID != id {
				t.Errorf("member %s has id %x, its Raft id is %x", m.Name, m.ID, id)
			}
			if m.Addr != cfg.InitialAdvertisePeerURLs[0].Host || m.Meta.HTTP != cfg.ListenHTTP ||
				m.Meta.Redis != c.nodes[j].RedisAddr || len(m.Meta.ClientURLs) != 1 ||
				m.Meta.ClientURLs[0] != cfg.AdvertiseClientURLs[0].String() || m.Incarnation == 0 {
				t.Errorf("member %s listed as %+v meta %+v", m.Name, m, *m.Meta)
			}
			if m.Self {
				selves++
				if j != i {
					t.Errorf("n%d marks %s as itself", i+1, m.Name)
				}
			}
		}
		if selves != 1 {
			t.Errorf("n%d marks %d members as itself", i+1, selves)
		}
	}
	// The gauges are refreshed once a second.
	deadline := time.Now().Add(30 * time.Second)
	for _, want := range []string{
		`cairn_gossip_members{state="alive"} 3`, "cairn_gossip_probe_rtt_seconds",
		"cairn_gossip_messages_sent_total", "cairn_gossip_push_pulls_total",
		"cairn_gossip_suspicions_raised_total", "cairn_gossip_member_phi",
	} {
		for {
			_, metrics := httpGet(t, "http://"+c.nodes[0].AdminAddr()+"/metrics")
			if strings.Contains(metrics, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/metrics lacks %s", want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestGossipLeaveAndRestart: a node that closes leaves (the others list
// it left, not dead); restarted, it comes back alive at a higher
// incarnation, read from its data dir.
func TestGossipLeaveAndRestart(t *testing.T) {
	c := newTestClusterWith(t, 3, fastGossip)
	waitMembers(t, c.nodes[0], "3 alive", allAlive(3))
	var before uint64
	for _, m := range getMembers(t, c.nodes[0]) {
		if m.Name == "n3" {
			before = m.Incarnation
		}
	}
	start := time.Now()
	c.stop(2)
	t.Logf("Close took %v (leave linger included)", time.Since(start).Round(time.Millisecond))
	waitMembers(t, c.nodes[0], "n3 left", func(ms []memberJSON) bool {
		for _, m := range ms {
			if m.Name == "n3" {
				return m.State == "left"
			}
		}
		return false
	})
	c.start(2)
	ms := waitMembers(t, c.nodes[0], "3 alive again", allAlive(3))
	for _, m := range ms {
		if m.Name == "n3" && m.Incarnation <= before {
			t.Fatalf("n3 came back at incarnation %d, was %d", m.Incarnation, before)
		}
	}
}

// TestGossipIncarnationFile: the incarnation file reads 0 when absent,
// round-trips, is replaced atomically, and a corrupt one is an error that
// names the file.
func TestGossipIncarnationFile(t *testing.T) {
	fs := vfs.NewCrashableMem()
	dir := "/data"
	if err := fs.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The server syncs the data dir's own entry at start.
	if err := syncDirs(fs, "/"); err != nil {
		t.Fatal(err)
	}
	if v, err := loadIncarnation(fs, dir); err != nil || v != 0 {
		t.Fatalf("absent file: %d, %v", v, err)
	}
	for _, inc := range []uint64{1, 7, 1 << 40} {
		if err := storeIncarnation(fs, dir, inc); err != nil {
			t.Fatal(err)
		}
		// Only what was synced survives a crash.
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
		if v, err := loadIncarnation(crashed, dir); err != nil || v != inc {
			t.Fatalf("after storing %d and a crash: %d, %v", inc, v, err)
		}
	}
	if _, err := fs.Stat(filepath.Join(dir, gossipIncarnationFile+".tmp")); err == nil {
		t.Error("the temporary file is left behind")
	}
	f, err := fs.Create(filepath.Join(dir, gossipIncarnationFile), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("12x"))
	_ = f.Close()
	if _, err := loadIncarnation(fs, dir); err == nil || !strings.Contains(err.Error(), gossipIncarnationFile) {
		t.Fatalf("corrupt file: %v", err)
	}
}

// TestGossipConfigValidation: gossip timings outside their bounds are
// refused with the flag's name.
func TestGossipConfigValidation(t *testing.T) {
	for _, tweak := range []func(*Config){
		func(c *Config) { c.GossipInterval = time.Millisecond },
		func(c *Config) { c.GossipInterval = 0 },
		func(c *Config) { c.GossipSuspicionMult = 0 },
	} {
		cfg := DefaultConfig()
		tweak(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--gossip-") {
			t.Errorf("%+v: %v", cfg.GossipInterval, err)
		}
	}
}
