package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
)

// TestEtcdctlScript drives etcd's own etcdctl through its everyday
// commands against a 3-member cluster of real processes and compares what
// it prints with what etcdctl prints against etcd. Each sub-test works
// under its own key prefix and reads the revision it starts from.
func TestEtcdctlScript(t *testing.T) {
	bin := testutil.EtcdctlPath(t)
	c := startCluster(t, 3)
	cli := newClient(t, c.endpoints())
	ctl := func(t *testing.T) etcdctl { return etcdctl{t: t, bin: bin, endpoints: c.endpoints()} }
	revision := func(t *testing.T) int64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := cli.Get(ctx, "revision-probe")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}

	t.Run("put and get", func(t *testing.T) { testEtcdctlPutGet(t, ctl(t), cli, revision(t)) })
	t.Run("del", func(t *testing.T) { testEtcdctlDel(t, ctl(t), revision(t)) })
	t.Run("txn", func(t *testing.T) { testEtcdctlTxn(t, ctl(t), revision(t)) })
	t.Run("watch", func(t *testing.T) { testEtcdctlWatch(t, ctl(t), revision(t)) })
	// lease runs before lock and elect, whose sessions leave leases behind.
	t.Run("lease", func(t *testing.T) { testEtcdctlLease(t, ctl(t)) })
	t.Run("member list", func(t *testing.T) { testEtcdctlMemberList(t, ctl(t), cli) })
	t.Run("endpoint", func(t *testing.T) { testEtcdctlEndpoint(t, ctl(t), c) })
	// compaction runs after every sub-test that reads history.
	t.Run("compaction", func(t *testing.T) { testEtcdctlCompaction(t, ctl(t), revision(t)) })
	t.Run("lock", func(t *testing.T) { testEtcdctlLock(t, ctl(t)) })
	t.Run("elect", func(t *testing.T) { testEtcdctlElect(t, ctl(t)) })
}

// getJSON is what `etcdctl get -w json` prints.
type getJSON struct {
	Header struct {
		ClusterID uint64 `json:"cluster_id"`
		MemberID  uint64 `json:"member_id"`
		Revision  int64  `json:"revision"`
		RaftTerm  uint64 `json:"raft_term"`
	} `json:"header"`
	Kvs []struct {
		Key            []byte `json:"key"`
		CreateRevision int64  `json:"create_revision"`
		ModRevision    int64  `json:"mod_revision"`
		Version        int64  `json:"version"`
		Value          []byte `json:"value"`
	} `json:"kvs"`
	Count int64 `json:"count"`
}

func testEtcdctlPutGet(t *testing.T, e etcdctl, cli *clientv3.Client, base int64) {
	e.expect("OK\n", "put", "kv/foo", "bar")
	e.expect("OK\n", "put", "kv/foo", "baz")
	e.expect("OK\n", "put", "kv/foo1", "v1")
	e.expect("OK\n", "put", "kv/foo2", "v2")
	e.expect("OK\n", "put", "kv/zed", "z")
	e.expect("OK\nkv/zed\nz\n", "put", "kv/zed", "z2", "--prev-kv")

	e.expect("kv/foo\nbaz\n", "get", "kv/foo")
	e.expect("", "get", "kv/nothing")
	e.expect("kv/foo\nbaz\nkv/foo1\nv1\nkv/foo2\nv2\n", "get", "kv/foo", "--prefix")
	e.expect("kv/foo\nbar\n", "get", "kv/foo", fmt.Sprintf("--rev=%d", base+1))
	e.expect("kv/zed\nz\n", "get", "kv/zed", fmt.Sprintf("--rev=%d", base+5))
	e.expect("kv/foo\n\nkv/foo1\n\nkv/foo2\n\n", "get", "kv/foo", "--prefix", "--keys-only")
	e.expect("kv/foo\nbaz\nkv/foo1\nv1\n", "get", "kv/foo", "--prefix", "--limit=2")
	e.expect("baz\n", "get", "kv/foo", "--print-value-only")
	// A range is [key, range_end).
	e.expect("kv/foo\nbaz\nkv/foo1\nv1\n", "get", "kv/foo", "kv/foo2")
	e.expect("kv/foo1\nv1\nkv/foo2\nv2\nkv/zed\nz2\n", "get", "kv/foo1", "--from-key", "--limit=3")
	e.expect("kv/zed\n\nkv/foo2\n\nkv/foo1\n\nkv/foo\n\n", "get", "kv/", "--prefix", "--keys-only", "--sort-by=MODIFY", "--order=DESCEND")

	var one getJSON
	decodeJSON(t, e.ok("get", "kv/foo", "-w", "json"), &one)
	if one.Header.Revision != base+6 || one.Count != 1 || len(one.Kvs) != 1 {
		t.Fatalf("get -w json: header revision %d (want %d), count %d, %d kvs", one.Header.Revision, base+6, one.Count, len(one.Kvs))
	}
	kv := one.Kvs[0]
	if string(kv.Key) != "kv/foo" || string(kv.Value) != "baz" || kv.CreateRevision != base+1 || kv.ModRevision != base+2 || kv.Version != 2 {
		t.Errorf("get -w json: kv %s=%s create %d mod %d version %d; want kv/foo=baz create %d mod %d version 2",
			kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, base+1, base+2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if one.Header.ClusterID != ms.Header.ClusterId || one.Header.RaftTerm == 0 ||
		!slices.ContainsFunc(ms.Members, func(m *pb.Member) bool { return m.ID == one.Header.MemberID }) {
		t.Errorf("get -w json header: cluster %x member %x term %d; the cluster is %x", one.Header.ClusterID, one.Header.MemberID, one.Header.RaftTerm, ms.Header.ClusterId)
	}
	// The fields format shows More and Count, which the others hide.
	fields := e.ok("get", "kv/", "--prefix", "--count-only", "-w", "fields")
	if !strings.HasSuffix(fields, "\"More\" : false\n\"Count\" : 4\n") || strings.Contains(fields, "\"Key\"") {
		t.Errorf("get --count-only -w fields printed %q, want Count 4 and no keys", fields)
	}
	fields = e.ok("get", "kv/", "--prefix", "--limit=1", "-w", "fields")
	if !strings.HasSuffix(fields, "\"More\" : true\n\"Count\" : 4\n") || strings.Count(fields, "\"Key\"") != 1 {
		t.Errorf("get --limit=1 -w fields printed %q, want one key, More true and Count 4", fields)
	}
}

func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("etcdctl -w json printed %q: %v", out, err)
	}
}

