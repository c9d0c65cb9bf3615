package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// ctlTimeout bounds one etcdctl command.
	ctlTimeout = 20 * time.Second
	// bgOutputWithin bounds the wait for a background etcdctl's output.
	bgOutputWithin = 10 * time.Second
)

// etcdctl runs etcd's etcdctl against fixed endpoints.
type etcdctl struct {
	t         *testing.T
	bin       string
	endpoints []string
}

func (e etcdctl) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--endpoints=" + strings.Join(e.endpoints, ","), "--dial-timeout=5s", "--command-timeout=15s"}, args...)
	cmd := exec.CommandContext(ctx, e.bin, full...)
	// The caller's ETCDCTL_* variables would change flags behind the
	// test's back.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCDCTL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// run runs etcdctl with stdin and returns its stdout and stderr.
func (e etcdctl) run(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// ok runs etcdctl, fails the test if it fails, and returns its stdout.
func (e etcdctl) ok(args ...string) string {
	e.t.Helper()
	return e.okWithStdin("", args...)
}

func (e etcdctl) okWithStdin(stdin string, args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(stdin, args...)
	if err != nil {
		e.t.Fatalf("etcdctl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// expect runs etcdctl and checks its stdout byte for byte.
func (e etcdctl) expect(want string, args ...string) {
	e.t.Helper()
	if got := e.ok(args...); got != want {
		e.t.Errorf("etcdctl %s printed\n%q\nwant\n%q", strings.Join(args, " "), got, want)
	}
}

// fails runs etcdctl, expects it to fail, and returns its stderr.
func (e etcdctl) fails(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run("", args...)
	if err == nil {
		e.t.Fatalf("etcdctl %s succeeded, want a failure; stdout: %q", strings.Join(args, " "), out)
	}
	return errOut
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bgEtcdctl is an etcdctl that runs until told to stop (watch, lock,
// elect).
type bgEtcdctl struct {
	t      *testing.T
	args   string
	cmd    *exec.Cmd
	out    syncBuffer
	errOut syncBuffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// background starts etcdctl; the test kills it at its end if it still
// runs.
func (e etcdctl) background(args ...string) *bgEtcdctl {
	e.t.Helper()
	b := &bgEtcdctl{t: e.t, args: strings.Join(args, " "), exited: make(chan struct{})}
	b.cmd = e.command(context.Background(), args...)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.errOut
	if err := b.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()
	e.t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.exited
	})
	return b
}

// waitOutput waits until the stdout so far matches done, and returns it.
func (b *bgEtcdctl) waitOutput(what string, done func(string) bool) string {
	b.t.Helper()
	deadline := time.Now().Add(bgOutputWithin)
	for {
		out := b.out.String()
		if done(out) {
			return out
		}
		select {
		case <-b.exited:
			if out := b.out.String(); done(out) {
				return out
			}
			b.t.Fatalf("etcdctl %s exited (%v) before %s; stdout %q, stderr %q", b.args, b.err, what, b.out.String(), b.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("etcdctl %s: no %s within %v; stdout %q, stderr %q", b.args, what, bgOutputWithin, out, b.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interrupt sends SIGINT (Ctrl-C), waits for the exit and returns its
// error.
func (b *bgEtcdctl) interrupt() error {
	b.t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGINT)
	return b.wait()
}

// wait waits for the exit and returns its error.
func (b *bgEtcdctl) wait() error {
	b.t.Helper()
	select {
	case <-b.exited:
		return b.err
	case <-time.After(bgOutputWithin):
		b.t.Fatalf("etcdctl %s did not exit within %v; stdout %q, stderr %q", b.args, bgOutputWithin, b.out.String(), b.errOut.String())
		return nil
	}
}

// hasExited reports whether the process has ended.
func (b *bgEtcdctl) hasExited() bool {
	select {
	case <-b.exited:
		return true
	default:
		return false
	}
}
