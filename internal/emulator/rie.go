package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// RIEModule is the AWS Lambda Runtime Interface Emulator: it runs a Lambda
// bootstrap as the provided runtime does (the Runtime API, one invocation at
// a time, init on the first) behind a local invoke endpoint.
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// InstallRIE builds aws-lambda-rie into binDir when it is not there yet.
func InstallRIE(ctx context.Context, binDir string) (string, error) {
	bin := filepath.Join(binDir, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "install", RIEModule)
	cmd.Env = append(os.Environ(), "GOBIN="+abs, "GOFLAGS=-mod=mod")
	done := progress(Progress, "building the Lambda Runtime Interface Emulator (first run only) into "+binDir)
	out, err := cmd.CombinedOutput()
	done(err)
	if err != nil {
		return "", fmt.Errorf("go install %s: %v: %s", RIEModule, err, out)
	}
	return bin, nil
}

// StartRIE runs bootstrap under the emulator on a free loopback port with
// env (the function's configuration), as Lambda would run it.
func StartRIE(ctx context.Context, rie, bootstrap string, env []string) (*Server, error) {
	// The Runtime API the bootstrap polls gets its own free port too, so
	// several functions can run side by side (the default is 9001).
	runtimeAPI, err := freePort()
	if err != nil {
		return nil, err
	}
	return start(ctx, "aws-lambda-rie", func(port int) *exec.Cmd {
		cmd := exec.Command(rie, "--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port),
			"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(runtimeAPI), bootstrap)
		cmd.Env = env
		return cmd
	}, tcpReady)
}

// Invoke sends one event to the function and returns its raw answer.
func (s *Server) Invoke(ctx context.Context, event any) ([]byte, error) {
	body, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/2015-03-31/functions/function/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, out)
	}
	return out, err
}

var initDuration = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// InitDuration is the function's init time as the emulator reported it in
// its first REPORT line (0 before the first invocation).
func (s *Server) InitDuration() time.Duration {
	m := initDuration.FindStringSubmatch(s.Log())
	if m == nil {
		return 0
	}
	ms, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(ms * float64(time.Millisecond))
}