func testEtcdctlDel(t *testing.T, e etcdctl, base int64) {
	e.ok("put", "del/a", "1")
	e.ok("put", "del/b", "2")
	e.ok("put", "del/c", "3")
	e.expect("1\n", "del", "del/a")
	e.expect("0\n", "del", "del/nothing")
	e.expect("1\ndel/b\n2\n", "del", "del/b", "--prev-kv")
	e.ok("put", "del/d", "4")
	e.expect("2\n", "del", "del/", "--prefix")
	e.expect("", "get", "del/", "--prefix")
	// History stays readable until compacted.
	e.expect("del/a\n1\n", "get", "del/a", fmt.Sprintf("--rev=%d", base+1))
}

func testEtcdctlTxn(t *testing.T, e etcdctl, base int64) {
	e.ok("put", "tx/k", "1") // base+1
	swap := "value(\"tx/k\") = \"1\"\n\nput tx/k \"2\"\nget tx/k\n\nput tx/k \"fail\"\n\n"
	if got := e.okWithStdin(swap, "txn"); got != "SUCCESS\n\nOK\n\ntx/k\n2\n" { // base+2
		t.Errorf("txn whose compare holds printed %q", got)
	}
	if got := e.okWithStdin(swap, "txn"); got != "FAILURE\n\nOK\n" { // base+3
		t.Errorf("txn whose compare fails printed %q", got)
	}
	e.expect("tx/k\nfail\n", "get", "tx/k")
	// Several compares, and an empty failure branch.
	del := fmt.Sprintf("mod(\"tx/k\") = \"%d\"\nversion(\"tx/k\") = \"3\"\ncreate(\"tx/k\") < \"%d\"\n\ndel tx/k\n\n\n", base+3, base+2)
	if got := e.okWithStdin(del, "txn"); got != "SUCCESS\n\n1\n" {
		t.Errorf("txn with three compares printed %q", got)
	}
	// A missing key has create revision 0.
	create := "create(\"tx/k\") = \"0\"\n\nput tx/k \"new\"\nget tx/ --prefix\n\n\n"
	if got := e.okWithStdin(create, "txn"); got != "SUCCESS\n\nOK\n\ntx/k\nnew\n" {
		t.Errorf("txn creating a missing key printed %q", got)
	}
	var j struct {
		Header struct {
			Revision int64 `json:"revision"`
		} `json:"header"`
		Succeeded bool `json:"succeeded"`
	}
	decodeJSON(t, e.okWithStdin("value(\"tx/k\") = \"nope\"\n\n\nput tx/other x\n\n", "txn", "-w", "json"), &j)
	if j.Succeeded || j.Header.Revision != base+6 {
		t.Errorf("txn -w json: succeeded %v at revision %d, want false at %d", j.Succeeded, j.Header.Revision, base+6)
	}
}

