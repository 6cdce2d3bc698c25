package contract

// The live dispatcher feed (seed 002): connection ids kept in a connections
// table, each assigned to one of the partitions of a partitions table, so a
// broadcast fans out one message per partition.
const (
	// FeedConnectionKey is the connections table's partition key.
	FeedConnectionKey = "connectionId"
	// FeedPartitionKey is the partitions table's partition key and, on a
	// connection, the partition it belongs to (a number, 1..partitions).
	FeedPartitionKey = "partitionId"
	// FeedPartitionIndex is the connections table's GSI by partition: the
	// query workers load one partition's connections with it.
	FeedPartitionIndex = "partition-index"
	// FeedConnectionCount is a partition's count of live connections, kept
	// exact with atomic ADDs in the same transaction as the connection.
	FeedConnectionCount = "connectionCount"
	// FeedSubscription is a connection's emergency types (a string set;
	// absent: every type).
	FeedSubscription = "emergencyTypes"
	// FeedExpiresAt is a connection's TTL attribute: API Gateway closes a
	// WebSocket after 2 hours, so a row older than that is stale.
	FeedExpiresAt = "expiresAt"
	// FeedDeliveryKey is the delivery ledger's key: "<call>#<partition>",
	// claimed before a partition is posted so a repeated partition message
	// posts nothing twice.
	FeedDeliveryKey = "deliveryId"
	// FeedConnectionTTLSeconds: API Gateway's maximum connection duration.
	FeedConnectionTTLSeconds = 2 * 60 * 60
	// FeedSubscriptionAreas is a connection's areas (a string set; absent:
	// a supervisor's connection, which gets summaries, not calls).
	FeedSubscriptionAreas = "areas"
	// FeedMemberOf is set on a membership item (one per area a dispatcher
	// serves, keyed "<connection>#<area>", in one of the area's
	// partitions): the connection it stands for.
	FeedMemberOf = "memberOf"
	// FeedMemberArea is a membership item's area.
	FeedMemberArea = "area"
)

// Areas: a dispatcher serves areas, geohash cells of FeedAreaPrecision
// characters; a call belongs to the cell of its coordinates, or to
// FeedUnlocatedArea when it has none usable (the provider's
// needs_geocoding calls), whose subscribers then place it.
const (
	// FeedAreaPrecision: 4 characters, a cell of about 39 x 20 km at the
	// equator (narrower towards the poles): a county-sized dispatch area;
	// a dispatcher covering a larger one subscribes to several cells.
	FeedAreaPrecision = 4
	// FeedUnlocatedArea is the area of calls without usable coordinates.
	FeedUnlocatedArea = "unlocated"
	// FeedMaxAreas bounds one subscription's areas: a subscription moves its
	// memberships in one DynamoDB transaction (at most 100 items: the
	// connection, and for each old and new area its membership and count).
	FeedMaxAreas = 20
)

// Frames a dispatcher receives.
const (
	// FeedFrameCalls carries the new calls of the dispatcher's areas and
	// types, coalesced: {"type":"calls","calls":[...],"sent_at_ms":...}.
	FeedFrameCalls = "calls"
	// FeedFrameSummary is a supervisor's: per area and type, the new calls
	// and the highest severity, and the newest calls up to FeedSummaryNewest.
	FeedFrameSummary = "summary"
	// FeedSummaryNewest caps the calls a summary carries.
	FeedSummaryNewest = 5
	// FeedSummaryMaxAreas caps a summary's area lines (the busiest kept,
	// the rest counted), so it stays one post (~30 KB).
	FeedSummaryMaxAreas = 300
	// FeedMaxFrameBytes: a post is split so that no frame exceeds API
	// Gateway's WebSocket frame size, 32 KB (API Gateway quotas for
	// WebSocket APIs: frame size 32 KB, message payload 128 KB).
	FeedMaxFrameBytes = 32 * 1024
	// FeedMaxMessageBytes: a partition message is split below SQS's
	// 256 KB message size (SQS quotas), leaving room for its attributes.
	// Below SQSBatchMaxBytes, so any one message fits a batch alone.
	FeedMaxMessageBytes = 240 * 1024
	// FeedMaxPostBytes: API Gateway's WebSocket message payload, 128 KB
	// (API Gateway quotas for WebSocket APIs): the most one post to a
	// connection (PostToConnection's Data) may carry.
	FeedMaxPostBytes = 128 * 1024
	// FeedLiveSeconds: a call received longer ago than this is not pushed
	// to dispatchers as new. It reaches a region late only as the backlog
	// replicated after an outage (the stream brings it as an INSERT then):
	// supervisors' summaries count it as backlog, dispatchers read it with
	// GET /calls. The same five minutes as the swarm's maximum record age.
	FeedLiveSeconds = 300
)

