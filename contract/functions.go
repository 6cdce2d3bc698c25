package contract

import "slices"

// The one binary runs as every function; what it is comes from its
// environment (FunctionKind), and each kind needs the variables
// RequiredEnv lists: the function refuses to start without them, naming
// them, and the component that creates a function sets all of them (the
// stacks' tests compare every planned function's environment with this).
const (
	// FunctionIntake answers the API, the inbox's events and the intake
	// queue's batches (the intake and drain functions).
	FunctionIntake = "intake"
	// FunctionCacheReader serves the API's GET routes through the read cache.
	FunctionCacheReader = "read-cache-reader"
	// FunctionCacheInvalidator applies the calls table's changes to the read
	// cache, invoked by the swarm (the stream's one reader) with its batch.
	FunctionCacheInvalidator = "read-cache-invalidator"
)

// EnvReadCacheInvalidatorFunction, on the swarm: the invalidator it hands
// every stream batch to when the read cache is on.
const EnvReadCacheInvalidatorFunction = "READ_CACHE_INVALIDATOR_FUNCTION"

// RequiredEnv is what each kind of function cannot start without.
var RequiredEnv = map[string][]string{
	FunctionIntake:           {EnvCallsTable},
	FunctionCacheReader:      {EnvCallsTable, EnvReadCacheEndpoint},
	FunctionCacheInvalidator: {EnvReadCacheEndpoint},
	FeedRoleAuthorizer:       {EnvFeedSecretARN},
	FeedRoleConnect:          {EnvFeedConnectionsTable, EnvFeedPartitionsTable, EnvFeedPartitions, EnvFeedManagementEndpoint},
	FeedRoleDisconnect:       {EnvFeedConnectionsTable, EnvFeedPartitionsTable, EnvFeedPartitions, EnvFeedManagementEndpoint},
	FeedRoleDefault:          {EnvFeedConnectionsTable, EnvFeedPartitionsTable, EnvFeedPartitions, EnvFeedManagementEndpoint},
	FeedRoleSwarm:            {EnvFeedQueueURLs, EnvFeedPartitions, EnvFeedDeliveriesTable},
	FeedRoleWorker: {EnvFeedConnectionsTable, EnvFeedPartitionsTable, EnvFeedPartitions, EnvFeedDeliveriesTable,
		EnvFeedDeliveryLease, EnvFeedManagementEndpoint},
}

// FunctionKind is what a function with this environment runs as.
func FunctionKind(getenv func(string) string) string {
	switch {
	case getenv(EnvFeedRole) != "":
		return getenv(EnvFeedRole)
	case getenv(EnvReadCacheRole) == ReadCacheInvalidator:
		return FunctionCacheInvalidator
	case getenv(EnvReadCacheEndpoint) != "":
		return FunctionCacheReader
	}
	return FunctionIntake
}

// MissingEnv lists the variables a function of this environment needs and
// lacks (empty counts as missing); an unknown feed role is reported as
// EnvFeedRole itself.
func MissingEnv(getenv func(string) string) []string {
	required, ok := RequiredEnv[FunctionKind(getenv)]
	if !ok {
		return []string{EnvFeedRole}
	}
	var missing []string
	for _, name := range required {
		if getenv(name) == "" && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	return missing
}
