package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The committed stacks' feed: 10,000 dispatchers over 2,000 areas, 100
// supervisors, batches of up to 1,000 calls a 1 s window.
func committedLoad(rate float64) FeedLoadInput {
	return FeedLoadInput{CallRate: rate, Dispatchers: 10_000, Areas: FeedAreas, Supervisors: FeedSupervisors, PerArea: FeedPartitionsPerArea,
		Partitions: FeedPartitions, Queues: FeedQueues, QueryBatchSize: FeedQueryBatchSize, QueryConcurrency: FeedQueryConcurrency,
		BatchSize: FeedStreamBatchSize, Window: FeedStreamBatchingWindow, PostRateLimit: FeedPostRateLimit, Target: FeedDeliveryTarget}
}

func TestFeedLoadAtTheSpikeWithAreasFits(t *testing.T) {
	in := committedLoad(1900)
	f := ModelFeedLoad(in)
	assert.Equal(t, 2, f.Streams, "1,900 calls a second need two batches of at most 1,000 a window")
	assert.InDelta(t, 950, f.CallsPerBatch, 0.1)
	assert.InDelta(t, 756.2, f.ActiveAreas, 0.1, "2000 x (1 - e^-0.475)")
	assert.InDelta(t, 7_562, f.DispatcherPosts, 1, "2 batches x 10,000 dispatchers x 756.2/2000")
	assert.InDelta(t, 800, f.SupervisorPosts, 0.1, "2 batches x 100 supervisors x 4 summary chunks (950 KB / 240 KB)")
	assert.Less(t, f.Posts, float64(FeedPostRateLimit))
	assert.InDelta(t, 1754.5, f.Partitions, 0.1, "2500 x (1 - e^(-756.23 x 4 / 2500)): areas share partitions")
	assert.InDelta(t, 2*(1754.5+4*4), f.Messages, 0.5, "one message per partition used, and the supervisors' 4 x 4 chunks")
	for _, finding := range f.Findings(in, "at a 10x spike") {
		assert.Equal(t, "ok", finding.Severity, finding.String())
	}
	normal := ModelFeedLoad(committedLoad(190))
	assert.Equal(t, 1, normal.Streams)
	assert.InDelta(t, 1006, normal.Posts, 2, "10,000 x (1 - e^-0.095) + 100 supervisors")
}

// Broadcasting every call to every dispatcher (one area: everyone hears
// everything), even coalesced, needs 20,800 posts/s at the spike: the
// check fails it. Per call, as before coalescing, it would be 19 million.
func TestFeedLoadBroadcastToEveryDispatcherFails(t *testing.T) {
	in := committedLoad(1900)
	in.Areas = 1
	f := ModelFeedLoad(in)
	assert.InDelta(t, 20_000, f.DispatcherPosts, 1)
	findings := f.Findings(in, "at a 10x spike")
	require.Len(t, findings, 3)
	assert.Equal(t, "fail", findings[0].Severity, findings[0].String())
	assert.Contains(t, findings[0].Detail, "1 areas of 1 with news")
}

func TestFeedLoadDeliveryAndWorkers(t *testing.T) {
	in := committedLoad(1900)
	f := ModelFeedLoad(in)
	assert.Greater(t, f.Delivery, time.Second, "never below the batching window")
	assert.Less(t, f.Delivery, 2*time.Second)
	in.QueryConcurrency = 2
	assert.Equal(t, "fail", ModelFeedLoad(in).Findings(in, "x")[1].Severity, "two workers cannot query 6,000 partitions a second")
	assert.Zero(t, ModelFeedLoad(FeedLoadInput{}).Posts, "no calls, nothing")
}
