package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// devNode is one slot of the default port plan of DESIGN.md.
type devNode struct {
	name                         string
	client, peer, redis, httpURL string
}

func devPlan(n int) []devNode {
	plan := make([]devNode, n)
	for i := range plan {
		off := 10000 * i
		plan[i] = devNode{
			name:    fmt.Sprintf("node%d", i+1),
			client:  fmt.Sprintf("http://127.0.0.1:%d", 2379+off),
			peer:    fmt.Sprintf("http://127.0.0.1:%d", 2380+off),
			redis:   fmt.Sprintf("127.0.0.1:%d", 6379+off),
			httpURL: fmt.Sprintf("127.0.0.1:%d", 8080+off),
		}
	}
	return plan
}

// devArgs are the `cairn server` arguments of one node of the plan.
func devArgs(plan []devNode, i int, dataDir string) []string {
	var cluster []string
	for _, p := range plan {
		cluster = append(cluster, p.name+"="+p.peer)
	}
	p := plan[i]
	return []string{
		"server",
		"--name", p.name,
		"--data-dir", filepath.Join(dataDir, p.name),
		"--listen-client-urls", p.client, "--advertise-client-urls", p.client,
		"--listen-peer-urls", p.peer, "--initial-advertise-peer-urls", p.peer,
		"--initial-cluster", strings.Join(cluster, ","),
		"--initial-cluster-state", "new",
		"--initial-cluster-token", "cairn-dev",
		"--listen-redis", p.redis, "--listen-http", p.httpURL,
	}
}

func newDevCommand() *cobra.Command {
	var (
		nodes   int
		dataDir string
		fresh   bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Start a local cluster of real server processes on loopback",
		Long: `dev starts --nodes server processes on loopback with the default ports
(client 2379/12379/22379, peer 2380/12380/22380, RESP 6379/16379/26379,
HTTP 8080/18080/28080), prints the endpoints and stops them all on Ctrl-C.
Data lives in --data-dir and survives a restart unless --fresh.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 || nodes > 3 {
				return errors.New("--nodes must be between 1 and 3 (the default port plan has three slots)")
			}
			if fresh {
				if err := os.RemoveAll(dataDir); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runDev(ctx, cmd.OutOrStdout(), devPlan(nodes), dataDir)
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of server processes to start (1-3)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "cairn-dev.data", "directory for the nodes' data")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "delete the data directory first")
	return cmd
}

// runDev starts the processes, waits until every node is healthy, prints
// the endpoints, and stops them all when ctx ends or one of them dies.
func runDev(ctx context.Context, out io.Writer, plan []devNode, dataDir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var (
		procs []*exec.Cmd
		wg    sync.WaitGroup
	)
	died := make(chan string, len(plan))
	for i, p := range plan {
		c := exec.Command(self, devArgs(plan, i, dataDir)...)
		c.Stdout = prefixWriter(out, p.name)
		c.Stderr = prefixWriter(out, p.name)
		if err := c.Start(); err != nil {
			stopAll(procs)
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		procs = append(procs, c)
		wg.Add(1)
		go func(name string, c *exec.Cmd) {
			defer wg.Done()
			err := c.Wait()
			died <- fmt.Sprintf("%s exited: %v", name, err)
		}(p.name, c)
	}
	defer func() {
		stopAll(procs)
		wg.Wait()
	}()
	if err := waitHealthy(ctx, plan, died); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ncairn dev: %d nodes up (data in %s)\n", len(plan), dataDir)
	var endpoints []string
	for _, p := range plan {
		endpoints = append(endpoints, strings.TrimPrefix(p.client, "http://"))
		fmt.Fprintf(out, "  %s  etcd %s  redis %s  http://%s (health, metrics, members)\n", p.name, p.client, p.redis, p.httpURL)
	}
	fmt.Fprintf(out, "\ntry:  etcdctl --endpoints=%s put hello world\n", strings.Join(endpoints, ","))
	fmt.Fprintf(out, "      etcdctl --endpoints=%s get hello\n", strings.Join(endpoints, ","))
	if len(plan) > 0 {
		host, port, _ := strings.Cut(plan[0].redis, ":")
		fmt.Fprintf(out, "      redis-cli -h %s -p %s incr visits\n", host, port)
	}
	fmt.Fprintln(out, "Ctrl-C stops the cluster.")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\ncairn dev: stopping")
		return nil
	case msg := <-died:
		return errors.New(msg)
	}
}

// waitHealthy polls every node's /health until all report a leader.
func waitHealthy(ctx context.Context, plan []devNode, died <-chan string) error {
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		healthy := 0
		for _, p := range plan {
			resp, err := client.Get("http://" + p.httpURL + "/health")
			if err == nil {
				if resp.StatusCode == http.StatusOK {
					healthy++
				}
				resp.Body.Close()
			}
		}
		if healthy == len(plan) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d nodes healthy after 30s", healthy, len(plan))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg := <-died:
			return errors.New(msg)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopAll sends SIGTERM, then SIGKILL to what is still running after 10s.
func stopAll(procs []*exec.Cmd) {
	for _, c := range procs {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range procs {
		for c.ProcessState == nil && time.Now().Before(deadline) {
			if err := c.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Process.Kill()
	}
}

// prefixWriter writes each line with the node's name in front.
func prefixWriter(out io.Writer, name string) io.Writer {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(out, "[%s] %s\n", name, sc.Text())
		}
	}()
	return pw
}
