package capacity

import (
	"fmt"
	"math"
	"time"

	"github.com/access911/access911-infra/contract"
)

// The sustained feed: not one call but a stream of them, at the failover
// load and at its 10x spike. The swarm coalesces a stream batch's calls by
// area, so what grows with the call rate is the number of areas with news
// in a batch, not the posts per call.

// Feed load defaults (this project's, not the seeds').
const (
	// FeedAreas: the areas (geohash cells of about 800 km²) the region's
	// dispatchers cover: 2,000 is about a fifth of the continental US,
	// five dispatcher consoles a cell at the committed 10,000.
	FeedAreas = 2000
	// FeedSupervisors: supervisor consoles, which get a summary per batch.
	FeedSupervisors = 100
	// FeedCallBytes: a call as the feed carries it (JSON, with a summary).
	FeedCallBytes = 1024
)

// FeedLoadInput is a stack's feed under a call rate.
type FeedLoadInput struct {
	CallRate                                 float64 // new calls per second
	Dispatchers, Areas, Supervisors, PerArea int
	Partitions, Queues, QueryBatchSize       int
	QueryConcurrency, BatchSize              int
	Window                                   time.Duration
	PostRateLimit                            float64
	Target                                   time.Duration
	// APIRequests are the REST requests a second the API admits at this
	// load (the calls, up to the stage's rate limit): API Gateway's account
	// quota is one "across HTTP APIs, REST APIs, WebSocket APIs, and
	// WebSocket callback APIs" (API Gateway quotas), so they share it with
	// the posts.
	APIRequests float64
}

// FeedLoad is what the feed does per second under a call rate.
type FeedLoad struct {
	// Streams are the stream batches handled at once (one per shard, at
	// least enough for the rate at one full batch per window); Batches
	// per second, CallsPerBatch in each, and the areas with news in each.
	Streams                             int
	Batches, CallsPerBatch, ActiveAreas float64
	// Partitions a batch's messages go to (areas share partitions).
	Partitions float64
	// Per second: SQS messages (and as many partition queries), worker
	// invocations, and posts (dispatchers' frames and supervisors').
	Messages, Invocations, Posts     float64
	DispatcherPosts, SupervisorPosts float64
	// Workers are the concurrent invocations needed; Delivery the time
	// from a call's write to its frame (window, poll, swarm, a worker).
	Workers  float64
	Delivery time.Duration
}

// ModelFeedLoad models the coalesced feed under in.CallRate, with calls
// spread evenly over the areas (the worst case for posts: a disaster that
// concentrates its calls in a few areas posts less).
func ModelFeedLoad(in FeedLoadInput) FeedLoad {
	var f FeedLoad
	if in.CallRate <= 0 || in.Areas < 1 {
		return f
	}
	// A batch closes at the first poll after its window: with no window, at
	// every poll.
	w := max(in.Window, FeedStreamPollInterval).Seconds()
	f.Streams = max(1, int(math.Ceil(in.CallRate*w/float64(in.BatchSize))))
	f.Batches = float64(f.Streams) / w
	f.CallsPerBatch = in.CallRate / f.Batches
	areas := float64(in.Areas)
	f.ActiveAreas = areas * (1 - math.Exp(-f.CallsPerBatch/areas))
	chunks := math.Ceil(f.CallsPerBatch * FeedCallBytes / contract.FeedMaxMessageBytes)
	perArea := float64(min(in.PerArea, in.Partitions))
	// One message per partition the batch's areas use: the active areas'
	// partitions, less those they share (each area's drawn at random).
	partitions := float64(in.Partitions)
	f.Partitions = partitions * (1 - math.Exp(-f.ActiveAreas*perArea/partitions))
	f.Messages = f.Batches * (f.Partitions + perArea*chunks)
	f.Invocations = f.Messages / float64(in.QueryBatchSize)
	f.DispatcherPosts = f.Batches * float64(in.Dispatchers) * f.ActiveAreas / areas
	f.SupervisorPosts = f.Batches * float64(in.Supervisors) * chunks
	f.Posts = f.DispatcherPosts + f.SupervisorPosts
	perInvocation := FeedQueryLatency
	if f.Invocations > 0 {
		perInvocation += time.Duration(math.Ceil(f.Posts/f.Invocations/FeedPostsInFlight)) * FeedPostLatency
	}
	f.Workers = f.Invocations * perInvocation.Seconds()
	swarm := time.Duration(swarmSends(f, in)) * FeedSendBatchLatency
	f.Delivery = in.Window + FeedStreamPollInterval + swarm + perInvocation
	return f
}

