package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairndb/cairn/internal/freeport"
)

// MaxNodes bounds a local cluster's size: more processes than this on a
// small machine measure the machine, not the database.
const MaxNodes = 9

// DefaultServerFlags are added to every member's command line before
// LocalConfig.ExtraFlags: Raft timing a loaded 2-core machine keeps up
// with (a 1 s election timeout), so that elections happen because of
// faults, not because of CPU starvation.
var DefaultServerFlags = []string{"--heartbeat-interval", "100", "--election-timeout", "1000"}

// LocalConfig configures NewLocal.
type LocalConfig struct {
	// Binary is the cairn binary (required).
	Binary string
	// Nodes is the member count, 1..MaxNodes.
	Nodes int
	// Dir holds data dirs and logs; "" makes a temporary one, removed by
	// Close unless KeepDir.
	Dir     string
	KeepDir bool
	// ServerFlags replace DefaultServerFlags when not nil; ExtraFlags are
	// appended after them.
	ServerFlags []string
	ExtraFlags  []string
	// Token is --initial-cluster-token; "" picks one from the pid.
	Token string
	// Netns runs each member in its own network namespace (root only).
	Netns bool
	// StartTimeout bounds the first start of the whole cluster (default
	// 60 s).
	StartTimeout time.Duration
	// Logger receives lifecycle logs (nil = slog.Default()).
	Logger *slog.Logger
}

// Local is a cluster of `cairn server` processes on this machine.
type Local struct {
	cfg LocalConfig
	log *slog.Logger
	dir string
	ns  *netnsEnv // nil unless Netns
	net Network
	hc  *http.Client

	// procs is fixed after NewLocal; each guards its own state.
	procs []*proc
	// ctl serializes the control methods (Kill, Start, Pause, Resume,
	// NewPeerURL, Join).
	ctl sync.Mutex
	// nextPeer numbers the peer URLs given to rejoining members; under
	// ctl.
	nextPeer int
}

var _ Cluster = (*Local)(nil)

