package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairndb/cairn/internal/testutil"
)

// TestDockerComposeCluster builds the FROM-scratch image and runs the
// compose file's 3-node cluster on a private Docker network: etcd and
// Redis clients on the published ports see one cluster; with one
// container disconnected from the network the other two serve both
// protocols and the third catches up when it is back; and the cluster
// keeps serving after one container is killed. It needs a Docker engine
// and docker-compose; CI sets CAIRN_REQUIRE_DOCKER so that their absence
// fails instead of skipping.
func TestDockerComposeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and starts containers")
	}
	tag := dockerImage(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
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

	ports := testutil.FreePorts(t, 9) // client, RESP and admin of each node
	project := fmt.Sprintf("cairne2e%d", os.Getpid())
	env := []string{"CAIRN_IMAGE=" + tag}
	for i := range 3 {
		env = append(env, fmt.Sprintf("CAIRN_CLIENT%d=%d", i+1, ports[3*i]), fmt.Sprintf("CAIRN_REDIS%d=%d", i+1, ports[3*i+1]),
			fmt.Sprintf("CAIRN_HTTP%d=%d", i+1, ports[3*i+2]))
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
	var rdb []*redis.Client
	for i := range 3 {
		endpoints = append(endpoints, fmt.Sprintf("127.0.0.1:%d", ports[3*i]))
		r := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", ports[3*i+1]), MaxRetries: -1})
		t.Cleanup(func() { _ = r.Close() })
		rdb = append(rdb, r)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	// Members list themselves before the first election is over.
	eventually(t, time.Minute, "first put", func() error { _, err := cli.Put(ctx, "in", "docker"); return err })
	// Both clients: a Redis write through node1 is read through node3.
	eventually(t, time.Minute, "SET through node1", func() error { return rdb[0].Set(ctx, "r", "docker", 0).Err() })
	if v, err := rdb[2].Get(ctx, "r").Result(); err != nil || v != "docker" {
		t.Fatalf("GET through node3: %q %v", v, err)
	}

	// Cut node2 off the network: the other two keep serving both
	// protocols, and node2 catches up once it is back.
	node2 := strings.TrimSpace(compose("ps", "-q", "node2"))
	network := project + "_cairn"
	run(time.Minute, nil, "docker", "network", "disconnect", network, node2)
	survivors, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoints[0], endpoints[2]}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer survivors.Close()
	eventually(t, time.Minute, "put with node2 cut off", func() error { _, err := survivors.Put(ctx, "during-partition", "x"); return err })
	eventually(t, time.Minute, "INCR with node2 cut off", func() error { return rdb[0].Incr(ctx, "visits").Err() })
	eventually(t, time.Minute, "INCR with node2 cut off", func() error { return rdb[2].Incr(ctx, "visits").Err() })
	run(time.Minute, nil, "docker", "network", "connect", "--alias", "node2", network, node2)
	node2cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoints[1]}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer node2cli.Close()
	eventually(t, time.Minute, "node2 serves the write made while it was cut off", func() error {
		get, err := node2cli.Get(ctx, "during-partition", clientv3.WithSerializable())
		if err == nil && len(get.Kvs) != 1 {
			err = errors.New("not there yet")
		}
		return err
	})
	eventually(t, time.Minute, "node2 reads both increments", func() error {
		v, err := rdb[1].Get(ctx, "visits").Result()
		if err == nil && v != "2" {
			err = fmt.Errorf("visits = %s", v)
		}
		return err
	})

	// Kill one container (SIGKILL); the other two keep serving.
	compose("kill", "-s", "SIGKILL", "node2")
	eventually(t, time.Minute, "put after killing node2", func() error { _, err := survivors.Put(ctx, "after-kill", "x"); return err })
	get, err := survivors.Get(ctx, "in")
	if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "docker" {
		t.Fatalf("read after kill: %v %v", get, err)
	}
	eventually(t, time.Minute, "INCR after killing node2", func() error { return rdb[2].Incr(ctx, "visits").Err() })
	if out := compose("ps"); !strings.Contains(out, "node1") {
		t.Fatalf("compose ps: %s", out)
	}
}
