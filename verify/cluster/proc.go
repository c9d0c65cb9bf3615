package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one member slot: its flags, data dir and current process.
type proc struct {
	dataDir string
	logPath string
	// prefix runs the binary (["ip", "netns", "exec", ns] in a
	// namespace).
	prefix []string

	mu struct {
		sync.Mutex
		member Member
		// args are the server's flags without the subcommand.
		args []string
		// cmd is nil while stopped; exited is closed when the run ends.
		cmd    *exec.Cmd
		exited chan struct{}
		paused bool
		// id is the member's Raft ID, 0 until learned.
		id uint64
		// wiped is set by NewPeerURL: the data dir is gone and only
		// Join may start the member (its old flags would bootstrap it
		// as a founder with an empty log: a lost disk, not a restart).
		wiped bool
	}
}

func (p *proc) member() Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.member
}

func (p *proc) name() string { return p.member().Name }

// state returns the process state, noticing a run that ended by itself.
func (p *proc) state() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reapLocked()
	switch {
	case p.mu.cmd == nil:
		return Stopped
	case p.mu.paused:
		return Paused
	}
	return Running
}

// reapLocked forgets a run that has ended.
func (p *proc) reapLocked() {
	if p.mu.cmd == nil {
		return
	}
	select {
	case <-p.mu.exited:
		p.mu.cmd, p.mu.exited, p.mu.paused = nil, nil, false
	default:
	}
}

// exitedEarly reports whether the current run ended by itself.
func (p *proc) exitedEarly() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.cmd == nil {
		return false
	}
	p.reapLocked()
	return p.mu.cmd == nil
}

// start runs the process with its flags, its output appended to logPath.
func (p *proc) start(binary string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.cmd != nil {
		return fmt.Errorf("%s: already running", p.mu.member.Name)
	}
	if p.mu.wiped {
		return fmt.Errorf("%s was wiped for a membership change: it must join, not restart", p.mu.member.Name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	argv := append(append(append([]string(nil), p.prefix...), binary, "server"), p.mu.args...)
	// The command line heads each run's output: a run is reproducible
	// by hand from its log.
	fmt.Fprintf(f, "== %s start: %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a Ctrl-C to the harness must not reach the
	// members before the harness has stopped them in order; and they
	// die with the harness (SIGKILL of the harness leaves no orphans).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.mu.member.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	p.mu.cmd, p.mu.exited, p.mu.paused = cmd, exited, false
	return nil
}

// signal sends sig to the process and records a pause or a continue.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reapLocked()
	if p.mu.cmd == nil {
		return fmt.Errorf("%s is not running", p.mu.member.Name)
	}
	if err := p.mu.cmd.Process.Signal(sig); err != nil {
		return err
	}
	switch sig {
	case syscall.SIGSTOP:
		p.mu.paused = true
	case syscall.SIGCONT:
		p.mu.paused = false
	}
	return nil
}

// stop ends the process: SIGKILL at once if grace is 0 (a stopped
// process dies too), else SIGCONT and SIGTERM, then SIGKILL after grace.
// It waits for the exit.
func (p *proc) stop(grace time.Duration) {
	p.mu.Lock()
	cmd, exited, paused := p.mu.cmd, p.mu.exited, p.mu.paused
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if grace == 0 {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	} else {
		if paused {
			_ = cmd.Process.Signal(syscall.SIGCONT)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(grace):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	}
	p.mu.Lock()
	p.mu.cmd, p.mu.exited, p.mu.paused = nil, nil, false
	p.mu.Unlock()
}

// logTail returns the last lines of every run's output.
func (p *proc) logTail(lines int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	all := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
