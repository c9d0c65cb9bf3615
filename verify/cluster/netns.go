package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// netnsEnv is a bridge in the root namespace and one namespace per
// member, each joined to the bridge by a veth pair.
type netnsEnv struct {
	log    *slog.Logger
	prefix string   // cv<pid>
	bridge string   // cv<pid>b
	subnet string   // 10.213.K (a /24)
	names  []string // namespace of each member
	// netem reports whether tc netem works in these namespaces.
	netem bool
}

// NetnsAvailable reports whether network namespaces can be made here:
// root, ip and iptables found, and `ip netns` answering.
func NetnsAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found", tool)
		}
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns list: %v: %s", err, out)
	}
	return nil
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetnsEnv makes the bridge and n namespaces, after removing those a
// dead harness left behind.
func newNetnsEnv(n int, log *slog.Logger) (*netnsEnv, error) {
	if err := NetnsAvailable(); err != nil {
		return nil, err
	}
	cleanStale(log)
	pid := os.Getpid()
	e := &netnsEnv{log: log, prefix: fmt.Sprintf("cv%d", pid), bridge: fmt.Sprintf("cv%db", pid)}
	subnet, err := freeSubnet(pid)
	if err != nil {
		return nil, err
	}
	e.subnet = subnet
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	for _, c := range [][]string{
		{"ip", "link", "add", e.bridge, "type", "bridge"},
		{"ip", "addr", "add", e.hostIP() + "/24", "dev", e.bridge},
		{"ip", "link", "set", e.bridge, "up"},
		// Docker sets the FORWARD policy to DROP, and bridged frames pass
		// through it (br_netfilter): let members talk to each other.
		{"iptables", "-I", "FORWARD", "-i", e.bridge, "-o", e.bridge, "-j", "ACCEPT"},
	} {
		if err := run(c...); err != nil {
			return nil, err
		}
	}
	for i := range n {
		ns, veth := fmt.Sprintf("%sn%d", e.prefix, i), fmt.Sprintf("%sv%d", e.prefix, i)
		e.names = append(e.names, ns)
		for _, c := range [][]string{
			{"ip", "netns", "add", ns},
			{"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
			{"ip", "link", "set", veth, "master", e.bridge, "up"},
			{"ip", "netns", "exec", ns, "ip", "addr", "add", e.ip(i) + "/24", "dev", "eth0"},
			{"ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"},
			{"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
		} {
			if err := run(c...); err != nil {
				return nil, err
			}
		}
	}
	// tc netem needs the sch_netem module, which some kernels lack.
	if run("ip", "netns", "exec", e.names[0], "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms") == nil {
		e.netem = true
		_ = run("ip", "netns", "exec", e.names[0], "tc", "qdisc", "del", "dev", "lo", "root")
	}
	ok = true
	return e, nil
}

// hostIP is the bridge's address: the harness's clients talk from it.
func (e *netnsEnv) hostIP() string { return e.subnet + ".1" }

// ip is member i's address.
func (e *netnsEnv) ip(i int) string { return fmt.Sprintf("%s.%d", e.subnet, i+2) }

// exec runs a command inside member i's namespace.
func (e *netnsEnv) exec(i int, args ...string) error {
	return run(append([]string{"ip", "netns", "exec", e.names[i]}, args...)...)
}

// close deletes the namespaces (their veth ends go with them) and the
// bridge.
func (e *netnsEnv) close() {
	for _, ns := range e.names {
		if err := run("ip", "netns", "del", ns); err != nil {
			e.log.Warn("verify: removing a namespace", "err", err)
		}
	}
	_ = run("iptables", "-D", "FORWARD", "-i", e.bridge, "-o", e.bridge, "-j", "ACCEPT")
	_ = run("ip", "link", "del", e.bridge)
}

// freeSubnet picks a 10.213.K.0/24 that no interface of this machine
// uses, starting from one derived from pid.
func freeSubnet(pid int) (string, error) {
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ip addr show: %v: %s", err, out)
	}
	for k := range 250 {
		s := fmt.Sprintf("10.213.%d", 1+(pid+k)%250)
		if !strings.Contains(string(out), " "+s+".") {
			return s, nil
		}
	}
	return "", errors.New("no free 10.213.K.0/24 subnet")
}

var staleName = regexp.MustCompile(`^cv(\d+)(n\d+|b|v\d+)$`)

// cleanStale removes namespaces and links named after a harness pid that
// no longer runs.
func cleanStale(log *slog.Logger) {
	alive := func(pid int) bool { return syscall.Kill(pid, 0) == nil }
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if m := staleName.FindStringSubmatch(f[0]); m != nil {
				if pid, _ := strconv.Atoi(m[1]); !alive(pid) {
					log.Info("verify: removing a stale namespace", "ns", f[0])
					_ = run("ip", "netns", "del", f[0])
				}
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
			if m := staleName.FindStringSubmatch(name); m != nil {
				if pid, _ := strconv.Atoi(m[1]); !alive(pid) {
					log.Info("verify: removing a stale link", "link", name)
					_ = run("ip", "link", "del", name)
					if strings.HasSuffix(name, "b") {
						_ = run("iptables", "-D", "FORWARD", "-i", name, "-o", name, "-j", "ACCEPT")
					}
				}
			}
		}
	}
}

