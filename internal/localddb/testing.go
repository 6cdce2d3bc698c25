package localddb

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/internal/project"
	"github.com/access911/access911-infra/internal/testenv"
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

// Main runs a test binary with DynamoDB Local (see testenv.Main).
func Main(m *testing.M, srv **Server, startErr *error) {
	testenv.Main(m, "DynamoDB Local", ForTests, srv, startErr)
}

// Require skips or fails the test when DynamoDB Local is not running.
func Require(t testing.TB, srv *Server, startErr error) {
	t.Helper()
	testenv.Require(t, "DynamoDB Local", srv != nil, startErr)
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
