//go:build !linux

package emulator

import "os/exec"

// DieWithParent does nothing where the kernel has no parent-death signal
// (macOS, Windows): there Stop, or the parent's own shutdown, ends the
// emulators; a parent killed with SIGKILL leaves them running.
func DieWithParent(*exec.Cmd) {}
