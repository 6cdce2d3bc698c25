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
	require.Len(t, findings, 4)
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

// With no batching window the mapping closes a batch at every poll, four a
// second: a call waits a poll, not a window, but every dispatcher whose area
// has news gets up to four frames a second and the swarm sends a message to
// each partition a batch uses four times a second. At the spike that is
// 93 % of the posts quota instead of 84 %, and 40 % more messages and
// partition queries: the trade the 1 s window makes (docs/feed.md).
func TestFeedLoadWithoutABatchingWindow(t *testing.T) {
	in := committedLoad(1900)
	in.Window = 0
	f := ModelFeedLoad(in)
	assert.InDelta(t, 4, f.Batches, 0.001, "a batch at every poll, 4 a second")
	assert.InDelta(t, 475, f.CallsPerBatch, 0.001)
	assert.InDelta(t, 9_256, f.Posts, 1, "4 x 10,000 x (1 - e^-0.2375) + 4 x 100 x 2 summary chunks")
	assert.InDelta(t, 4_948, f.Messages, 1, "4 x (2500 x (1 - e^(-422.8 x 4 / 2500)) + 4 x 2)")
	assert.Equal(t, 410*time.Millisecond, f.Delivery, "a poll, the swarm and a worker")
	windowed := ModelFeedLoad(committedLoad(1900))
	assert.Equal(t, 1460*time.Millisecond, windowed.Delivery, "a window, a poll, the swarm and a worker")
	assert.Less(t, windowed.Posts, f.Posts)
	assert.Less(t, windowed.Messages, f.Messages)
}

// The posts share API Gateway's account quota with the API's own requests:
// at the spike the committed stacks' 8,363 posts/s and 1,900 calls/s need
// 10,263 of the default 10,000, which the check warns about.
func TestFeedLoadSharesTheAccountQuotaWithTheAPI(t *testing.T) {
	in := committedLoad(1900)
	in.APIRequests = 1900
	shared := ModelFeedLoad(in).Findings(in, "at a 10x spike")[3]
	assert.Equal(t, "account request quota at a 10x spike", shared.Check)
	assert.Equal(t, "warn", shared.Severity)
	assert.InDelta(t, 10_263, shared.Needed, 1)
	in.PostRateLimit = 12_000
	assert.Equal(t, "ok", ModelFeedLoad(in).Findings(in, "x")[3].Severity, "with the quota raised to 12,000")
	normal := committedLoad(190)
	normal.APIRequests = 190
	assert.Equal(t, "ok", ModelFeedLoad(normal).Findings(normal, "x")[3].Severity)
}
