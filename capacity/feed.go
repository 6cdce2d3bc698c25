package capacity

import (
	"fmt"
	"math"
	"time"

	"github.com/access911/access911-infra/contract"
)

// The dispatcher feed's numbers: seed 002 (002_d809383f3be5947a.txt) and
// API Gateway's WebSocket quotas.
const (
	// FeedConnections: seed 002, "300k or 600k or more active connections"
	// (the upper figure).
	FeedConnections = 600_000
	// FeedPartitions: seed 002, "I use numbers from 1...to...2500".
	FeedPartitions = 2500
	// FeedPartitionsPerArea: this project's, not the seed's: an area's
	// dispatchers spread over 4 partitions (400 of them before a partition
	// outgrows seed 002's 100 connections a query).
	FeedPartitionsPerArea = 4
	// FeedStreamBatchSize: new calls per swarm invocation, at most: the
	// stream mapping's batch (this project's).
	FeedStreamBatchSize = 1000
	// FeedQueues: seed 002, "spread the load into many queues (I used 10)".
	FeedQueues = 10
	// FeedQueryBatchSize: seed 002, "can read up to 10 messages for each SQS batch".
	FeedQueryBatchSize = 10
	// FeedQueryConcurrency: seed 002, "we could have a max of 250 concurrent requests".
	FeedQueryConcurrency = 250
	// FeedDeliveryTarget: seed 002 wants delivery "not in minutes but a few
	// seconds"; the issue sets 2 s.
	FeedDeliveryTarget = 2 * time.Second
	// FeedPostRateLimit: API Gateway's account-level request quota per
	// region (10,000 requests/s, raisable), which @connections posts count
	// against.
	FeedPostRateLimit = 10_000
	// FeedNewConnectionsPerSecond: API Gateway's WebSocket quota of new
	// connections per second per account and region (500, raisable).
	FeedNewConnectionsPerSecond = 500
)

// The swarm's stream mapping's error handling: a failed batch is retried
// FeedStreamRetries times (bisected first, which AWS does not count as a
// retry), and a new call the swarm could not broadcast within
// FeedStreamMaxRecordAgeSeconds is discarded to the failure bucket (the
// call itself is in the table; replay --stream-failures re-broadcasts it).
const (
	FeedStreamRetries             = 3
	FeedStreamMaxRecordAgeSeconds = 300
)

// FeedStreamBatchingWindow: the stream mapping gathers a batch for up to a
// second (or until FeedStreamBatchSize calls): the floor of the delivery
// time, and what bounds the posts, since a dispatcher's frames follow the
// windows, not the calls.
const FeedStreamBatchingWindow = time.Second

// FeedStreamPollInterval: "Lambda polls shards in your DynamoDB stream for
// records at a base rate of 4 times per second" (Lambda Developer Guide,
// "Using AWS Lambda with Amazon DynamoDB", polling and batching streams). A
// batch closes at the first poll after its window, so a call can wait a
// window and a poll; with no window (0 s) a batch closes at every poll.
const FeedStreamPollInterval = 250 * time.Millisecond

// FeedReconnectWindow: after a regional failover every dispatcher's
// WebSocket reconnects to the new region; within this window is the aim.
const FeedReconnectWindow = 15 * time.Minute

// Latencies the feed model assumes per operation (in-region, warm).
const (
	FeedSendBatchLatency = 10 * time.Millisecond // one SendMessageBatch of 10
	FeedQueryLatency     = 10 * time.Millisecond // one partition's Query (a page of ~100 KB)
	FeedPostLatency      = 20 * time.Millisecond // one PostToConnection
	// FeedPostsInFlight is how many posts one worker invocation keeps in
	// flight: the worker's own bound.
	FeedPostsInFlight = contract.FeedPostsInFlight
)

// FeedInput is what the feed model reads from a stack.
type FeedInput struct {
	Connections, Partitions, Queues, QueryBatchSize, QueryConcurrency int
	PostRateLimit                                                     float64
	Target                                                            time.Duration
}

