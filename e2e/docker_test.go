package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
)

// TestDockerComposeCluster builds the FROM-scratch image and runs the
// compose file's 3-node cluster on a private Docker network: clients on
// the published ports see one cluster, and it keeps serving after one
// container is killed. It needs a Docker engine and docker-compose; CI
// sets CAIRN_REQUIRE_DOCKER so that their absence fails instead of
// skipping.
func TestDockerComposeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and starts containers")
	}
	for _, tool := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CAIRN_REQUIRE_DOCKER") != "" {
				t.Fatalf("%s is required (CAIRN_REQUIRE_DOCKER) but not found", tool)
			}
			t.Skipf("%s not found", tool)
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("cairn:e2e-%d", os.Getpid())
	run := func(timeout time.Duration, env []string, name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run(5*time.Minute, nil, "bash", "deploy/build-image.sh", tag)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })

	ports := testutil.FreePorts(t, 6)
	project := fmt.Sprintf("cairne2e%d", os.Getpid())
	env := []string{"CAIRN_IMAGE=" + tag}
	for i := range 3 {
		env = append(env, fmt.Sprintf("CAIRN_CLIENT%d=%d", i+1, ports[2*i]), fmt.Sprintf("CAIRN_HTTP%d=%d", i+1, ports[2*i+1]))
	}
	compose := func(args ...string) string {
		return run(2*time.Minute, env, "docker-compose", append([]string{"-p", project, "-f", "deploy/docker-compose.yml"}, args...)...)
	}
	compose("up", "-d")
	t.Cleanup(func() {
		cmd := exec.Command("docker-compose", "-p", project, "-f", "deploy/docker-compose.yml", "down", "-v", "-t", "2")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		_ = cmd.Run()
	})

	var endpoints []string
	for i := range 3 {
		endpoints = append(endpoints, fmt.Sprintf("127.0.0.1:%d", ports[2*i]))
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var members *clientv3.MemberListResponse
	for {
		members, err = cli.MemberList(ctx)
		started := 0
		if err == nil {
			for _, m := range members.Members {
				if m.Name != "" {
					started++
				}
			}
		}
		if started == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("compose cluster not up: %v %v\n%s", members, err, compose("logs", "--tail", "20"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := cli.Put(ctx, "in", "docker"); err != nil {
		t.Fatal(err)
	}
	// Kill one container (SIGKILL); the other two keep serving.
	compose("kill", "-s", "SIGKILL", "node2")
	survivors, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoints[0], endpoints[2]}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer survivors.Close()
	for {
		_, err := survivors.Put(ctx, "after-kill", "x")
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no write after killing node2: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	get, err := survivors.Get(ctx, "in")
	if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "docker" {
		t.Fatalf("read after kill: %v %v", get, err)
	}
	if out := compose("ps"); !strings.Contains(out, "node1") {
		t.Fatalf("compose ps: %s", out)
	}
}
