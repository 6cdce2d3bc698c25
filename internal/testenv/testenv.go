// Package testenv runs a test binary with an emulator (DynamoDB Local, moto)
// that the tests start themselves: under CI=true an emulator that cannot
// start fails the binary; elsewhere the tests that need it skip.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Stopper is a running emulator.
type Stopper interface{ Stop() }

// InCI tells whether the tests run under CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// Main starts the emulator, runs the tests and stops it. When start fails,
// the binary fails under CI; otherwise it runs with *srv nil and *startErr
// set, so Require skips.
func Main[S Stopper](m *testing.M, name string, start func() (S, error), srv *S, startErr *error) {
	s, err := start()
	if err != nil {
		*startErr = err
		if InCI() {
			fmt.Fprintf(os.Stderr, "FAIL: %s could not start under CI: %v\n", name, err)
			os.Exit(1)
		}
	} else {
		*srv = s
	}
	code := m.Run()
	if err == nil {
		s.Stop()
	}
	os.Exit(code)
}

// Require fails (under CI) or skips the test when the emulator is not running.
func Require(t testing.TB, name string, running bool, startErr error) {
	t.Helper()
	if running {
		return
	}
	if InCI() {
		t.Fatalf("%s is not running under CI: %v", name, startErr)
	}
	t.Skipf("%s is not available: %v", name, startErr)
}
