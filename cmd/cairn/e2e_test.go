package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/testutil"
)

// TestDevClusterWithEtcdctl is the README's first command end to end:
// `cairn dev` starts three real server processes on the design's ports,
// and etcd's own etcdctl works against them.
func TestDevClusterWithEtcdctl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	etcdctl := testutil.EtcdctlPath(t)
	for _, port := range []string{"2379", "12379", "22379", "2380", "12380", "22380", "8080", "18080", "28080"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Skipf("port %s is busy (a cluster already running?): %v", port, err)
		}
		ln.Close()
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cairn")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dev := exec.Command(bin, "dev", "--nodes", "3", "--data-dir", filepath.Join(dir, "data"))
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dev.Stderr = dev.Stdout
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	up := make(chan struct{})
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
			if strings.Contains(line, "nodes up") {
				close(up)
			}
		}
		exited <- dev.Wait()
	}()
	defer func() {
		_ = dev.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = dev.Process.Kill()
			t.Error("cairn dev did not stop within 20s of Ctrl-C")
		}
	}()
	select {
	case <-up:
	case err := <-exited:
		t.Fatalf("cairn dev exited: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("cluster not up within 60s:\n%s", log.String())
	}

	endpoints := "--endpoints=127.0.0.1:2379,127.0.0.1:12379,127.0.0.1:22379"
	ctl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, etcdctl, append([]string{endpoints}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("etcdctl %v: %v\n%s\ncluster log:\n%s", args, err, out, log.String())
		}
		return string(out)
	}
	if out := ctl("put", "hello", "world"); strings.TrimSpace(out) != "OK" {
		t.Fatalf("etcdctl put printed %q", out)
	}
	if out := ctl("get", "hello"); out != "hello\nworld\n" {
		t.Fatalf("etcdctl get printed %q", out)
	}
	for _, ep := range []string{"127.0.0.1:12379", "127.0.0.1:22379"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, etcdctl, "--endpoints="+ep, "get", "hello", "--print-value-only").CombinedOutput()
		cancel()
		if err != nil || string(out) != "world\n" {
			t.Fatalf("get through %s: %v %q", ep, err, out)
		}
	}
	if out := ctl("member", "list"); strings.Count(out, "started") != 3 || !strings.Contains(out, "node2") {
		t.Fatalf("etcdctl member list printed %q", out)
	}
	if out := ctl("endpoint", "health"); strings.Count(out, "is healthy") != 3 {
		t.Fatalf("etcdctl endpoint health printed %q", out)
	}
	if out := ctl("endpoint", "status", "-w", "table"); strings.Count(out, "3.7.3") != 3 {
		t.Fatalf("etcdctl endpoint status printed %q", out)
	}
	ctl("put", "lock/a", "1")
	if out := ctl("del", "--prefix", "lock/"); strings.TrimSpace(out) != "1" {
		t.Fatalf("etcdctl del printed %q", out)
	}
	lease := ctl("lease", "grant", "60")
	if !strings.Contains(lease, "granted with TTL(60s)") {
		t.Fatalf("etcdctl lease grant printed %q", lease)
	}
}
