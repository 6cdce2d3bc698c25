package emulator

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes cmd's process end when the process that starts it
// ends, for any reason (SIGKILL included): Linux's parent-death signal
// (prctl PR_SET_PDEATHSIG, through SysProcAttr.Pdeathsig). The kernel sends
// it when the starting thread exits; Go keeps its threads for the process's
// life (it ends one only when a goroutine locked to it exits, which the
// project's code never does around a start).
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
