package main

import (
	"bytes"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out, "cairn "+version+" ") {
			t.Fatalf("%v printed %q", args, out)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	out, err := run(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version", "server", "dev"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %q:\n%s", want, out)
		}
	}
}

func TestDevValidatesNodes(t *testing.T) {
	if _, err := run(t, "dev", "--nodes", "9"); err == nil || !strings.Contains(err.Error(), "--nodes") {
		t.Fatalf("dev --nodes 9 returned %v, want a flag validation error", err)
	}
}

func TestDevPlanFollowsTheDesignPorts(t *testing.T) {
	plan := devPlan(3)
	want := []devNode{
		{"node1", "http://127.0.0.1:2379", "http://127.0.0.1:2380", "127.0.0.1:6379", "127.0.0.1:8080"},
		{"node2", "http://127.0.0.1:12379", "http://127.0.0.1:12380", "127.0.0.1:16379", "127.0.0.1:18080"},
		{"node3", "http://127.0.0.1:22379", "http://127.0.0.1:22380", "127.0.0.1:26379", "127.0.0.1:28080"},
	}
	for i := range want {
		if plan[i] != want[i] {
			t.Errorf("slot %d = %+v, want %+v", i, plan[i], want[i])
		}
	}
	args := strings.Join(devArgs(plan, 1, "d"), " ")
	for _, w := range []string{"--name node2", "--initial-cluster node1=http://127.0.0.1:2380,node2=http://127.0.0.1:12380,node3=http://127.0.0.1:22380", "--data-dir d/node2"} {
		if !strings.Contains(args, w) {
			t.Errorf("server args %q lack %q", args, w)
		}
	}
}

func TestServerFlagsValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"server", "--initial-cluster-state", "maybe"}, "--initial-cluster-state"},
		{[]string{"server", "--listen-client-urls", "ftp://x:1"}, "scheme"},
		{[]string{"server", "--name", "a", "--initial-cluster", "b=http://127.0.0.1:2380"}, "no member named"},
		{[]string{"server", "--election-timeout", "100", "--heartbeat-interval", "100"}, "--election-timeout"},
	} {
		if _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	if _, err := run(t, "no-such-command"); err == nil {
		t.Fatal("unknown command succeeded")
	}
}