// swarmSends is how many SendMessageBatch calls one queue takes per batch,
// one after another: ten messages a call, and no more than SQS's batch
// size in all, each message carrying the calls of the areas on its
// partition (at most a message's size).
func swarmSends(f FeedLoad, in FeedLoadInput) float64 {
	perQueue := f.Messages / f.Batches / float64(in.Queues)
	messageBytes := min(float64(contract.FeedMaxMessageBytes), max(1, f.CallsPerBatch/f.ActiveAreas)*FeedCallBytes)
	return math.Ceil(max(perQueue/contract.SQSBatchMaxEntries, perQueue*messageBytes/contract.SQSBatchMaxBytes))
}

// Findings are the sustained feed's lines of the capacity check at a load:
// the posts it needs against the account's post quota, the workers against
// the query concurrency, and the delivery time against the target.
func (f FeedLoad) Findings(in FeedLoadInput, load string) []Finding {
	sev := func(bad bool) string { return map[bool]string{true: "fail", false: "ok"}[bad] }
	spread := fmt.Sprintf("%s calls/s in %d stream batch(es) a %s window: %s areas of %d with news a batch",
		num(in.CallRate), f.Streams, in.Window, num(math.Round(f.ActiveAreas)), in.Areas)
	return []Finding{
		{"feed posts/s " + load, math.Ceil(f.Posts), in.PostRateLimit, "posts/s", sev(f.Posts > in.PostRateLimit),
			fmt.Sprintf("%s; %d dispatchers get a frame for each with news in their area (%s/s), %d supervisors a summary (%s/s)",
				spread, in.Dispatchers, num(math.Ceil(f.DispatcherPosts)), in.Supervisors, num(math.Ceil(f.SupervisorPosts)))},
		{"feed workers " + load, math.Ceil(f.Workers), float64(in.QueryConcurrency), "executions", sev(f.Workers > float64(in.QueryConcurrency)),
			fmt.Sprintf("%s SQS messages and partition queries/s, %s worker invocations/s", num(math.Ceil(f.Messages)), num(math.Ceil(f.Invocations)))},
		{"feed delivery " + load, f.Delivery.Seconds(), in.Target.Seconds(), "s", sev(f.Delivery > in.Target),
			fmt.Sprintf("the %s batching window, a poll of the stream, the swarm and a worker", in.Window)},
		sharedQuota(f, in, load),
	}
}

// sharedQuota: the posts and the API's own requests against the account's
// one request quota (feedPostRateLimit). Above it API Gateway throttles
// both, so it warns: raise the quota (access911 preflight checks it).
func sharedQuota(f FeedLoad, in FeedLoadInput, load string) Finding {
	needed := math.Ceil(f.Posts + in.APIRequests)
	severity := "ok"
	if needed > in.PostRateLimit {
		severity = "warn"
	}
	return Finding{"account request quota " + load, needed, in.PostRateLimit, "requests/s", severity,
		fmt.Sprintf("%s posts/s and %s REST requests/s share API Gateway's account quota; above it both are throttled (raise it in Service Quotas, %s, and set feedPostRateLimit)",
			num(math.Ceil(f.Posts)), num(in.APIRequests), QuotaAPIGatewayThrottle)}
}
