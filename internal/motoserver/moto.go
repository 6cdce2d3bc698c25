// Package motoserver runs moto's multi-region AWS emulator
// (`python3 -m moto.server`) on a free loopback port, for the DR drill's
// end-to-end tests.
package motoserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/access911/access911-infra/internal/testenv"
)

// Server is a running moto server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

// Start runs moto and waits until it answers.
func Start(ctx context.Context) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: &log, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("moto exited: %v: %s", err, log.String())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto did not answer within 60 s: %s", log.String())
		}
	}
}

// Reset drops every emulated resource.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Stop ends moto.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// Main runs a test binary with moto (see testenv.Main).
func Main(m *testing.M, srv **Server, startErr *error) {
	start := func() (*Server, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return Start(ctx)
	}
	testenv.Main(m, "moto", start, srv, startErr)
}

// Require skips or fails the test when moto is not running.
func Require(t testing.TB, srv *Server, startErr error) {
	t.Helper()
	testenv.Require(t, "moto", srv != nil, startErr)
}
