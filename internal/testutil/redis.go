package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisBinary finds a Redis tool (redis-cli, redis-benchmark,
// redis-server) on PATH. Without it the test is skipped, unless
// $CAIRN_REQUIRE_REDIS is set (as CI sets it), when it fails.
func RedisBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CAIRN_REQUIRE_REDIS") != "" {
		t.Fatalf("%s is required ($CAIRN_REQUIRE_REDIS) but not on PATH: apt-get install redis-tools redis-server", name)
	}
	t.Skipf("%s not on PATH (apt-get install redis-tools redis-server); skipping", name)
	return ""
}

// StartRedisServer runs Debian's redis-server on a free loopback port for
// the test, without persistence, and returns its address; it is killed at
// the end of the test.
func StartRedisServer(t testing.TB, args ...string) string {
	t.Helper()
	bin := RedisBinary(t, "redis-server")
	var lastErr error
	for range 5 { // a port found free may be taken before redis binds it
		port := FreePorts(t, 1)[0]
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitRedisUp(addr, exited); err != nil {
			_ = cmd.Process.Kill()
			lastErr = err
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		return addr
	}
	t.Fatalf("redis-server did not start: %v", lastErr)
	return ""
}

func waitRedisUp(addr string, exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited: %v", err)
		default:
		}
		if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			nc.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not listen on %s within 20s", addr)
}