// SQS's limits on one SendMessageBatch (Amazon SQS API Reference,
// SendMessageBatch): at most 10 entries, and "the maximum total payload
// size (the sum of the individual lengths of all of the batched messages)"
// equal to the maximum message size. AWS raised both to 1 MiB in 2025 for
// queues configured for it; the feed's queues keep the 256 KiB (262,144
// bytes) that every queue accepts, so a batch is packed by count AND size.
const (
	SQSBatchMaxEntries = 10
	SQSBatchMaxBytes   = 262_144
)

// FeedHostnamePrefix: with a shared hostname, dispatchers connect to
// wss://feed.<apiHostname>/ (a custom domain of its own: API Gateway does not
// map WebSocket and REST APIs to one), on the API's failover chain and gates.
const FeedHostnamePrefix = "feed."

// FeedTokenParam is the query parameter a dispatcher's token travels in on
// $connect (browsers cannot set headers on a WebSocket); the authorizer's
// identity source.
const FeedTokenParam = "token"

// Environment of the feed's functions (the same binary as the intake;
// EnvFeedRole picks its entry point).
const (
	// EnvFeedRole is one of the FeedRole* values.
	EnvFeedRole               = "FEED_ROLE"
	EnvFeedConnectionsTable   = "FEED_CONNECTIONS_TABLE"
	EnvFeedPartitionsTable    = "FEED_PARTITIONS_TABLE"
	EnvFeedDeliveriesTable    = "FEED_DELIVERIES_TABLE"
	EnvFeedDeliveryLease      = "FEED_DELIVERY_LEASE_SECONDS" // the worker's timeout
	EnvFeedPartitions         = "FEED_PARTITIONS"
	EnvFeedPartitionsPerArea  = "FEED_PARTITIONS_PER_AREA"
	EnvFeedQueueURLs          = "FEED_QUEUE_URLS" // comma-separated
	EnvFeedSecretARN          = "FEED_SECRET_ARN"
	EnvFeedManagementEndpoint = "FEED_MANAGEMENT_ENDPOINT" // https://<api>.execute-api.<region>.amazonaws.com/<stage>
)

// FeedPostsInFlight is how many posts one worker invocation keeps in
// flight (the capacity model's assumption, and the worker's bound).
const FeedPostsInFlight = 100

// The WebSocket API's routes.
const (
	FeedRouteConnect    = "$connect"
	FeedRouteDisconnect = "$disconnect"
	FeedRouteDefault    = "$default" // subscription messages
)

// Feed function roles: one function each, from the one binary, each with
// a role of its own.
const (
	FeedRoleAuthorizer = "authorizer" // the $connect REQUEST authorizer
	FeedRoleConnect    = "connect"    // $connect: register and count
	FeedRoleDisconnect = "disconnect" // $disconnect: forget and uncount
	FeedRoleDefault    = "default"    // $default: subscriptions
	FeedRoleSwarm      = "swarm"      // the calls table's stream
	FeedRoleWorker     = "worker"     // the fan-out queues: query and post
)

// FeedRouteRoles is the function each route invokes.
var FeedRouteRoles = map[string]string{
	FeedRouteConnect: FeedRoleConnect, FeedRouteDisconnect: FeedRoleDisconnect, FeedRouteDefault: FeedRoleDefault,
}

// FeedRoles lists every feed function's role, in the order stacks list them.
var FeedRoles = []string{FeedRoleAuthorizer, FeedRoleConnect, FeedRoleDisconnect, FeedRoleDefault, FeedRoleSwarm, FeedRoleWorker}
