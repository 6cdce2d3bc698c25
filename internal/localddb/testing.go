package localddb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/internal/project"
)

// ForTests starts DynamoDB Local for a test binary's TestMain. When it cannot
// start, it returns the reason: under CI=true the caller must fail; outside
// CI tests may skip (see Require).
func ForTests() (*Server, error) {
	root, err := project.FindUp(".", "go.mod")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return StartInstalled(ctx, root+"/"+DefaultCacheDir)
}

// Main runs a test binary with DynamoDB Local: it starts the server, runs
// the tests and stops it. If the server cannot start, the binary fails under
// CI=true and otherwise runs with *srv == nil so tests skip via Require.
func Main(m *testing.M, srv **Server, startErr *error) {
	s, err := ForTests()
	if err != nil {
		*startErr = err
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: DynamoDB Local could not start under CI: %v\n", err)
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

// Require skips the test when DynamoDB Local is not running (only possible
// outside CI; under CI Main has already failed the binary).
func Require(t testing.TB, srv *Server, startErr error) {
	t.Helper()
	if srv == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("DynamoDB Local is not running under CI: %v", startErr)
		}
		t.Skipf("DynamoDB Local is not available: %v", startErr)
	}
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
