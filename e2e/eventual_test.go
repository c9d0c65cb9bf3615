package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Gossip timings for eventual-tier tests: a dead member is known within
// a couple of seconds, so sloppy quorum and handoff start soon.
var fastGossipFlags = []string{"--gossip-interval", "200ms", "--gossip-suspicion-mult", "4"}

func redisClient(t *testing.T, p *serverProc) *redis.Client {
	t.Helper()
	cli := redis.NewClient(&redis.Options{Addr: p.redisAddr, MaxRetries: -1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	t.Cleanup(func() { cli.Close() })
	return cli
}

func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEventualTierServesRedisClientsThroughFailures runs three real
// processes and talks to them with go-redis: writes through one node are
// read through another, concurrent INCRs through every node add up, a
// killed replica does not stop QUORUM writes but fails ALL with a clear
// error, and once back it receives what it missed (hinted handoff).
func TestEventualTierServesRedisClientsThroughFailures(t *testing.T) {
	if !cairnOnly(t, "the eventual tier") {
		t.Skip("etcd has no Redis protocol")
	}
	c := startCluster(t, 3, fastGossipFlags...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clis := []*redis.Client{redisClient(t, c.procs[0]), redisClient(t, c.procs[1]), redisClient(t, c.procs[2])}

	if err := clis[0].Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := clis[1].Get(ctx, "greeting").Result(); err != nil || v != "hello" {
		t.Fatalf("GET through another node = %q, %v", v, err)
	}
	var wg sync.WaitGroup
	for _, cli := range clis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := cli.Incr(ctx, "hits").Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v, err := clis[2].Get(ctx, "hits").Result(); err != nil || v != "150" {
		t.Fatalf("150 concurrent INCRs through 3 nodes read %q, %v", v, err)
	}

	// Kill node 3: QUORUM writes go on, ALL fails and says why.
	c.procs[2].kill()
	for i := range 20 {
		if err := clis[0].SAdd(ctx, "set", fmt.Sprint("m", i)).Err(); err != nil {
			t.Fatalf("SADD at QUORUM with one replica down: %v", err)
		}
	}
	all := clis[0].Conn()
	defer all.Close()
	if err := all.Do(ctx, "CAIRN.CONSISTENCY", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	err := all.Set(ctx, "strict", "x", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") || !strings.Contains(err.Error(), "needs 3 of 3 replicas, 2 answered") {
		t.Fatalf("SET at ALL with a replica down: %v", err)
	}

	// Restart node 3: it gets the writes it missed, and serves them at ONE.
	c.procs[2].start()
	c.waitReady(2)
	one := redisClient(t, c.procs[2]).Conn()
	defer one.Close()
	if err := one.Do(ctx, "CAIRN.CONSISTENCY", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the restarted replica has every SADD", func() error {
		m, err := one.SMembers(ctx, "set").Result()
		if err != nil {
			return err
		}
		if len(m) != 20 {
			return fmt.Errorf("%d members", len(m))
		}
		return nil
	})
	eventually(t, 30*time.Second, "SET at ALL once the replica is back", func() error {
		return all.Set(ctx, "strict", "x", 0).Err()
	})
}

// TestRedisToolsWorkUnchanged drives a node with redis-cli and
// redis-benchmark from Debian's packages.
func TestRedisToolsWorkUnchanged(t *testing.T) {
	if !cairnOnly(t, "the eventual tier") {
		t.Skip("etcd has no Redis protocol")
	}
	cliPath, err1 := exec.LookPath("redis-cli")
	benchPath, err2 := exec.LookPath("redis-benchmark")
	if err := errors.Join(err1, err2); err != nil {
		if requireTools() {
			t.Fatalf("redis-cli and redis-benchmark are required (apt-get install redis-tools): %v", err)
		}
		t.Skipf("redis-cli or redis-benchmark not installed: %v", err)
	}
	c := startCluster(t, 3, fastGossipFlags...)
	host, port, _ := strings.Cut(c.procs[0].redisAddr, ":")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(cliPath, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "k", "v"}, "OK"},
		{[]string{"GET", "k"}, "v"},
		{[]string{"INCRBY", "n", "41"}, "41"},
		{[]string{"INCR", "n"}, "42"},
		{[]string{"SADD", "s", "a", "b"}, "2"},
		{[]string{"SCARD", "s"}, "2"},
		{[]string{"HSET", "h", "f", "1"}, "1"},
		{[]string{"HGET", "h", "f"}, "1"},
		{[]string{"TYPE", "h"}, "hash"},
		{[]string{"EXPIRE", "k", "100"}, "1"},
		{[]string{"DEL", "k", "nope"}, "1"},
		{[]string{"EXISTS", "k"}, "0"},
	} {
		if got := run(step.args...); got != step.want {
			t.Fatalf("redis-cli %v = %q, want %q", step.args, got, step.want)
		}
	}
	if got := run("SMEMBERS", "s"); !sameLines(got, "a\nb") {
		t.Fatalf("SMEMBERS = %q", got)
	}
	out, err := exec.Command(benchPath, "-h", host, "-p", port, "-n", "3000", "-c", "10", "-t", "set,get,incr", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	for _, test := range []string{"SET", "GET", "INCR"} {
		if !strings.Contains(string(out), test+": ") || !strings.Contains(string(out), "requests per second") {
			t.Fatalf("redis-benchmark did not report %s:\n%s", test, out)
		}
	}
	t.Logf("redis-benchmark against a 3-node cluster (loaded test machine):\n%s", out)
}

func sameLines(a, b string) bool {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, "\n") == strings.Join(y, "\n")
}

// requireTools reports whether CI asked for the Redis tools to be present
// ($CAIRN_REQUIRE_REDIS_TOOLS), so that their absence fails the test
// instead of skipping it.
func requireTools() bool { return os.Getenv("CAIRN_REQUIRE_REDIS_TOOLS") != "" }
