package resp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/testutil"
)

// redis-cli and redis-benchmark, Redis's own tools, against the server.

// runTool runs a Redis tool with stdin and returns its stdout, failing
// the test on a non-zero exit.
func runTool(t *testing.T, bin, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstdout: %s\nstderr: %s", bin, args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func TestRedisCli(t *testing.T) {
	cli := testutil.RedisBinary(t, "redis-cli")
	ts := startServer(t, nil)
	h, p := hostPort(t, ts.addr)
	run := func(stdin string, args ...string) string {
		out, _ := runTool(t, cli, stdin, append([]string{"-h", h, "-p", p}, args...)...)
		return out
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG\n"},
		{[]string{"SET", "k", "hello world"}, "OK\n"},
		{[]string{"GET", "k"}, "hello world\n"},
		{[]string{"--no-raw", "GET", "k"}, "\"hello world\"\n"},
		{[]string{"--no-raw", "GET", "nosuch"}, "(nil)\n"},
		{[]string{"--no-raw", "INCR", "n"}, "(integer) 1\n"},
		{[]string{"--no-raw", "MGET", "k", "nosuch"}, "1) \"hello world\"\n2) (nil)\n"},
		{[]string{"--no-raw", "frob", "a"}, "(error) ERR unknown command 'frob', with args beginning with: 'a' \n"},
		{[]string{"-3", "--no-raw", "GET", "nosuch"}, "(nil)\n"},
		{[]string{"-3", "--no-raw", "HELLO", "3"}, ""}, // checked below
		{[]string{"-n", "0", "PING"}, "PONG\n"},
		{[]string{"--user", "default", "--pass", "x", "PING"}, "PONG\n"},
	} {
		got := run("", tc.args...)
		if tc.args[len(tc.args)-1] == "3" {
			if !strings.Contains(got, `1# "server" => "redis"`) || !strings.Contains(got, `3# "proto" => (integer) 3`) {
				t.Errorf("redis-cli -3 HELLO 3:\n%s", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("redis-cli %q: %q, want %q", tc.args, got, tc.want)
		}
	}
	// Commands on stdin go inline, one per line, with redis-cli's quoting.
	if got := run("SET a 1\nINCR a\nGET a\nSET q \"x y\"\nGET q\n"); got != "OK\n2\n2\nOK\nx y\n" {
		t.Errorf("redis-cli with commands on stdin: %q", got)
	}
	if got := run("", "CLIENT", "LIST"); !strings.Contains(got, " cmd=client|list ") {
		t.Errorf("redis-cli CLIENT LIST: %q", got)
	}
	// --pipe: raw protocol in, an ECHO of a random marker at the end.
	var in strings.Builder
	for i := range 1000 {
		in.WriteString(cmd("SET", fmt.Sprintf("pipe:%d", i), "v"))
	}
	if got := run(in.String(), "--pipe"); !strings.Contains(got, "errors: 0, replies: 1000") {
		t.Errorf("redis-cli --pipe: %q", got)
	}
	if v, ok := ts.store.value("pipe:999"); !ok || v != "v" {
		t.Errorf("after --pipe, pipe:999 = %q, %v", v, ok)
	}
}

// redis-cli in interactive mode, on a pseudo-terminal (script(1)): at start
// it asks COMMAND DOCS for its hints and must still work with cairn's
// answer.
func TestRedisCliInteractive(t *testing.T) {
	cli := testutil.RedisBinary(t, "redis-cli")
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not on PATH; skipping the interactive redis-cli test")
	}
	ts := startServer(t, nil)
	host, p := hostPort(t, ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, script, "-qec", fmt.Sprintf("%s -h %s -p %s", cli, host, p), "/dev/null")
	c.Stdin = strings.NewReader("SET ik iv\nGET ik\nCOMMAND COUNT\nquit\n")
	c.Env = append(os.Environ(), "TERM=dumb", "HOME="+t.TempDir())
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("interactive redis-cli: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"OK", `"iv"`, "(integer) 14"} {
		if !strings.Contains(text, want) {
			t.Errorf("interactive redis-cli output lacks %q:\n%s", want, text)
		}
	}
	if n := counterValue(t, ts.reg, "cairn_resp_commands_total", "command", "command", "result", "ok"); n < 2 {
		t.Errorf("redis-cli sent %v COMMAND requests, want COMMAND DOCS at start and COMMAND COUNT", n)
	}
}

// redis-benchmark runs to completion against the toy store, with and
// without pipelining, and every request gets a reply without an error.
func TestRedisBenchmark(t *testing.T) {
	bench := testutil.RedisBinary(t, "redis-benchmark")
	ts := startServer(t, nil)
	h, p := hostPort(t, ts.addr)
	for _, pipeline := range []string{"1", "16"} {
		out, errOut := runTool(t, bench, "", "-h", h, "-p", p, "-c", "8", "-n", "4000", "-t", "set,get,incr,ping", "-P", pipeline, "-q")
		for _, want := range []string{"SET:", "GET:", "INCR:", "PING_INLINE:", "PING_MBULK:"} {
			if !regexp.MustCompile(regexp.QuoteMeta(want) + ` [0-9.]+ requests per second`).MatchString(out) {
				t.Errorf("redis-benchmark -P %s: no %q result in:\n%s", pipeline, want, out)
			}
		}
		if strings.Contains(out+errOut, "rror") {
			t.Errorf("redis-benchmark -P %s reported errors:\n%s\n%s", pipeline, out, errOut)
		}
	}
	for _, c := range []string{"set", "get", "incr"} {
		if n := counterValue(t, ts.reg, "cairn_resp_commands_total", "command", c, "result", "ok"); n != 8000 {
			t.Errorf("%s executed %v times, want 8000", c, n)
		}
	}
	if v, _ := ts.store.value("counter:__rand_int__"); v != "8000" {
		t.Errorf("the benchmark's counter is %q, want 8000", v)
	}
}

// TestRedisBenchmarkFigures is not a test but a measurement, run by hand:
//
//	CAIRN_RESP_BENCH=1 go test ./eventual/resp/ -run RedisBenchmarkFigures -v
//
// It runs redis-benchmark against the toy store and against a real
// redis-server on the same machine, and logs both.
func TestRedisBenchmarkFigures(t *testing.T) {
	if os.Getenv("CAIRN_RESP_BENCH") == "" {
		t.Skip("a measurement: set CAIRN_RESP_BENCH=1 to run it")
	}
	bench := testutil.RedisBinary(t, "redis-benchmark")
	ts := startServer(t, nil)
	redisAddr := testutil.StartRedisServer(t)
	for _, target := range []struct{ name, addr string }{{"cairn resp (toy store)", ts.addr}, {"redis-server", redisAddr}} {
		h, p := hostPort(t, target.addr)
		for _, pipeline := range []string{"1", "16"} {
			out, _ := runTool(t, bench, "", "-h", h, "-p", p, "-c", "50", "-n", "200000", "-t", "set,get", "-P", pipeline, "-q")
			results := regexp.MustCompile(`[A-Z]+: [0-9.]+ requests per second[^\r\n]*`).FindAllString(out, -1)
			t.Logf("%s, redis-benchmark -c 50 -n 200000 -t set,get -P %s -q:\n\t%s", target.name, pipeline, strings.Join(results, "\n\t"))
		}
	}
}
