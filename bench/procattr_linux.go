package bench

import "syscall"

// procAttr puts a child in its own process group and has the kernel kill
// it when bench dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
