package testutil

import (
	"os"
	"os/exec"
	"testing"

	"github.com/cairndb/cairn/internal/freeport"
)

// FreePorts returns n distinct loopback ports that were free, for TCP and
// UDP, a moment ago, below the kernel's ephemeral range (see freeport.Pick
// for why, and for the hazard that remains).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports, err := freeport.Pick(n)
	if err != nil {
		t.Fatal(err)
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
