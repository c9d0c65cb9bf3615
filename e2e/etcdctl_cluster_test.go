package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// healthLine is etcdctl's line for a healthy endpoint.
var healthLine = regexp.MustCompile(`^(\S+) is healthy: successfully committed proposal: took = \S+$`)

func testEtcdctlEndpoint(t *testing.T, e etcdctl, c *procCluster) {
	var clientURLs []string
	memberIDs := map[string]string{} // endpoint -> member ID in hex
	for i, p := range c.procs {
		st, err := c.status(i)
		if err != nil {
			t.Fatal(err)
		}
		clientURLs = append(clientURLs, p.clientURL)
		memberIDs[p.endpoint()] = fmt.Sprintf("%x", st.Header.MemberId)
		memberIDs[p.clientURL] = memberIDs[p.endpoint()]
	}

	// Health: the endpoints given, then those of the member list.
	checkHealth := func(want []string, args ...string) {
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(e.ok(args...)), "\n") {
			m := healthLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("etcdctl %s printed %q", strings.Join(args, " "), line)
				continue
			}
			got = append(got, m[1])
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("etcdctl %s: healthy %q, want %q", strings.Join(args, " "), got, want)
		}
	}
	checkHealth(e.endpoints, "endpoint", "health")
	checkHealth(clientURLs, "endpoint", "health", "--cluster")

	// Status: one row per endpoint, in the order given, with etcd's
	// fields; one leader and one term (an election in between, on a
	// loaded machine, is waited out).
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := strings.Split(strings.TrimSpace(e.ok("endpoint", "status")), "\n")
		if len(lines) != len(e.endpoints) {
			t.Fatalf("endpoint status printed %d lines for %d endpoints: %q", len(lines), len(e.endpoints), lines)
		}
		leaders, terms := 0, map[string]bool{}
		for i, line := range lines {
			f := strings.Split(line, ", ")
			// endpoint, ID, version, storage version, db size, in use,
			// percentage not in use, quota, is leader, is learner, raft
			// term, raft index, raft applied index, errors, downgrade
			// target version, downgrade enabled.
			if len(f) != 16 {
				t.Fatalf("endpoint status line has %d fields, want 16: %q", len(f), line)
			}
			if f[0] != e.endpoints[i] || f[1] != memberIDs[f[0]] || f[2] != "3.7.3" || f[9] != "false" || f[13] != "" || f[15] != "false" {
				t.Errorf("endpoint status line %q (member %s)", line, memberIDs[e.endpoints[i]])
			}
			if f[8] == "true" {
				leaders++
			}
			terms[f[10]] = true
		}
		if leaders == 1 && len(terms) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("endpoint status shows %d leaders in %d terms:\n%s", leaders, len(terms), strings.Join(lines, "\n"))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	hdr, rows := parseTable(t, e.ok("endpoint", "status", "--cluster", "-w", "table"))
	if len(hdr) != 16 || hdr[0] != "ENDPOINT" || hdr[8] != "IS LEADER" || len(rows) != len(c.procs) {
		t.Errorf("endpoint status --cluster -w table: header %q, %d rows", hdr, len(rows))
	}
	for _, row := range rows {
		if len(row) != len(hdr) || memberIDs[row[0]] != row[1] {
			t.Errorf("endpoint status --cluster -w table row %q", row)
		}
	}

	// HashKV: every member hashes the same history. A follower may lag a
	// write behind for a moment, so agreement is awaited.
	deadline = time.Now().Add(10 * time.Second)
	for {
		out := e.ok("endpoint", "hashkv", "--cluster")
		hashes := map[string]bool{}
		var n int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Split(line, ", "); len(f) == 3 {
				hashes[f[1]+"@"+f[2]] = true
				n++
			}
		}
		if n == len(c.procs) && len(hashes) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("endpoint hashkv --cluster printed %q: want %d lines with one hash", out, len(c.procs))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testEtcdctlCompaction(t *testing.T, e etcdctl, base int64) {
	e.ok("put", "cmp/k", "v1") // base+1
	e.ok("put", "cmp/k", "v2") // base+2
	e.ok("put", "cmp/k", "v3") // base+3
	rev := func(r int64) string { return fmt.Sprintf("--rev=%d", r) }
	e.expect(fmt.Sprintf("compacted revision %d\n", base+2), "compaction", fmt.Sprint(base+2))
	if errOut := e.fails("get", "cmp/k", rev(base+1)); !strings.Contains(errOut, "Error: etcdserver: mvcc: required revision has been compacted") {
		t.Errorf("get below the compaction: stderr %q", errOut)
	}
	e.expect("cmp/k\nv2\n", "get", "cmp/k", rev(base+2))
	if errOut := e.fails("get", "cmp/k", rev(base+1000)); !strings.Contains(errOut, "Error: etcdserver: mvcc: required revision is a future revision") {
		t.Errorf("get at a future revision: stderr %q", errOut)
	}
	if errOut := e.fails("compaction", fmt.Sprint(base+1)); !strings.Contains(errOut, "Error: etcdserver: mvcc: required revision has been compacted") {
		t.Errorf("compaction below the compaction: stderr %q", errOut)
	}
	e.expect(fmt.Sprintf("compacted revision %d\n", base+3), "compaction", "--physical", fmt.Sprint(base+3))
	e.expect("cmp/k\nv3\n", "get", "cmp/k")
}

