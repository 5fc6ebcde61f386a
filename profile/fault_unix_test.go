//go:build unix

package profile

import (
	"os/exec"
	"syscall"
)

// runAsNobody makes cmd run as the unprivileged user "nobody" (65534), for
// tests that need permission bits to apply (the tests may run as root).
func runAsNobody(cmd *exec.Cmd) bool {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return true
}
