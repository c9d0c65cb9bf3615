//go:build !linux

package bench

import "syscall"

// procAttr puts a child in its own process group (no parent-death signal
// outside Linux: a bench killed with SIGKILL leaves its servers running).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