// lockKey is what `etcdctl lock NAME` prints once it holds the lock: the
// lock's key (NAME/lease ID) and its empty value.
func lockKey(name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `/[0-9a-f]+\n\n$`)
}

// contended is how long a waiter must stay blocked to show that a lock or
// an election excludes it.
const contended = time.Second

// testEtcdctlLock checks etcdctl's lock recipe (clientv3/concurrency over
// KV, Lease and Watch): a second locker waits until the first lets go.
func testEtcdctlLock(t *testing.T, e etcdctl) {
	holder := e.background("lock", "lk")
	holder.waitOutput("the lock", lockKey("lk").MatchString)
	waiter := e.background("lock", "lk", "echo", "second holder")
	time.Sleep(contended)
	if out := waiter.out.String(); out != "" || waiter.hasExited() {
		t.Fatalf("a second locker got the lock while the first held it: printed %q, exited %v", out, waiter.hasExited())
	}
	if err := holder.interrupt(); err != nil {
		t.Errorf("lock holder interrupted: %v, want a clean unlock; stderr %q", err, holder.errOut.String())
	}
	waiter.waitOutput("the command's output", func(out string) bool { return out == "second holder\n" })
	if err := waiter.wait(); err != nil {
		t.Errorf("lock with a command: %v; stderr %q", err, waiter.errOut.String())
	}
}

// testEtcdctlElect checks etcdctl's election recipe: one leader at a
// time, observers see each leader, resigning hands over.
func testEtcdctlElect(t *testing.T, e etcdctl) {
	leaderOf := func(value string) *regexp.Regexp {
		return regexp.MustCompile(`^el/[0-9a-f]+\n` + value + `\n$`)
	}
	alice := e.background("elect", "el", "alice")
	alice.waitOutput("leadership", leaderOf("alice").MatchString)
	observer := e.background("elect", "--listen", "el")
	observer.waitOutput("the leader", leaderOf("alice").MatchString)
	bob := e.background("elect", "el", "bob")
	time.Sleep(contended)
	if out := bob.out.String(); out != "" {
		t.Fatalf("a second candidate was elected while the first led: %q", out)
	}
	if err := alice.interrupt(); err != nil {
		t.Errorf("leader interrupted: %v, want a clean resignation; stderr %q", err, alice.errOut.String())
	}
	bob.waitOutput("leadership", leaderOf("bob").MatchString)
	seen := observer.waitOutput("the new leader", func(out string) bool { return strings.HasSuffix(out, "\nbob\n") })
	if !regexp.MustCompile(`^el/[0-9a-f]+\nalice\nel/[0-9a-f]+\nbob\n$`).MatchString(seen) {
		t.Errorf("observer printed %q, want alice then bob", seen)
	}
	if err := bob.interrupt(); err != nil {
		t.Errorf("leader interrupted: %v; stderr %q", err, bob.errOut.String())
	}
	if err := observer.interrupt(); err != nil {
		t.Errorf("observer interrupted: %v; stderr %q", err, observer.errOut.String())
	}
}
