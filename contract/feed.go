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
)

// FeedHostnamePrefix: with a shared hostname, dispatchers connect to
// wss://feed.<apiHostname>/ (a custom domain of its own: API Gateway does not
// map WebSocket and REST APIs to one), weighted like the API's.
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
