package emulator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/artifact"
)

// InCI tells whether the tests run under CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// ForTests is the emulator a test binary shares across its tests: declare one
// package variable, call its Main from TestMain and its Require in each test.
// Under CI=true an emulator that cannot start fails the binary; elsewhere the
// tests that need it skip, saying why.
type ForTests struct {
	start    func(context.Context) (*Server, error)
	timeout  time.Duration // to start (default 3 minutes)
	name     string
	srv      *Server
	startErr error
}

// DynamoDBLocalForTests installs (if needed) and starts DynamoDB Local.
func DynamoDBLocalForTests() *ForTests {
	return &ForTests{name: "DynamoDB Local", start: func(ctx context.Context) (*Server, error) {
		root, err := artifact.FindUp(".", "go.mod")
		if err != nil {
			return nil, err
		}
		return InstallAndStartDynamoDBLocal(ctx, filepath.Join(root, DynamoDBLocalCacheDir))
	}}
}

// MotoForTests starts moto's server.
func MotoForTests() *ForTests { return &ForTests{name: "moto", start: StartMoto} }

// PulumiCLIForTests builds (first run only) the Pulumi CLI that the tools
// module pins; its Server's Dir is the root to give the Automation API.
func PulumiCLIForTests() *ForTests {
	return &ForTests{name: "the Pulumi CLI", timeout: 20 * time.Minute, start: func(ctx context.Context) (*Server, error) {
		root, version, err := InstallPulumiCLI(ctx)
		if err != nil {
			return nil, err
		}
		return &Server{Name: "pulumi " + version, Dir: root}, nil
	}}
}

// Main starts the emulator, runs the tests, stops it and exits.
func (e *ForTests) Main(m *testing.M) { MainAll(m, e) }

// MainAll starts every emulator, runs the tests, stops them and exits.
func MainAll(m *testing.M, emulators ...*ForTests) {
	for _, e := range emulators {
		timeout := e.timeout
		if timeout == 0 {
			timeout = 3 * time.Minute
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		e.srv, e.startErr = e.start(ctx)
		cancel()
		if e.startErr != nil && InCI() {
			fmt.Fprintf(os.Stderr, "FAIL: %s could not start under CI: %v\n", e.name, e.startErr)
			os.Exit(1)
		}
	}
	code := m.Run()
	for _, e := range emulators {
		if e.srv != nil {
			e.srv.Stop()
		}
	}
	os.Exit(code)
}

// Require returns the running emulator, or fails (under CI) or skips the
// test when it is not running.
func (e *ForTests) Require(t testing.TB) *Server {
	t.Helper()
	if e.srv != nil {
		return e.srv
	}
	if InCI() {
		t.Fatalf("%s is not running under CI: %v", e.name, e.startErr)
	}
	t.Skipf("SKIPPED: %s needs %s, which is not available (%v); CI=true makes this a failure", t.Name(), e.name, e.startErr)
	return nil
}

// CountItems counts a table's items with a paginated Scan (tests only).
func CountItems(t testing.TB, db *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		n += int(out.Count)
	}
	return n
}
