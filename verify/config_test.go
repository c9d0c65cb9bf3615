package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/verify/nemesis"
)

func TestDefaultConfigNeedsOnlyABinary(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Fatalf("default without a binary: %v", err)
	}
	c.Binary = "/bin/cairn"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEveryBadField(t *testing.T) {
	c := DefaultConfig()
	c.Target, c.Duration, c.Workloads = "cloud", 0, []string{"register", "queue"}
	err := c.Validate()
	for _, want := range []string{`target "cloud"`, "duration 0s", `unknown workload "queue"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	c = DefaultConfig()
	c.Target, c.Endpoints, c.HTTPAddrs = "attach", []string{"a:1", "b:1"}, []string{"a:2"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "1 http addresses for 2 endpoints") {
		t.Errorf("mismatched attach lists: %v", err)
	}
}

// The repeat command must carry every choice that shapes the run.
func TestCommandRepeatsTheRun(t *testing.T) {
	c := DefaultConfig()
	c.Seed, c.Duration, c.Nodes = 77, 90*time.Second, 5
	c.Nemeses = []nemesis.Kind{nemesis.Partition, nemesis.Member}
	c.Workloads = []string{"bank", "counter"}
	c.UnsafeSerializableReads = true
	cmd := c.Command()
	for _, want := range []string{"cairn verify", "--target local", "--time 1m30s", "--nemesis partition,member", "--workload bank,counter",
		"--seed 77", "--nodes 5", "--interval 5s", "--hold 5s", "--rate 50", "--op-timeout 2s", "--unsafe-serializable-reads"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command %q lacks %q", cmd, want)
		}
	}
}
