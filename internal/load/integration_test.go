//go:build integration

package load

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/local"
)

// ddbLocal is the DynamoDB Local every test in this binary shares.
var ddbLocal = emulator.DynamoDBLocalForTests()

func TestMain(m *testing.M) { ddbLocal.Main(m) }

// A tiny profile against the local serve (DynamoDB Local, the real handler
// and mix): counts add up and the 429s start above the local throttle.
func TestLoadAgainstLocalServe(t *testing.T) {
	ddb := ddbLocal.Require(t)
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	srv, err := local.Start(context.Background(), local.Options{
		ProjectDir: root, Stack: "us-east-1", DynamoDBEndpoint: ddb.URL, ThrottleRate: 30, ThrottleBurst: 10})
	require.NoError(t, err)
	defer srv.Close()

	rep, err := Run(context.Background(), Options{Target: srv.URL, Steps: []Step{
		{Rate: 15, Duration: 2 * time.Second},
		{Rate: 90, Duration: 2 * time.Second},
	}})
	require.NoError(t, err)
	low, high := rep.Steps[0], rep.Steps[1]
	for _, s := range rep.Steps {
		assert.Equal(t, s.Requests, s.OK+s.Throttled+s.Failures)
		assert.Zero(t, s.Failures, "%s: %v %v", s.Label, s.Codes, s.Errors)
		assert.LessOrEqual(t, s.P50, s.P99)
	}
	assert.Zero(t, low.Throttled, "15 rps is under the 30 rps throttle")
	assert.Positive(t, high.Throttled, "90 rps is over it")
	assert.InDelta(t, 30*2+10, high.OK, 25, "about rate x duration + burst get through")
}
