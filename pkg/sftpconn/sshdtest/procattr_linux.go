package sshdtest

import "syscall"

// procAttr makes sshd die with the test binary if it exits uncleanly.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
