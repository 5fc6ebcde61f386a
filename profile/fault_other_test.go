//go:build !unix

package profile

import "os/exec"

// runAsNobody reports that this platform cannot start a process as another
// user.
func runAsNobody(*exec.Cmd) bool { return false }
