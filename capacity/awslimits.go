package capacity

// AWS's documented limits that the program's configuration can reach. A
// plan that exceeds one would be refused by AWS halfway through `pulumi up`;
// the configuration parser refuses it first (naming the key) and the policy
// pack checks every plan against them (internal/deploy/policy.go), each
// with the document it comes from.
const (
	// RedriveAllowMaxSourceQueues: a redrive allow policy "byQueue" names
	// at most 10 source queues (Amazon SQS API Reference, SetQueueAttributes,
	// RedriveAllowPolicy: sourceQueueArns).
	RedriveAllowMaxSourceQueues = 10
	// AlarmMaxMetrics: an alarm on a metric math expression references at
	// most 10 metrics, a hard limit (CloudWatch user guide, "Limits that
	// apply to alarms based on metric math expressions"; PutMetricAlarm:
	// at most 10 MetricStat and 10 Expression structures).
	AlarmMaxMetrics = 10
	// MappingMinConcurrency / MappingMaxConcurrency: an SQS event source
	// mapping's ScalingConfig.MaximumConcurrency is 2-1000 (Lambda API
	// Reference, ScalingConfig).
	MappingMinConcurrency = 2
	MappingMaxConcurrency = 1000
	// LambdaQueueMinReceiveCount: a queue that Lambda consumes should let a
	// message be received at least 5 times before dead-lettering it, or
	// throttled or batched-away receives send healthy messages to the DLQ
	// (Lambda developer guide, "Using Lambda with Amazon SQS", configuring
	// a dead-letter queue: "set the maxReceiveCount ... to at least 5").
	LambdaQueueMinReceiveCount = 5
	// SQSMaxRetentionDays: the longest a queue keeps a message (Amazon SQS
	// API Reference, MessageRetentionPeriod: 60 s to 1,209,600 s).
	SQSMaxRetentionDays = 14
	// StreamMaxReaders: "More than 2 processes are reading from the same
	// streams shard at the same time. Exceeding this limit may result in
	// request throttling" (Amazon DynamoDB API Reference,
	// LimitExceededException). Each Lambda mapping on a table's stream is
	// such a reader.
	StreamMaxReaders = 2
	// GlobalTableStreamMaxReaders: "For global tables, we recommend you
	// limit the number of simultaneous readers to one to avoid request
	// throttling" (DynamoDB developer guide, service quotas, DynamoDB
	// Streams; the Lambda developer guide's with-ddb page says the same of
	// functions). Replication reads the stream too. The calls table is
	// global, so the feed's swarm is its stream's one reader and hands the
	// read cache's invalidator its batches.
	GlobalTableStreamMaxReaders = 1
	// LambdaUnreservedFloor: Lambda keeps at least 100 of a region's
	// concurrency unreserved (Lambda developer guide, "Configuring reserved
	// concurrency"), so the quota must hold the reservations plus 100.
	LambdaUnreservedFloor = 100
)

// Service Quotas codes (the Service Quotas console; the API Gateway quotas
// page links this one): QuotaAPIGatewayThrottle is "Throttle quota per
// account, per Region across HTTP APIs, REST APIs, WebSocket APIs, and
// WebSocket callback APIs", 10,000 requests/s by default.
// QuotaLambdaConcurrency is Lambda's "Concurrent executions" quota.
const (
	QuotaServiceAPIGateway  = "apigateway"
	QuotaAPIGatewayThrottle = "L-8A5B8E43"
	QuotaLambdaConcurrency  = "L-B99A9384"
)

// FeedMappingConcurrency is each fan-out queue's mapping concurrency: the
// query concurrency shared by the queues, within what a mapping accepts.
func FeedMappingConcurrency(queryConcurrency, queues int) int {
	return max(MappingMinConcurrency, queryConcurrency/queues)
}
