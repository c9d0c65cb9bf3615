package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpointsOfARunningNode checks what Prometheus, a load
// balancer and an etcd health checker see on --listen-http.
func TestAdminEndpointsOfARunningNode(t *testing.T) {
	c := newTestCluster(t, 3)
	cx := ctx(t)
	for i := range 10 {
		if _, err := c.client(0).Put(cx, "m", string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + c.nodes[1].AdminAddr()
	code, body := httpGet(t, base+"/health")
	var h map[string]string
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h["health"] != "true" {
		t.Fatalf("/health = %d %q", code, body)
	}
	if code, _ := httpGet(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{
		"etcd_server_has_leader 1",
		"etcd_server_leader_changes_seen_total",
		"etcd_server_proposals_committed_total",
		"etcd_server_proposals_applied_total",
		"etcd_server_proposals_pending",
		"etcd_server_proposals_failed_total",
		"etcd_disk_wal_fsync_duration_seconds_count",
		"etcd_disk_backend_commit_duration_seconds_count",
		"etcd_mvcc_db_total_size_in_bytes",
		"cairn_transport_",
		"cairn_raftlog_",
		"cairn_mvcc_",
		`cairn_transport_frames_sent_total{channel="raft"`,
		"cairn_gossip_",
		"cairn_eventual_store_",
		"cairn_eventual_paxos_rounds_total",
		"cairn_eventual_peer_requests_in_flight",
		"cairn_merkle_",
		"cairn_resp_",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := httpGet(t, base+"/version"); code != 200 || !strings.Contains(body, `"etcdserver":"3.7.3"`) {
		t.Fatalf("/version = %d %q", code, body)
	}
}

// TestStartOnABusyPortFails: a node that cannot listen says so, and what
// it had started is closed (it once panicked instead).
func TestStartOnABusyPortFails(t *testing.T) {
	c := newTestCluster(t, 1)
	cfg := c.cfgs[0]
	cfg.DataDir = t.TempDir()
	_, err := Start(cfg, testLogger())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second node on the same ports: %v", err)
	}
}
