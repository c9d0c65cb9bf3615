package testutil

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// FreePorts returns n distinct loopback ports that were free a moment
// ago. HAZARD: they are released before use, so another process may take
// one in between; tests that must not flake on a busy machine retry.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// EtcdctlPath finds etcd's own etcdctl: $CAIRN_ETCDCTL, then PATH. CI
// builds it (internal/tools/build-etcdctl.sh) and sets
// $CAIRN_REQUIRE_ETCDCTL, so that a missing etcdctl fails the test there
// instead of skipping it.
func EtcdctlPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CAIRN_ETCDCTL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("etcdctl"); err == nil {
		return p
	}
	if os.Getenv("CAIRN_REQUIRE_ETCDCTL") != "" {
		t.Fatal("etcdctl is required (CAIRN_REQUIRE_ETCDCTL) but not found; run internal/tools/build-etcdctl.sh")
	}
	t.Skip("etcdctl not found: run internal/tools/build-etcdctl.sh and set CAIRN_ETCDCTL")
	return ""
}