func testEtcdctlWatch(t *testing.T, e etcdctl, base int64) {
	from := fmt.Sprintf("--rev=%d", base+1)
	plain := e.background("watch", "--prefix", "w/", from)
	prev := e.background("watch", "--prefix", "w/", from, "--prev-kv")
	e.ok("put", "w/a", "1")
	e.ok("put", "other", "not watched")
	e.ok("put", "w/b", "2")
	e.ok("del", "w/a")
	for _, tc := range []struct {
		w    *bgEtcdctl
		want string
	}{
		{plain, "PUT\nw/a\n1\nPUT\nw/b\n2\nDELETE\nw/a\n\n"},
		{prev, "PUT\nw/a\n1\nPUT\nw/b\n2\nDELETE\nw/a\n1\nw/a\n\n"},
	} {
		got := tc.w.waitOutput("three events", func(out string) bool { return len(out) >= len(tc.want) })
		if got != tc.want {
			t.Errorf("etcdctl %s printed\n%q\nwant\n%q", tc.w.args, got, tc.want)
		}
	}
	// A watch started now sees only what comes next.
	live := e.background("watch", "w/live")
	want := "PUT\nw/live\nnow\n"
	deadline := time.Now().Add(bgOutputWithin)
	for !strings.HasPrefix(live.out.String(), want) && time.Now().Before(deadline) {
		// The watch may not be registered yet: write until it reports.
		e.ok("put", "w/live", "now")
		time.Sleep(100 * time.Millisecond)
	}
	if got := live.out.String(); !strings.HasPrefix(got, want) || strings.Count(got, "PUT\n") != strings.Count(got, want) {
		t.Errorf("live watch printed %q, want repetitions of %q", got, want)
	}
}

var leaseGranted = regexp.MustCompile(`^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$`)

func testEtcdctlLease(t *testing.T, e etcdctl) {
	m := leaseGranted.FindStringSubmatch(e.ok("lease", "grant", "60"))
	if m == nil {
		t.Fatal("lease grant did not print etcd's line")
	}
	id := m[1]
	e.expect("OK\n", "put", "lease/k", "v", "--lease="+id)
	e.expect(fmt.Sprintf("lease %s keepalived with TTL(60)\n", id), "lease", "keep-alive", "--once", id)
	ttl := regexp.MustCompile(`^lease ` + id + ` granted with TTL\(60s\), remaining\((\d+)s\), attached keys\(\[lease/k\]\)\n$`)
	out := e.ok("lease", "timetolive", id, "--keys")
	if m := ttl.FindStringSubmatch(out); m == nil {
		t.Errorf("lease timetolive --keys printed %q", out)
	} else if left, _ := strconv.Atoi(m[1]); left < 50 || left > 60 {
		t.Errorf("lease timetolive: %d s remaining of 60 right after a keep-alive", left)
	}
	e.expect(fmt.Sprintf("found 1 leases\n%s\n", id), "lease", "list")
	e.expect(fmt.Sprintf("lease %s revoked\n", id), "lease", "revoke", id)
	e.expect("", "get", "lease/k")
	e.expect(fmt.Sprintf("lease %s already expired\n", id), "lease", "timetolive", id)
	e.expect("found 0 leases\n", "lease", "list")
	if errOut := e.fails("put", "lease/k", "v", "--lease=1234abcd"); !strings.Contains(errOut, "etcdserver: requested lease not found") {
		t.Errorf("put with an unknown lease: stderr %q", errOut)
	}
}

func testEtcdctlMemberList(t *testing.T, e etcdctl, cli *clientv3.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	var rows [][]string
	for _, m := range ms.Members {
		row := []string{fmt.Sprintf("%x", m.ID), "started", m.Name, strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","), "false"}
		rows = append(rows, row)
		want.WriteString(strings.Join(row, ", ") + "\n")
	}
	e.expect(want.String(), "member", "list")
	hdr, got := parseTable(t, e.ok("member", "list", "-w", "table"))
	if !slices.Equal(hdr, []string{"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}) {
		t.Errorf("member list -w table header %q", hdr)
	}
	if !slices.EqualFunc(got, rows, slices.Equal) {
		t.Errorf("member list -w table rows %q, want %q", got, rows)
	}
}

// parseTable reads the header and rows of an etcdctl -w table output,
// whatever border characters the table writer draws.
func parseTable(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSpace(line)
		sep := ""
		for _, s := range []string{"|", "│"} {
			if strings.HasPrefix(line, s) {
				sep = s
			}
		}
		if sep == "" {
			continue // a border line
		}
		var cells []string
		for _, cell := range strings.Split(strings.Trim(line, sep), sep) {
			cells = append(cells, strings.TrimSpace(cell))
		}
		if header == nil {
			header = cells
		} else {
			rows = append(rows, cells)
		}
	}
	if header == nil {
		t.Fatalf("no table in %q", out)
	}
	return header, rows
}
