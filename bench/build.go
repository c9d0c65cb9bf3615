package bench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EtcdVersion is the etcd release the comparison runs against: the one
// whose client and server modules cairn's go.mod pins.
const EtcdVersion = "v3.7.3"

// etcdMain is the whole of the throwaway module that builds etcd's server:
// it calls etcd's own entry point, so no etcd source is copied (as
// bench/etcdcompare/etcd-main.go.txt).
const etcdMain = `// Built by cairn bench: etcd's server, through its own entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
`

// DefaultCacheDir is where built binaries are kept between runs:
// $XDG_CACHE_HOME/cairn/bin or $HOME/.cache/cairn/bin.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "cairn", "bin")
}

// EtcdBinary returns the path of an etcd server of version, building it
// into cacheDir if it is not there yet: a throwaway module with the tiny
// main above, `go get go.etcd.io/etcd/server/v3@version` (from the module
// cache or the proxy) and `go build`. A binary already in cacheDir that
// reports the version is reused.
func EtcdBinary(ctx context.Context, cacheDir, version string, log *slog.Logger) (string, error) {
	out := filepath.Join(cacheDir, "etcd-"+version)
	if have, err := exec.CommandContext(ctx, out, "--version").Output(); err == nil &&
		strings.Contains(string(have), "etcd Version: "+strings.TrimPrefix(version, "v")) {
		return out, nil
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building etcd %s needs the go command: %w", version, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	mod, err := os.MkdirTemp("", "cairn-bench-etcd-mod-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(mod)
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(etcdMain), 0o644); err != nil {
		return "", err
	}
	log.Info("bench: building etcd (once; cached)", "version", version, "into", out)
	tmp := out + ".tmp"
	steps := [][]string{
		{gobin, "mod", "init", "cairn.local/etcd-server"},
		{gobin, "get", "go.etcd.io/etcd/server/v3@" + version},
		{gobin, "build", "-o", tmp, "."},
	}
	for _, s := range steps {
		if err := runIn(ctx, mod, []string{"CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off"}, s...); err != nil {
			return "", fmt.Errorf("build etcd %s: %w", version, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// BuildCairn builds ./cmd/cairn of the module in srcDir into out.
func BuildCairn(ctx context.Context, srcDir, out string, log *slog.Logger) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building cairn needs the go command: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	log.Info("bench: building cairn", "from", srcDir, "into", out)
	return runIn(ctx, srcDir, nil, gobin, "build", "-o", out, "./cmd/cairn")
}

// IsCairnSource reports whether dir is the root of cairn's Go module.
func IsCairnSource(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/cairndb/cairn\n"))
}

// runIn runs a command in dir with extra environment, returning its output
// in the error when it fails.
func runIn(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