// NewLocal plans, starts and waits for a cluster of cfg.Nodes members.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Binary == "" {
		return nil, errors.New("cluster: LocalConfig.Binary is required")
	}
	if cfg.Nodes < 1 || cfg.Nodes > MaxNodes {
		return nil, fmt.Errorf("cluster: %d nodes, want 1..%d", cfg.Nodes, MaxNodes)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = time.Minute
	}
	if cfg.Token == "" {
		cfg.Token = fmt.Sprintf("cairn-verify-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	}
	if cfg.ServerFlags == nil {
		cfg.ServerFlags = DefaultServerFlags
	}
	l := &Local{cfg: cfg, log: cfg.Logger, hc: &http.Client{Timeout: 2 * time.Second}}
	if l.log == nil {
		l.log = slog.Default()
	}
	l.dir = cfg.Dir
	if l.dir == "" {
		d, err := os.MkdirTemp("", "cairn-verify-")
		if err != nil {
			return nil, err
		}
		l.dir = d
	} else if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, err
	}
	if cfg.Netns {
		ns, err := newNetnsEnv(cfg.Nodes, l.log)
		if err != nil {
			l.removeDir()
			return nil, fmt.Errorf("cluster: network namespaces: %w", err)
		}
		l.ns = ns
	}
	if err := l.plan(); err != nil {
		l.Close()
		return nil, err
	}
	hook := &faultsNet{n: cfg.Nodes, target: l.faultTarget, hc: l.hc, dirty: map[int]bool{}}
	if l.ns != nil {
		l.net = newIptablesNet(l.ns, hook)
	} else {
		l.net = hook
	}
	for i := range l.procs {
		if err := l.procs[i].start(cfg.Binary); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err := l.WaitReady(cfg.StartTimeout); err != nil {
		l.Close()
		return nil, err
	}
	if err := l.learnIDs(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// plan gives every member its addresses and flags.
func (l *Local) plan() error {
	n := l.cfg.Nodes
	var ms []Member
	if l.ns != nil {
		for i := range n {
			ip := l.ns.ip(i)
			ms = append(ms, Member{
				Name:      fmt.Sprintf("n%d", i+1),
				ClientURL: "http://" + net.JoinHostPort(ip, "2379"),
				PeerURL:   "http://" + net.JoinHostPort(ip, "2380"),
				RedisAddr: net.JoinHostPort(ip, "6379"),
				HTTPAddr:  net.JoinHostPort(ip, "8080"),
			})
		}
	} else {
		ports, err := freeport.Pick(4 * n)
		if err != nil {
			return err
		}
		for i := range n {
			p := ports[4*i:]
			ms = append(ms, Member{
				Name:      fmt.Sprintf("n%d", i+1),
				ClientURL: fmt.Sprintf("http://127.0.0.1:%d", p[0]),
				PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", p[1]),
				RedisAddr: fmt.Sprintf("127.0.0.1:%d", p[2]),
				HTTPAddr:  fmt.Sprintf("127.0.0.1:%d", p[3]),
			})
		}
	}
	var initial []string
	for _, m := range ms {
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for i, m := range ms {
		p := &proc{
			dataDir: filepath.Join(l.dir, m.Name+".data"),
			logPath: filepath.Join(l.dir, m.Name+".log"),
		}
		if l.ns != nil {
			p.prefix = []string{"ip", "netns", "exec", l.ns.names[i]}
		}
		p.mu.member = m
		p.mu.args = l.args(m, p.dataDir, strings.Join(initial, ","), "new")
		l.procs = append(l.procs, p)
	}
	return nil
}

// args builds a member's flags.
func (l *Local) args(m Member, dataDir, initial, state string) []string {
	args := []string{
		"--name", m.Name,
		"--data-dir", dataDir,
		"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", initial,
		"--initial-cluster-state", state,
		"--initial-cluster-token", l.cfg.Token,
		"--listen-http", m.HTTPAddr,
		"--listen-redis", m.RedisAddr,
		"--enable-fault-injection",
	}
	args = append(args, l.cfg.ServerFlags...)
	return append(args, l.cfg.ExtraFlags...)
}

// Size implements Cluster.
func (l *Local) Size() int { return l.cfg.Nodes }

// Wiped reports whether member i was wiped by NewPeerURL and awaits Join.
func (l *Local) Wiped(i int) bool {
	p := l.procs[i]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.wiped
}

// Dir returns the directory of the data dirs and logs.
func (l *Local) Dir() string { return l.dir }

// Member implements Cluster.
func (l *Local) Member(i int) Member { return l.procs[i].member() }

// Endpoints implements Cluster.
func (l *Local) Endpoints() []string {
	eps := make([]string, len(l.procs))
	for i, p := range l.procs {
		eps[i] = p.member().Endpoint()
	}
	return eps
}

// State implements Cluster.
func (l *Local) State(i int) State { return l.procs[i].state() }

// Kill implements Cluster.
func (l *Local) Kill(i int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	p := l.procs[i]
	if p.state() == Stopped {
		return fmt.Errorf("%s is not running", p.name())
	}
	p.stop(0)
	return nil
}

// Start implements Cluster: it waits until the member serves HTTP (not
// until it is ready: a member restarted into a partition cannot be), then
// brings its network faults in line.
func (l *Local) Start(i int, timeout time.Duration) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	p := l.procs[i]
	if err := p.start(l.cfg.Binary); err != nil {
		return err
	}
	if err := l.waitServing(p, timeout); err != nil {
		return err
	}
	l.resync(i)
	return nil
}

// Pause implements Cluster.
func (l *Local) Pause(i int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	return l.procs[i].signal(syscall.SIGSTOP)
}

// Resume implements Cluster.
func (l *Local) Resume(i int) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	if err := l.procs[i].signal(syscall.SIGCONT); err != nil {
		return err
	}
	l.resync(i)
	return nil
}

// NewPeerURL implements Cluster.
func (l *Local) NewPeerURL(i int) (string, error) {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	p := l.procs[i]
	p.stop(0)
	if err := os.RemoveAll(p.dataDir); err != nil {
		return "", err
	}
	l.nextPeer++
	var peer string
	if l.ns != nil {
		peer = "http://" + net.JoinHostPort(l.ns.ip(i), fmt.Sprint(2380+l.nextPeer))
	} else {
		ports, err := freeport.Pick(1)
		if err != nil {
			return "", err
		}
		peer = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	}
	p.mu.Lock()
	p.mu.member.PeerURL, p.mu.id, p.mu.wiped = peer, 0, true
	p.mu.Unlock()
	return peer, nil
}

// Join implements Cluster.
func (l *Local) Join(i int, initialCluster string, timeout time.Duration) error {
	l.ctl.Lock()
	defer l.ctl.Unlock()
	p := l.procs[i]
	p.mu.Lock()
	p.mu.args = l.args(p.mu.member, p.dataDir, initialCluster, "existing")
	p.mu.wiped = false
	p.mu.Unlock()
	if err := p.start(l.cfg.Binary); err != nil {
		return err
	}
	if err := l.waitServing(p, timeout); err != nil {
		return err
	}
	if err := l.learnIDs(); err != nil {
		l.log.Warn("verify: member ids after join", "err", err)
	}
	l.resync(i)
	return nil
}

// Network implements Cluster.
func (l *Local) Network() Network { return l.net }

// Describe implements Cluster.
func (l *Local) Describe() string {
	if l.ns != nil {
		return fmt.Sprintf("%d local processes in network namespaces (%s, faults by %s)", l.cfg.Nodes, l.ns.subnet+".0/24", l.net.Describe())
	}
	return fmt.Sprintf("%d local processes on loopback (faults by %s)", l.cfg.Nodes, l.net.Describe())
}

// LogTail implements Cluster.
func (l *Local) LogTail(i, lines int) string { return l.procs[i].logTail(lines) }

// waitServing waits until the member answers /health or its process
// exits.
func (l *Local) waitServing(p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exitedEarly() {
			return fmt.Errorf("%s exited while starting:\n%s", p.name(), p.logTail(20))
		}
		if resp, err := l.hc.Get("http://" + p.member().HTTPAddr + "/health"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not serve HTTP within %v", p.name(), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReady implements Cluster: every running member answers /readyz
// with 200.
func (l *Local) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := range l.procs {
		p := l.procs[i]
		for {
			if p.exitedEarly() {
				return fmt.Errorf("%s exited:\n%s", p.name(), p.logTail(20))
			}
			if p.state() != Running {
				break
			}
			resp, err := l.hc.Get("http://" + p.member().HTTPAddr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready within %v (last: %v)", p.name(), timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// learnIDs asks the cluster for its member list and matches IDs to slots
// by peer URL.
func (l *Local) learnIDs() error {
	ids, err := memberIDs(l.Endpoints())
	if err != nil {
		return err
	}
	for _, p := range l.procs {
		p.mu.Lock()
		if id, ok := ids[p.mu.member.PeerURL]; ok {
			p.mu.id = id
		}
		p.mu.Unlock()
	}
	return nil
}

// ID returns member i's Raft ID (0 if not known).
func (l *Local) ID(i int) uint64 {
	p := l.procs[i]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.id
}

// faultTarget tells the fault hook where member i's endpoint is and who
// the others are.
func (l *Local) faultTarget(i int) (httpAddr string, ids []uint64, up bool) {
	ids = make([]uint64, len(l.procs))
	for j := range l.procs {
		ids[j] = l.ID(j)
	}
	return l.Member(i).HTTPAddr, ids, l.procs[i].state() == Running
}

// resync brings member i's faults in line after it runs again.
func (l *Local) resync(i int) {
	if r, ok := l.net.(interface{ resync(int) error }); ok {
		if err := r.resync(i); err != nil {
			l.log.Warn("verify: network faults not applied", "member", i, "err", err)
		}
	}
}

// Close implements Cluster.
func (l *Local) Close() error {
	var wg sync.WaitGroup
	for _, p := range l.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(10 * time.Second)
		}()
	}
	wg.Wait()
	if l.ns != nil {
		l.ns.close()
	}
	l.removeDir()
	return nil
}

func (l *Local) removeDir() {
	if l.cfg.Dir == "" && !l.cfg.KeepDir {
		_ = os.RemoveAll(l.dir)
	}
}