// Feed is the delivery of one call to every connection.
type Feed struct {
	PerPartition    int           // connections per partition
	Swarm           time.Duration // partition messages onto the queues
	Waves           int           // rounds of QueryConcurrency invocations
	PerInvocation   time.Duration // one batch of partitions queried and posted
	ComputeBound    time.Duration // swarm + waves x invocation
	RateBound       time.Duration // connections / post rate limit
	Delivery        time.Duration // the larger: what a dispatcher waits at worst
	NeededPostRate  float64       // posts/s that would meet the target
	ReconnectAll    time.Duration // every dispatcher reconnecting (a failover) at the new-connection quota
	PartitionsSized int           // partitions for ~100 connections each (seed 002's query size)
}

// ModelFeed models seed 002's broadcast of one call.
func ModelFeed(in FeedInput) Feed {
	f := Feed{PerPartition: int(math.Ceil(float64(in.Connections) / float64(in.Partitions)))}
	f.Swarm = time.Duration(math.Ceil(float64(in.Partitions)/float64(in.Queues)/10)) * FeedSendBatchLatency
	invocations := int(math.Ceil(float64(in.Partitions) / float64(in.QueryBatchSize)))
	f.Waves = int(math.Ceil(float64(invocations) / float64(in.QueryConcurrency)))
	posts := in.QueryBatchSize * f.PerPartition
	f.PerInvocation = FeedQueryLatency + time.Duration(math.Ceil(float64(posts)/FeedPostsInFlight))*FeedPostLatency
	f.ComputeBound = f.Swarm + time.Duration(f.Waves)*f.PerInvocation
	f.RateBound = time.Duration(float64(in.Connections) / in.PostRateLimit * float64(time.Second))
	f.Delivery = max(f.ComputeBound, f.RateBound)
	if window := in.Target - f.Swarm - FeedQueryLatency; window > 0 {
		f.NeededPostRate = float64(in.Connections) / window.Seconds()
	}
	f.ReconnectAll = time.Duration(float64(in.Connections) / FeedNewConnectionsPerSecond * float64(time.Second))
	f.PartitionsSized = int(math.Ceil(float64(in.Connections) / 100))
	return f
}

// Findings are the feed's lines of the capacity report: the delivery time
// against the target (a failure: dispatchers would see calls late), and
// the time every dispatcher needs to reconnect after a failover (a
// warning: the quota paces it).
func (f Feed) Findings(in FeedInput) []Finding {
	sev := "ok"
	if f.Delivery > in.Target {
		sev = "fail"
	}
	detail := fmt.Sprintf("%d connections over %d partitions (%d each), %d queues, batches of %d, %d concurrent: compute %s, post rate %s at %s posts/s",
		in.Connections, in.Partitions, f.PerPartition, in.Queues, in.QueryBatchSize, in.QueryConcurrency,
		f.ComputeBound.Round(time.Millisecond), f.RateBound.Round(time.Millisecond), num(in.PostRateLimit))
	if f.RateBound > in.Target {
		detail += fmt.Sprintf("; meeting the target needs %s posts/s (raise API Gateway's account quota, or spread the post workers over accounts, as seed 002 does)", num(math.Ceil(f.NeededPostRate)))
	}
	return []Finding{
		{"feed delivery to every dispatcher", f.Delivery.Seconds(), in.Target.Seconds(), "s", sev, detail},
		{"feed reconnect after a failover", math.Ceil(float64(in.Connections) / FeedReconnectWindow.Seconds()), FeedNewConnectionsPerSecond,
			"connections/s", map[bool]string{true: "warn", false: "ok"}[f.ReconnectAll > FeedReconnectWindow],
			fmt.Sprintf("every dispatcher reconnecting within %s; at API Gateway's default quota of %d/s it takes %s (raise the quota)",
				FeedReconnectWindow, FeedNewConnectionsPerSecond, f.ReconnectAll.Round(time.Second))},
	}
}
