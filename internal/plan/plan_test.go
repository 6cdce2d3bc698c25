package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShortType(t *testing.T) {
	assert.Equal(t, "dynamodb.Table", ShortType("aws:dynamodb/table:Table"))
	assert.Equal(t, "s3.BucketV2", ShortType("aws:s3/bucketV2:BucketV2"))
	assert.Equal(t, "odd", ShortType("odd"))
}

func TestLookup(t *testing.T) {
	in := map[string]any{"rules": []any{map[string]any{"days": 30.0}}}
	assert.Equal(t, 30.0, Lookup(in, "rules.0.days"))
	assert.Nil(t, Lookup(in, "rules.1.days"))
	assert.Nil(t, Lookup(in, "rules.x"))
	assert.Nil(t, Lookup(in, "missing.path"))
}

func TestLoadCountsResources(t *testing.T) {
	planned, err := Load("../..", nil)
	require.NoError(t, err)
	require.Len(t, planned, 3)
	counts := map[string]int{}
	for _, s := range planned {
		counts[s.Result.Stack] = len(s.Result.Custom())
	}
	// table or replica 1, archive 18, webhook secret 1, intake queue 8 (key, queue, DLQ, inbox failure
	// queue, 3 policies, redrive allow), function 4, drain 5, API 72, inbox trigger 3 (permission,
	// asynchronous invocation config, notification), alarms 17 (key, topic, 14 alarms, dashboard), feed
	// secret 1, feed 83 (3 tables, 10 queues + DLQ with 11 policies and a redrive allow policy, WebSocket
	// API, authorizer, 3 integrations, 3 routes, 4 invoke permissions, access logs, stage, 6 functions
	// x 4, 11 mappings, the failure records' request metrics, 6 alarms, a dashboard); the home region
	// also owns the API key's secret and its value, replicated to the others (2); the alarms' replication lag
	// alarm (1), and in a standby its traffic alarm (1).
	assert.Equal(t, map[string]int{"us-east-1": 228, "us-west-2": 227, "eu-west-1": 227}, counts)
}

// BenchmarkPlanAllStacks measures loading, validating and synthesizing the
// three stacks offline: what `access911 plan` does.
func BenchmarkPlanAllStacks(b *testing.B) {
	for b.Loop() {
		if _, err := Load("../..", nil); err != nil {
			b.Fatal(err)
		}
	}
}
