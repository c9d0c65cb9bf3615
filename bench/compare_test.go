package bench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDefaultCompareWorkloadsAreValid(t *testing.T) {
	strong, eventual := DefaultCompareWorkloads(time.Second)
	for _, w := range append(strong, eventual...) {
		s := w.Spec
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", w.Name, err)
		}
		if s.Kind.Strong() != (len(strong) > 0 && contains(strong, w.Name)) {
			t.Errorf("%s is listed in the wrong tier", w.Name)
		}
	}
}

func contains(ws []CompareWorkload, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return true
		}
	}
	return false
}

func TestWorkloadsOfEachSystem(t *testing.T) {
	cfg := DefaultCompareConfig()
	names := func(sys string) []string {
		var out []string
		for _, w := range cfg.workloadsOf(sys) {
			n := w.Name
			if w.Consistency != "" {
				n += "@" + w.Consistency
			}
			out = append(out, n)
		}
		return out
	}
	etcd, redis, cairn := names(SystemEtcd), names(SystemRedis), names(SystemCairn)
	if len(etcd) != len(cfg.Strong) || strings.Contains(strings.Join(etcd, " "), "set-50") {
		t.Fatalf("etcd runs %v", etcd)
	}
	if len(redis) != len(cfg.Eventual) || strings.Contains(strings.Join(redis, " "), "@") {
		t.Fatalf("redis runs %v: want every RESP workload once, with no level", redis)
	}
	if len(cairn) != len(cfg.Strong)+2*len(cfg.Eventual) || !strings.Contains(strings.Join(cairn, " "), "set-50@ONE set-50@QUORUM") {
		t.Fatalf("cairn runs %v: want the strong workloads and each RESP one at ONE and QUORUM", cairn)
	}
}

func TestCompareRecordsASystemItCannotStart(t *testing.T) {
	cfg := DefaultCompareConfig()
	cfg.Systems, cfg.Rounds, cfg.MemoryKeys = []string{SystemEtcd}, 2, 0
	cfg.Launch.Dir = t.TempDir()
	rep := NewReport("test", nil)
	if err := Compare(context.Background(), cfg, rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2*len(cfg.Strong) || len(rep.Notes) != 2 {
		t.Fatalf("%d runs, notes %v; want every run recorded as failed and a note per round", len(rep.Runs), rep.Notes)
	}
	for _, r := range rep.Runs {
		if r.Error == "" || r.Target != SystemEtcd {
			t.Fatalf("run %+v", r)
		}
	}
	if err := Compare(context.Background(), CompareConfig{Systems: []string{"mysql"}, Rounds: 1}, rep); err == nil {
		t.Fatal("compared an unknown system")
	}
}

// TestRedisLauncherStartsAndStops starts a real redis-server (skipped when
// none is installed, unless CAIRN_REQUIRE_REDIS is set, as CI does) and
// checks that Stop ends the process and removes its directory.
func TestRedisLauncherStartsAndStops(t *testing.T) {
	bin, err := FindRedisServer()
	if err != nil {
		if os.Getenv("CAIRN_REQUIRE_REDIS") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c, err := StartRedis(context.Background(), LaunchConfig{Bin: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pid := c.PIDs()[0]
	spec := DefaultSpec(KindSet)
	spec.Clients, spec.Total = 4, 100
	res, err := Run(context.Background(), spec, c.Target(), RunOptions{})
	if err != nil || res.Requests != 100 {
		c.Stop()
		t.Fatalf("set against the started redis: %v, %d answered", err, res.Requests)
	}
	if rss, err := c.RSSBytes(); err == nil && rss <= 0 {
		t.Errorf("RSS %d", rss)
	}
	c.Stop()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("redis-server (pid %d) still runs after Stop", pid)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s left behind: %v", c.Dir, err)
	}
	c.Stop() // idempotent
}

func TestFindRedisServerMatchesPath(t *testing.T) {
	_, lookErr := exec.LookPath("redis-server")
	if _, err := FindRedisServer(); (err == nil) != (lookErr == nil) {
		t.Fatalf("FindRedisServer %v, LookPath %v", err, lookErr)
	}
}
