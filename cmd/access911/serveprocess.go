package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/internal/feedbench"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/local"
)

// readyLine is what `serve --ready-json` prints once it serves.
type readyLine struct {
	feedbench.FeedEndpoints
	Partitions int `json:"partitions"`
}

// serveReady prints the ready line and serves until ctx ends.
func serveReady(ctx context.Context, srv *local.Server, stdout io.Writer) error {
	line, err := json.Marshal(readyLine{FeedEndpoints: srv.Endpoints("feed-bench"), Partitions: srv.Feed.Registry.PartitionCount})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(line))
	<-ctx.Done()
	return nil
}

// serveProcess is `access911 serve` running in a child process: the
// server's connections and the clients' then have a file-descriptor limit
// each (one per WebSocket on either side), as a dispatcher's browser and
// API Gateway do.
type serveProcess struct {
	readyLine
	cmd    *exec.Cmd
	stderr *tailBuffer
}

// startServeProcess re-runs this binary as `serve --ready-json` and waits
// for its ready line (DynamoDB Local and moto start inside it).
func startServeProcess(ctx context.Context, projectDir, stack string, connections int, cpuProfile string) (*serveProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &serveProcess{stderr: &tailBuffer{max: 64 << 10}}
	p.cmd = exec.Command(exe, "serve", "--dir", projectDir, "--stack", stack, "--addr", "127.0.0.1:0",
		"--feed-connections", strconv.Itoa(connections), "--ready-json")
	if cpuProfile != "" {
		p.cmd.Args = append(p.cmd.Args, "--cpuprofile", cpuProfile)
	}
	p.cmd.Stderr = p.stderr
	emulator.DieWithParent(p.cmd)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "{") {
				ready <- json.Unmarshal(sc.Bytes(), &p.readyLine)
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("serve exited before it was ready")
	}()
	select {
	case err = <-ready:
	case <-time.After(5 * time.Minute): // a first run installs DynamoDB Local
		err = fmt.Errorf("serve not ready after 5 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.stop(io.Discard)
		return nil, fmt.Errorf("%w; its last output:\n%s", err, p.stderr.String())
	}
	return p, nil
}

// stop interrupts the server (it stops its emulators) and waits for it.
func (p *serveProcess) stop(progress io.Writer) {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(progress, "serve did not stop in 30 s: killed")
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
