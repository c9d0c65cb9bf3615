package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// DockerConfig configures NewDocker.
type DockerConfig struct {
	// Image is a cairn image whose entrypoint is `cairn server`
	// (deploy/build-image.sh builds one FROM scratch); required.
	Image string
	// Nodes is the member count, 1..MaxNodes.
	Nodes int
	// ServerFlags replace DefaultServerFlags when not nil.
	ServerFlags []string
	// StartTimeout bounds the first start of the whole cluster (default
	// 90 s).
	StartTimeout time.Duration
	// Logger receives lifecycle logs (nil = slog.Default()).
	Logger *slog.Logger
}

// Docker is a cluster of cairn containers on a private Docker network of
// their own. Kill is `docker kill` (SIGKILL) and a restart `docker start`
// of the same container, so its data survives; Pause is `docker pause`
// (the cgroup freezer); a member replaced by NewPeerURL is a new container
// with an empty filesystem. Network faults go through each member's fault
// hook on its container address. The harness reaches the containers at
// their bridge addresses, so it must run on the Docker host.
type Docker struct {
	cfg     DockerConfig
	log     *slog.Logger
	hc      *http.Client
	net     Network
	network string // the Docker network's name
	subnet  string // its first three octets
	prefix  string // container names are prefix + member name
	ips     []string

	ctl sync.Mutex // serializes the control methods
	mu  sync.Mutex
	// under mu:
	members  []Member
	ids      []uint64
	states   []State
	wiped    []bool
	nextPeer int
}

var _ Cluster = (*Docker)(nil)

