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
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
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

// Main runs a test binary with moto, failing the binary under CI=true when
// moto cannot start; outside CI the tests skip via Require.
func Main(m *testing.M, srv **Server, startErr *error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		*startErr = err
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: moto could not start under CI: %v\n", err)
			os.Exit(1)
		}
	}
	*srv = s
	code := m.Run()
	if s != nil {
		s.Stop()
	}
	os.Exit(code)
}

// Require skips when moto is not running (only possible outside CI).
func Require(t testing.TB, srv *Server, startErr error) {
	t.Helper()
	if srv == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto is not running under CI: %v", startErr)
		}
		t.Skipf("moto is not available: %v", startErr)
	}
}