// iptablesNet applies Faults inside the namespaces: a cut link From->To
// drops, in To's namespace, every packet from From's address; loss is
// the statistic match on the member's packets to and from other members;
// delay is tc netem on the member's interface where the kernel has it,
// else the transport hook's delay.
type iptablesNet struct {
	env  *netnsEnv
	hook *faultsNet

	mu   sync.Mutex
	want Faults
}

func newIptablesNet(env *netnsEnv, hook *faultsNet) *iptablesNet {
	return &iptablesNet{env: env, hook: hook}
}

// Describe implements Network.
func (t *iptablesNet) Describe() string {
	if t.env.netem {
		return "iptables and tc netem"
	}
	return "iptables (delay through the /debug/faults hook: no tc netem in this kernel)"
}

// Apply implements Network.
func (t *iptablesNet) Apply(want Faults) error {
	t.mu.Lock()
	t.want = want
	t.mu.Unlock()
	var errs []error
	for i := range t.env.names {
		if err := t.apply(i, want); err != nil {
			errs = append(errs, err)
		}
	}
	delays := Faults{}
	if !t.env.netem {
		delays.Delay = want.Delay
	}
	if err := t.hook.Apply(delays); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resync re-applies the hook's share to a member that runs again; the
// iptables rules live in the namespace and survive the process.
func (t *iptablesNet) resync(i int) error { return t.hook.resync(i) }

func (t *iptablesNet) apply(i int, want Faults) error {
	e := t.env
	cmds := [][]string{
		{"iptables", "-F", "INPUT"},
		{"iptables", "-F", "OUTPUT"},
		// The harness's clients are never cut off.
		{"iptables", "-A", "INPUT", "-s", e.hostIP(), "-j", "ACCEPT"},
		{"iptables", "-A", "OUTPUT", "-d", e.hostIP(), "-j", "ACCEPT"},
	}
	for _, l := range want.Cut {
		if l.To == i {
			cmds = append(cmds, []string{"iptables", "-A", "INPUT", "-s", e.ip(l.From), "-j", "DROP"})
		}
	}
	if p := want.Loss[i]; p > 0 {
		prob := strconv.FormatFloat(p, 'f', 3, 64)
		cmds = append(cmds,
			[]string{"iptables", "-A", "INPUT", "-s", e.subnet + ".0/24", "-m", "statistic", "--mode", "random", "--probability", prob, "-j", "DROP"},
			[]string{"iptables", "-A", "OUTPUT", "-d", e.subnet + ".0/24", "-m", "statistic", "--mode", "random", "--probability", prob, "-j", "DROP"})
	}
	if e.netem {
		if d := want.Delay[i]; d > 0 {
			ms := strconv.FormatInt(max(1, d.Milliseconds()), 10)
			jitter := strconv.FormatInt(max(1, d.Milliseconds()/4), 10)
			cmds = append(cmds, []string{"tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", ms + "ms", jitter + "ms"})
		} else {
			_ = e.exec(i, "tc", "qdisc", "del", "dev", "eth0", "root")
		}
	}
	for _, c := range cmds {
		if err := e.exec(i, c...); err != nil {
			return err
		}
	}
	return nil
}
