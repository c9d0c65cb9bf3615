package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/internal/freeport"
)

// The systems a comparison starts.
const (
	SystemEtcd  = "etcd"
	SystemCairn = "cairn"
	SystemRedis = "redis"
)

// LaunchConfig is how to start one cluster. The zero value of a field
// takes the documented default.
type LaunchConfig struct {
	// Bin is the server binary (etcd, cairn or redis-server).
	Bin string
	// Nodes is the number of members (etcd, cairn; default 3). Redis is
	// always one server.
	Nodes int
	// Dir is the parent of the cluster's temporary directory (default
	// os.TempDir()); the cluster's data and logs live in a fresh
	// directory under it, removed by Stop unless KeepDir.
	Dir     string
	KeepDir bool
	// HeartbeatMS and ElectionMS are the Raft timings, the same for etcd
	// and cairn (default etcd's: 100 and 1000).
	HeartbeatMS, ElectionMS int
	// StartTimeout bounds the wait until every member answers and a
	// leader is known (default 60 s).
	StartTimeout time.Duration
	// StopGrace is how long a member has to exit after SIGTERM before
	// SIGKILL (default 15 s).
	StopGrace time.Duration
	// ExtraArgs are appended to every member's command line.
	ExtraArgs []string
	// Logger (nil = slog.Default()).
	Logger *slog.Logger
}