// DockerAvailable reports why the docker target cannot run here, or nil.
func DockerAvailable() error {
	if _, err := exec.LookPath("docker"); err != nil {
		return errors.New("docker not found")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("no Docker engine: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// NewDocker creates the network, starts cfg.Nodes containers and waits
// until they are ready.
func NewDocker(cfg DockerConfig) (*Docker, error) {
	if cfg.Image == "" {
		return nil, errors.New("cluster: DockerConfig.Image is required (build it with deploy/build-image.sh)")
	}
	if cfg.Nodes < 1 || cfg.Nodes > MaxNodes {
		return nil, fmt.Errorf("cluster: %d nodes, want 1..%d", cfg.Nodes, MaxNodes)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 90 * time.Second
	}
	if cfg.ServerFlags == nil {
		cfg.ServerFlags = DefaultServerFlags
	}
	d := &Docker{cfg: cfg, log: cfg.Logger, hc: &http.Client{Timeout: 2 * time.Second},
		prefix: fmt.Sprintf("cv%d-", os.Getpid())}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.network = d.prefix + "net"
	if err := d.createNetwork(); err != nil {
		return nil, err
	}
	var initial []string
	for i := range cfg.Nodes {
		ip := fmt.Sprintf("%s.%d", d.subnet, 10+i)
		d.ips = append(d.ips, ip)
		m := Member{Name: fmt.Sprintf("n%d", i+1), ClientURL: "http://" + ip + ":2379", PeerURL: "http://" + ip + ":2380",
			RedisAddr: ip + ":6379", HTTPAddr: ip + ":8080"}
		d.members = append(d.members, m)
		d.ids = append(d.ids, 0)
		d.states = append(d.states, Stopped)
		d.wiped = append(d.wiped, false)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	d.net = &faultsNet{n: cfg.Nodes, target: d.faultTarget, hc: d.hc, dirty: map[int]bool{}}
	for i := range cfg.Nodes {
		if err := d.run(i, strings.Join(initial, ","), "new"); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := d.WaitReady(cfg.StartTimeout); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.learnIDs(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// createNetwork makes the cluster's bridge network on a free /24.
func (d *Docker) createNetwork() error {
	var last error
	for attempt := range 20 {
		d.subnet = fmt.Sprintf("172.29.%d", (os.Getpid()+attempt*37)%250+1)
		_, err := docker(30*time.Second, "network", "create", "--driver", "bridge", "--subnet", d.subnet+".0/24", d.network)
		if err == nil {
			return nil
		}
		last = err
	}
	return fmt.Errorf("cluster: docker network: %w", last)
}

// docker runs a docker command and returns its output.
func docker(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v: %s", strings.Join(args[:min(2, len(args))], " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

func (d *Docker) container(i int) string { return d.prefix + d.Member(i).Name }

// run creates and starts member i's container.
func (d *Docker) run(i int, initial, state string) error {
	m := d.Member(i)
	ip := d.ips[i]
	peerPort := m.PeerURL[strings.LastIndex(m.PeerURL, ":")+1:]
	args := []string{"run", "-d", "--name", d.container(i), "--network", d.network, "--ip", ip, d.cfg.Image,
		"--name", m.Name, "--data-dir", "/data",
		"--listen-client-urls", "http://0.0.0.0:2379", "--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", "http://0.0.0.0:" + peerPort, "--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", initial, "--initial-cluster-state", state, "--initial-cluster-token", d.prefix + "token",
		"--listen-http", "0.0.0.0:8080", "--listen-redis", "0.0.0.0:6379", "--enable-fault-injection"}
	args = append(args, d.cfg.ServerFlags...)
	if _, err := docker(time.Minute, args...); err != nil {
		return err
	}
	d.setState(i, Running)
	return nil
}

func (d *Docker) setState(i int, s State) {
	d.mu.Lock()
	d.states[i] = s
	d.mu.Unlock()
}

// Size implements Cluster.
func (d *Docker) Size() int { return d.cfg.Nodes }

// Member implements Cluster.
func (d *Docker) Member(i int) Member {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.members[i]
}

// Endpoints implements Cluster.
func (d *Docker) Endpoints() []string {
	eps := make([]string, d.cfg.Nodes)
	for i := range eps {
		eps[i] = d.Member(i).Endpoint()
	}
	return eps
}

// State implements Cluster.
func (d *Docker) State(i int) State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.states[i]
}

// Wiped implements Cluster.
func (d *Docker) Wiped(i int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wiped[i]
}

// Kill implements Cluster: SIGKILL to the container's init (the server).
func (d *Docker) Kill(i int) error {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if d.State(i) == Stopped {
		return fmt.Errorf("%s is not running", d.Member(i).Name)
	}
	if d.State(i) == Paused {
		if _, err := docker(30*time.Second, "unpause", d.container(i)); err != nil {
			return err
		}
	}
	if _, err := docker(30*time.Second, "kill", "--signal", "KILL", d.container(i)); err != nil {
		return err
	}
	d.setState(i, Stopped)
	return nil
}

// Start implements Cluster: the same container again, with its data.
func (d *Docker) Start(i int, timeout time.Duration) error {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if d.Wiped(i) {
		return fmt.Errorf("%s was wiped: it must join", d.Member(i).Name)
	}
	if _, err := docker(time.Minute, "start", d.container(i)); err != nil {
		return err
	}
	d.setState(i, Running)
	return d.afterStart(i, timeout)
}

// afterStart waits until member i serves HTTP and brings its network
// faults in line.
func (d *Docker) afterStart(i int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := d.hc.Get("http://" + d.Member(i).HTTPAddr + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not serve HTTP within %v:\n%s", d.Member(i).Name, timeout, d.LogTail(i, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r, ok := d.net.(*faultsNet); ok {
		if err := r.resync(i); err != nil {
			d.log.Warn("verify: network faults not applied", "member", i, "err", err)
		}
	}
	return nil
}

// Pause implements Cluster.
func (d *Docker) Pause(i int) error {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if _, err := docker(30*time.Second, "pause", d.container(i)); err != nil {
		return err
	}
	d.setState(i, Paused)
	return nil
}

// Resume implements Cluster.
func (d *Docker) Resume(i int) error {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if _, err := docker(30*time.Second, "unpause", d.container(i)); err != nil {
		return err
	}
	d.setState(i, Running)
	if r, ok := d.net.(*faultsNet); ok {
		return r.resync(i)
	}
	return nil
}

// NewPeerURL implements Cluster: the container is removed with its
// filesystem, and the member will come back on a new peer port.
func (d *Docker) NewPeerURL(i int) (string, error) {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if _, err := docker(time.Minute, "rm", "-f", d.container(i)); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextPeer++
	m := &d.members[i]
	m.PeerURL = fmt.Sprintf("%s:%d", m.PeerURL[:strings.LastIndex(m.PeerURL, ":")], 2380+d.nextPeer)
	d.states[i], d.wiped[i], d.ids[i] = Stopped, true, 0
	return m.PeerURL, nil
}

// Join implements Cluster.
func (d *Docker) Join(i int, initialCluster string, timeout time.Duration) error {
	d.ctl.Lock()
	defer d.ctl.Unlock()
	if err := d.run(i, initialCluster, "existing"); err != nil {
		return err
	}
	d.mu.Lock()
	d.wiped[i] = false
	d.mu.Unlock()
	if err := d.afterStart(i, timeout); err != nil {
		return err
	}
	if err := d.learnIDs(); err != nil {
		d.log.Warn("verify: member ids after join", "err", err)
	}
	return nil
}

// Network implements Cluster.
func (d *Docker) Network() Network { return d.net }

// WaitReady implements Cluster.
func (d *Docker) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := range d.cfg.Nodes {
		for d.State(i) == Running {
			resp, err := d.hc.Get("http://" + d.Member(i).HTTPAddr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready within %v (last: %v):\n%s", d.Member(i).Name, timeout, err, d.LogTail(i, 20))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// learnIDs matches the cluster's member IDs to slots by peer URL.
func (d *Docker) learnIDs() error {
	ids, err := memberIDs(d.Endpoints())
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, m := range d.members {
		if id, ok := ids[m.PeerURL]; ok {
			d.ids[i] = id
		}
	}
	return nil
}

// faultTarget tells the fault hook where member i's endpoint is and who
// the others are.
func (d *Docker) faultTarget(i int) (string, []uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.members[i].HTTPAddr, append([]uint64(nil), d.ids...), d.states[i] == Running
}

// Describe implements Cluster.
func (d *Docker) Describe() string {
	return fmt.Sprintf("%d containers of %s on Docker network %s (%s.0/24; faults by docker kill and pause, and %s)",
		d.cfg.Nodes, d.cfg.Image, d.network, d.subnet, d.net.Describe())
}

// LogTail implements Cluster.
func (d *Docker) LogTail(i, lines int) string {
	out, _ := docker(10*time.Second, "logs", "--tail", fmt.Sprint(lines), d.container(i))
	return out
}

// SaveLogs writes every member's container log into dir (name.log).
func (d *Docker) SaveLogs(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for i := range d.cfg.Nodes {
		out, _ := docker(30*time.Second, "logs", d.container(i))
		_ = os.WriteFile(dir+"/"+d.Member(i).Name+".log", []byte(out), 0o644)
	}
}

// Close implements Cluster: it removes the containers and the network.
func (d *Docker) Close() error {
	var names []string
	for i := range d.cfg.Nodes {
		names = append(names, d.container(i))
	}
	_, _ = docker(time.Minute, append([]string{"rm", "-f", "-v"}, names...)...)
	_, err := docker(time.Minute, "network", "rm", d.network)
	return err
}
