package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seedFeed() FeedInput {
	return FeedInput{Connections: FeedConnections, Partitions: FeedPartitions, Queues: FeedQueues, QueryBatchSize: FeedQueryBatchSize,
		QueryConcurrency: FeedQueryConcurrency, PostRateLimit: FeedPostRateLimit, Target: FeedDeliveryTarget}
}

// Seed 002's numbers at 600,000 connections: the fan-out itself finishes in
// under a second, but 600,000 posts at API Gateway's default 10,000/s take a
// minute: the check fails and says what would meet the 2 s target.
func TestFeedAtTheSeedsNumbers(t *testing.T) {
	f := ModelFeed(seedFeed())
	assert.Equal(t, 240, f.PerPartition)
	assert.Equal(t, 250*time.Millisecond, f.Swarm, "25 batches of 10 per queue")
	assert.Equal(t, 1, f.Waves, "250 invocations of 10 partitions: one wave of 250")
	assert.Equal(t, 10*time.Millisecond+24*20*time.Millisecond, f.PerInvocation, "2400 posts, 100 in flight")
	assert.Equal(t, 740*time.Millisecond, f.ComputeBound)
	assert.Equal(t, 60*time.Second, f.RateBound)
	assert.Equal(t, 60*time.Second, f.Delivery)
	assert.InDelta(t, 344_828, f.NeededPostRate, 1)
	assert.Equal(t, 20*time.Minute, f.ReconnectAll)
	assert.Equal(t, 6000, f.PartitionsSized)
	findings := f.Findings(seedFeed())
	require.Len(t, findings, 2)
	assert.Equal(t, "fail", findings[0].Severity)
	assert.Contains(t, findings[0].Detail, "meeting the target needs 344828 posts/s")
	assert.Equal(t, "warn", findings[1].Severity)
}

func TestFeedThatMeetsTheTarget(t *testing.T) {
	in := seedFeed()
	in.PostRateLimit = 400_000
	f := ModelFeed(in)
	assert.Equal(t, 1500*time.Millisecond, f.RateBound)
	assert.Equal(t, "ok", f.Findings(in)[0].Severity)

	in = seedFeed()
	in.Connections, in.PostRateLimit = 10_000, FeedPostRateLimit
	f = ModelFeed(in)
	assert.Equal(t, time.Second, f.RateBound)
	assert.Equal(t, "ok", f.Findings(in)[0].Severity, "10,000 dispatchers fit the default quota")
	assert.Equal(t, 100, f.PartitionsSized)
}
