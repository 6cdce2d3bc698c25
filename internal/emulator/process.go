// Package emulator runs the real AWS emulators the project tests and runs
// against, each as a child process on a free loopback port: DynamoDB Local
// (the local server, the demo, the integration tests) and moto's server (the
// DR drill's end-to-end tests). It also holds the test harness that starts
// them (Main, Require) and a fault injector for DynamoDB clients.
package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// StartTimeout bounds how long an emulator may take to answer.
const StartTimeout = 60 * time.Second

// Server is a running emulator process.
type Server struct {
	// Name says which emulator it is, for messages.
	Name string
	// URL is the http://127.0.0.1:PORT endpoint to use as an SDK BaseEndpoint.
	URL string
	// Dir is where a tool that is not a server is installed (the Pulumi CLI).
	Dir string

	cmd      *exec.Cmd
	log      *syncBuffer
	stopOnce sync.Once
	done     chan error
}

// start runs the command that newCmd builds for a free loopback port and
// waits until ready answers true, the process exits, ctx ends or
// StartTimeout passes: the one start-and-wait loop every emulator uses.
func start(ctx context.Context, name string, newCmd func(port int) *exec.Cmd, ready func(url string) bool) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log := &syncBuffer{}
	cmd := newCmd(port)
	cmd.Stdout, cmd.Stderr = log, log
	DieWithParent(cmd) // no emulator outlives its owner, however it ends
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &Server{Name: name, URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(StartTimeout)
	for !ready(s.URL) {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("%s exited: %v: %s", name, err, log.String())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s did not answer within %s: %s", name, StartTimeout, log.String())
		}
	}
	return s, nil
}

// Log is what the process has printed so far.
func (s *Server) Log() string { return s.log.String() }

// syncBuffer is a buffer the process writes while the tests read it.
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

// Stop ends the emulator and waits for it; calling it again does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil {
			return // a tool, not a process
		}
		_ = s.cmd.Process.Kill()
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tcpReady answers true once something accepts connections at url.
func tcpReady(url string) bool {
	conn, err := net.DialTimeout("tcp", url[len("http://"):], 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
