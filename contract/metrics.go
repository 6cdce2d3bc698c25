// Package metrics names the custom CloudWatch metrics the handler emits (as
// Embedded Metric Format log lines) and the alarms and dashboard read. It
// never imports Pulumi.
package contract

const (
	// Namespace: seed 000, put_metric_data(Namespace = 'DispatchAI').
	Namespace = "DispatchAI"
	// ServiceDimension is the one dimension every metric carries.
	ServiceDimension = "Service"
	// Service is the dimension's value.
	Service = "access911"
)

// Metric names: seed 000's "Key Metrics to Monitor".
const (
	RequestCount = "RequestCount"
	ResponseTime = "ResponseTime" // milliseconds
	Errors       = "Errors"
	CallsWritten = "CallsWritten"
	QueueDepth   = "QueueDepth"
	// CallsQueued counts calls put on the durable intake queue (answered 202).
	CallsQueued = "CallsQueued"
	// CallsDrained counts queued calls the drain function stored.
	CallsDrained = "CallsDrained"
	// WebhookDeliveries counts verified provider deliveries, by type.
	WebhookDeliveries = "WebhookDeliveries"
	// WebhookRejected counts deliveries refused for their signature: a
	// misconfigured secret shows here first.
	WebhookRejected = "WebhookRejected"
	// The dispatcher feed's query and post workers, per batch: posts
	// delivered, posts that failed (other than to a vanished connection: the
	// alarm reads it), connections found gone (410) and forgotten, and the
	// time from the broadcast to the batch's last post (milliseconds).
	FeedPostsSent = "FeedPostsSent"
	// FeedCallsDelivered counts calls in the frames posted (a frame
	// carries a batch's calls of one dispatcher's area and types).
	FeedCallsDelivered  = "FeedCallsDelivered"
	FeedPostsFailed     = "FeedPostsFailed"
	FeedConnectionsGone = "FeedConnectionsGone"
	FeedDeliveryLatency = "FeedDeliveryLatency"
	// ReplicatedCallLag is how late (ms, Maximum per stream batch) the calls
	// written in other regions reach this region's stream: replication's
	// lag as the receiving region sees it (DynamoDB's own ReplicationLatency
	// is published in the sending region, where an outage may hide it).
	ReplicatedCallLag = "ReplicatedCallLag"
	// FeedRepeatsSkipped counts partition messages another worker had
	// already delivered (SQS's at-least-once delivery, a rebroadcast).
	FeedRepeatsSkipped = "FeedRepeatsSkipped"
	// The read cache: reads answered from it, reads it did not hold, and
	// reads that went to the table because it failed, was slow or held
	// something that is not a call (the alarm reads CacheFallbacks).
	CacheHits      = "CacheHits"
	CacheMisses    = "CacheMisses"
	CacheFallbacks = "CacheFallbacks"
)
