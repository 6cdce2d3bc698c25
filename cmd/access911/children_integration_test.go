//go:build integration && linux

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/internal/emulator"
)

// A serve killed with SIGKILL cannot stop its emulators itself: they go
// with it all the same (the parent-death signal), so none is left holding a
// port and memory. The children here: DynamoDB Local, moto and redis-server.
func TestServeKilledTakesItsEmulatorsWithIt(t *testing.T) {
	for _, tool := range []string{"java", "python3", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			if emulator.InCI() {
				t.Fatalf("%s is missing (scripts/setup.sh installs it)", tool)
			}
			t.Skipf("SKIPPED: %s is missing; scripts/setup.sh installs it", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "access911")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	serve := exec.Command(bin, "serve", "--dir", repoRoot, "--stack", "us-east-1", "--addr", "127.0.0.1:0",
		"--feed-connections", "100", "--read-cache", "--ready-json")
	stdout, err := serve.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, serve.Start())
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "{") {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		require.True(t, ok, "serve exited before it was ready")
	case <-time.After(5 * time.Minute):
		t.Fatal("serve not ready after 5 minutes")
	}
	children := childrenOf(serve.Process.Pid)
	require.GreaterOrEqual(t, len(children), 3, "DynamoDB Local, moto and redis-server: %v", children)

	require.NoError(t, serve.Process.Signal(syscall.SIGKILL))
	_ = serve.Wait()
	assert.Eventually(t, func() bool {
		for _, pid := range children {
			if alive(pid) {
				return false
			}
		}
		return true
	}, 5*time.Second, 100*time.Millisecond, "children still running after serve was killed: %v", children)
}

// childrenOf lists the processes whose parent is pid (/proc/<pid>/stat).
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _ := stat(child); ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// alive: the process exists and is not a zombie (ended, unreaped).
func alive(pid int) bool {
	_, state := stat(pid)
	return state != "" && state != "Z" && state != "X"
}

// stat reads a process's parent and state ("" if it is gone).
func stat(pid int) (ppid int, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, ""
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	if len(fields) < 2 {
		return 0, ""
	}
	ppid, _ = strconv.Atoi(fields[1])
	return ppid, fields[0]
}
