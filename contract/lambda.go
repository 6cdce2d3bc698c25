package contract

// The Lambda deployment package: a Go binary on the OS-only runtime.
const (
	// Binary is the executable the provided runtime starts, the zip's only entry.
	Binary = "bootstrap"
	// Architecture is the function's architecture (Graviton costs less per
	// GB-second) and GOARCH of the build.
	Architecture = "arm64"
	// Runtime is the OS-only runtime a Go binary runs on.
	Runtime = "provided.al2023"
)

// Environment variables the function component sets and cmd/lambda reads.
// The function's region is Lambda's own AWS_REGION.
const (
	// EnvCallsTable names the calls table in the function's region.
	EnvCallsTable = "CALLS_TABLE"
	// EnvArchiveBucket names the archive bucket; empty turns archiving off.
	EnvArchiveBucket = "ARCHIVE_BUCKET"
	// EnvCORSAllowOrigin is the Access-Control-Allow-Origin the handler answers.
	EnvCORSAllowOrigin = "CORS_ALLOW_ORIGIN"
	// EnvIntakeQueueURL is the durable intake queue in the function's region.
	EnvIntakeQueueURL = "INTAKE_QUEUE_URL"
	// EnvIntakeMode is IntakeDirect or IntakeBuffered.
	EnvIntakeMode = "INTAKE_MODE"
	// EnvMetricsService is the ServiceDimension value a function's metrics
	// carry, set for an app other than access911; unset: Service.
	EnvMetricsService = "METRICS_SERVICE"
)

// Intake modes: how a valid call becomes durable.
const (
	// IntakeDirect writes the call to the table and answers 201; only when
	// the write fails (throttled, timed out, the table unavailable) is the
	// call queued and answered 202.
	IntakeDirect = "direct"
	// IntakeBuffered queues every call (202) and the drain function writes
	// it; the table is written directly only when the queue fails.
	IntakeBuffered = "buffered"
)

// IntakeModes are the accepted intake modes.
var IntakeModes = []string{IntakeDirect, IntakeBuffered}

// ArchivePrefix is the key prefix of raw payloads in the archive bucket: the
// handler writes under it and the function's IAM policy allows only it.
const ArchivePrefix = "calls/"

// The read cache (access911:readCache valkey): the reader and invalidator
// functions find the cache at EnvReadCacheEndpoint (host:port, TLS) and the
// entries' lifetimes in the two TTL variables (seconds; defaults below).
const (
	EnvReadCacheEndpoint = "READ_CACHE_ENDPOINT"
	EnvReadCacheTTL      = "READ_CACHE_TTL_SECONDS"
	EnvReadCacheQueryTTL = "READ_CACHE_QUERY_TTL_SECONDS"
	// EnvReadCacheRole is ReadCacheInvalidator on the function that follows
	// the calls table's stream; the reader serves the API's GET routes.
	EnvReadCacheRole     = "READ_CACHE_ROLE"
	ReadCacheInvalidator = "invalidator"
	// ReadCacheTTLSeconds: seed 000, get_cached_call, the key call:<id>
	// cached for 300 s. The stream keeps entries current well within it.
	ReadCacheTTLSeconds = 300
	// ReadCacheQueryTTLSeconds: a page of GET /calls?... is cached this
	// long and never invalidated (docs/cache.md says why).
	ReadCacheQueryTTLSeconds = 5
	// ReadCacheTimeoutMs bounds one cache command: past it the read goes
	// to the table, counted as a fallback.
	ReadCacheTimeoutMs = 50
)