func (c *LaunchConfig) defaults() {
	if c.Nodes <= 0 {
		c.Nodes = 3
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	if c.HeartbeatMS <= 0 {
		c.HeartbeatMS = 100
	}
	if c.ElectionMS <= 0 {
		c.ElectionMS = 1000
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Cluster is a set of server processes bench started on loopback, with
// their data in a temporary directory. Stop ends them and removes it.
type Cluster struct {
	// System is SystemEtcd, SystemCairn or SystemRedis.
	System string
	// Endpoints are the etcd v3 client addresses (host:port) of the
	// members; Redis the RESP addresses.
	Endpoints []string
	Redis     []string
	// DataDirs hold each member's data; Dir holds them and the logs.
	DataDirs []string
	Dir      string

	cfg   LaunchConfig
	procs []*proc
}

// Target is the cluster as a workload target (all members).
func (c *Cluster) Target() Target {
	return Target{Name: c.System, Endpoints: c.Endpoints, Redis: c.Redis}
}

// PIDs are the members' process IDs.
func (c *Cluster) PIDs() []int {
	var out []int
	for _, p := range c.procs {
		out = append(out, p.pid())
	}
	return out
}

// CPUSeconds is the user+system CPU all members have used so far.
func (c *Cluster) CPUSeconds() (float64, error) {
	var total float64
	for _, pid := range c.PIDs() {
		s, err := cpuSeconds(pid)
		if err != nil {
			return 0, err
		}
		total += s
	}
	return total, nil
}

// RSSBytes is the members' resident memory, summed.
func (c *Cluster) RSSBytes() (int64, error) {
	var total int64
	for _, pid := range c.PIDs() {
		b, err := rssBytes(pid)
		if err != nil {
			return 0, err
		}
		total += b
	}
	return total, nil
}

// DiskBytes is the space the members' data directories take, summed.
func (c *Cluster) DiskBytes() (int64, error) { return diskBytes(c.DataDirs...) }

// Alive returns an error naming the first member that has exited.
func (c *Cluster) Alive() error {
	for _, p := range c.procs {
		if ok, err := p.exited(); ok {
			return fmt.Errorf("%s %s %v (log: %s)", c.System, p.name, err, p.log)
		}
	}
	return nil
}

// Stop ends every member (SIGTERM, then SIGKILL after StopGrace) and
// removes the cluster's directory. Safe to call more than once.
func (c *Cluster) Stop() {
	for _, p := range c.procs {
		p.stop(c.cfg.StopGrace)
	}
	c.procs = nil
	if c.Dir != "" && !c.cfg.KeepDir {
		_ = os.RemoveAll(c.Dir)
	}
}

// Leader returns the client endpoint of the current Raft leader.
func (c *Cluster) Leader(ctx context.Context) (string, error) {
	if len(c.Endpoints) == 0 {
		return "", errors.New(c.System + " has no etcd v3 endpoints")
	}
	cli, err := newStatusClient(c.Endpoints)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	for _, ep := range c.Endpoints {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := cli.Status(sctx, ep)
		cancel()
		if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
			return ep, nil
		}
	}
	return "", fmt.Errorf("%s: no member says it is the leader", c.System)
}

func newStatusClient(eps []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
}

// newCluster makes the cluster's directory.
func newCluster(system string, cfg LaunchConfig) (*Cluster, error) {
	cfg.defaults()
	if cfg.Bin == "" {
		return nil, fmt.Errorf("%s: no server binary", system)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "cairn-bench-"+system+"-")
	if err != nil {
		return nil, err
	}
	return &Cluster{System: system, Dir: dir, cfg: cfg}, nil
}

// start runs a member, keeping it for Stop.
func (c *Cluster) start(name string, args []string) error {
	args = append(args, c.cfg.ExtraArgs...)
	p, err := startProc(name, c.cfg.Bin, args, filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// raftCluster starts etcd or cairn: per member, the ports of ports[i]
// (client, peer, then the system's own) and args from memberArgs.
func startRaftCluster(ctx context.Context, system string, cfg LaunchConfig, portsPer int,
	memberArgs func(c *Cluster, i int, name, dataDir string, ports []int, initial string) []string) (*Cluster, error) {
	c, err := newCluster(system, cfg)
	if err != nil {
		return nil, err
	}
	ports, err := freeport.Pick(c.cfg.Nodes * portsPer)
	if err != nil {
		c.Stop()
		return nil, err
	}
	var initial []string
	for i := range c.cfg.Nodes {
		initial = append(initial, fmt.Sprintf("%s%d=http://127.0.0.1:%d", system, i+1, ports[i*portsPer+1]))
	}
	for i := range c.cfg.Nodes {
		name := fmt.Sprintf("%s%d", system, i+1)
		data := filepath.Join(c.Dir, name)
		c.DataDirs = append(c.DataDirs, data)
		c.Endpoints = append(c.Endpoints, "127.0.0.1:"+strconv.Itoa(ports[i*portsPer]))
		if err := c.start(name, memberArgs(c, i, name, data, ports[i*portsPer:(i+1)*portsPer], strings.Join(initial, ","))); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if err := c.waitRaftHealthy(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// StartEtcd starts a fresh etcd cluster of cfg.Nodes members with etcd's
// default durability (WAL fsync, bbolt batch commit).
func StartEtcd(ctx context.Context, cfg LaunchConfig) (*Cluster, error) {
	return startRaftCluster(ctx, SystemEtcd, cfg, 3, func(c *Cluster, _ int, name, data string, p []int, initial string) []string {
		client, peer := fmt.Sprintf("http://127.0.0.1:%d", p[0]), fmt.Sprintf("http://127.0.0.1:%d", p[1])
		return []string{
			"--name", name, "--data-dir", data,
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", p[2]),
			"--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", "cairn-bench-etcd",
			"--heartbeat-interval", strconv.Itoa(c.cfg.HeartbeatMS), "--election-timeout", strconv.Itoa(c.cfg.ElectionMS),
			"--log-level", "warn",
		}
	})
}

// StartCairn starts a fresh cairn cluster of cfg.Nodes `cairn server`
// processes with cairn's defaults, each also serving RESP (the eventual
// tier) and the admin HTTP endpoints.
func StartCairn(ctx context.Context, cfg LaunchConfig) (*Cluster, error) {
	return startRaftCluster(ctx, SystemCairn, cfg, 4, func(c *Cluster, _ int, name, data string, p []int, initial string) []string {
		client, peer := fmt.Sprintf("http://127.0.0.1:%d", p[0]), fmt.Sprintf("http://127.0.0.1:%d", p[1])
		redisAddr := fmt.Sprintf("127.0.0.1:%d", p[3])
		c.Redis = append(c.Redis, redisAddr)
		return []string{
			"server", "--name", name, "--data-dir", data,
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--listen-http", fmt.Sprintf("127.0.0.1:%d", p[2]), "--listen-redis", redisAddr,
			"--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", "cairn-bench-cairn",
			"--heartbeat-interval", strconv.Itoa(c.cfg.HeartbeatMS), "--election-timeout", strconv.Itoa(c.cfg.ElectionMS),
			"--log-level", "warn",
		}
	})
}

// waitRaftHealthy polls every member's Status until all know a leader.
func (c *Cluster) waitRaftHealthy(ctx context.Context) error {
	cli, err := newStatusClient(c.Endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(c.cfg.StartTimeout)
	for {
		if err := c.Alive(); err != nil {
			return fmt.Errorf("%s: a member exited during startup: %w", c.System, err)
		}
		ready := 0
		for _, ep := range c.Endpoints {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := cli.Status(sctx, ep)
			cancel()
			if err == nil && st.Leader != 0 {
				ready++
			}
		}
		if ready == len(c.Endpoints) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d members ready after %s (logs in %s)", c.System, ready, len(c.Endpoints), c.cfg.StartTimeout, c.Dir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// DefaultRedisArgs are the redis-server settings bench adds to the port
// and directory: Redis's defaults except that RDB snapshots are off
// (--save ""), so that no fork to write a snapshot lands in a measured
// run. Redis then keeps everything in memory only: the fastest Redis, the
// strictest anchor.
var DefaultRedisArgs = []string{"--save", "", "--appendonly", "no"}

// StartRedis starts one redis-server on a free loopback port. cfg.Nodes is
// ignored; cfg.ExtraArgs replace DefaultRedisArgs when set.
func StartRedis(ctx context.Context, cfg LaunchConfig) (*Cluster, error) {
	extra := cfg.ExtraArgs
	if extra == nil {
		extra = DefaultRedisArgs
	}
	cfg.ExtraArgs = nil
	c, err := newCluster(SystemRedis, cfg)
	if err != nil {
		return nil, err
	}
	ports, err := freeport.Pick(1)
	if err != nil {
		c.Stop()
		return nil, err
	}
	data := filepath.Join(c.Dir, "redis1")
	if err := os.MkdirAll(data, 0o755); err != nil {
		c.Stop()
		return nil, err
	}
	c.DataDirs = []string{data}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	c.Redis = []string{addr}
	args := append([]string{"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1", "--dir", data,
		"--daemonize", "no", "--protected-mode", "no", "--logfile", ""}, extra...)
	if err := c.start("redis1", args); err != nil {
		c.Stop()
		return nil, err
	}
	cli := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: time.Second})
	defer cli.Close()
	deadline := time.Now().Add(c.cfg.StartTimeout)
	for {
		if err := c.Alive(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("redis-server exited during startup: %w", err)
		}
		// Dial first: go-redis logs every refused dial of its pool.
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			if cli.Ping(ctx).Err() == nil {
				return c, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.Stop()
			return nil, fmt.Errorf("redis-server not answering PING after %s", c.cfg.StartTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
