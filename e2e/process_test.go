package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverProc is one `cairn server` process. Its flags are fixed when it
// is planned and reused by every restart: a member's peer URL and data
// dir are its identity.
type serverProc struct {
	t         testing.TB
	name      string
	clientURL string   // http://127.0.0.1:port, advertised and listened on
	httpAddr  string   // 127.0.0.1:port of /health, /readyz, /metrics
	redisAddr string   // 127.0.0.1:port of the eventual tier's RESP
	logPath   string   // stdout and stderr of every run, appended
	args      []string // `cairn server` flags, without the subcommand

	// cmd is nil while the process is not running; exited is closed when
	// the current run ends. Only the test goroutine touches them.
	cmd    *exec.Cmd
	exited chan struct{}
	// logOffset is where the current run's output starts in logPath.
	logOffset int64
}

// endpoint is the member's client address in clientv3's and etcdctl's
// --endpoints form.
func (p *serverProc) endpoint() string { return strings.TrimPrefix(p.clientURL, "http://") }

func (p *serverProc) running() bool { return p.cmd != nil }

// start runs the process with its planned flags.
func (p *serverProc) start() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("%s: start while running", p.name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		p.t.Fatal(err)
	}
	p.logOffset = st.Size()
	bin, args := serverCommand(p.args)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
}

// kill sends SIGKILL: the process gets no chance to flush or close
// anything, as in a power cut of the process (not of the machine: what
// reached the page cache survives).
func (p *serverProc) kill() {
	p.signalKill()
	p.reap()
}

// signalKill sends SIGKILL without waiting, so that several members can
// die at the same instant; reap must follow.
func (p *serverProc) signalKill() {
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// reap waits for the killed process to end.
func (p *serverProc) reap() {
	if p.cmd == nil {
		return
	}
	<-p.exited
	p.cmd, p.exited = nil, nil
}

// terminate asks the process to stop (SIGTERM) and kills it if it has
// not stopped within grace.
func (p *serverProc) terminate(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.t.Errorf("%s did not stop within %v of SIGTERM; killing it", p.name, grace)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	p.cmd, p.exited = nil, nil
}

// exitedEarly reports whether the current run has ended by itself.
func (p *serverProc) exitedEarly() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// logOfRun returns the output of the current (or last) run.
func (p *serverProc) logOfRun() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(p.logOffset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// logTail returns the last lines of every run's output.
func (p *serverProc) logTail(lines int) string {
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
