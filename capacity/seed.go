package capacity

// Seed000 is the source document of the platform's numbers ("Load Balancing
// Overview"), in the shared folder beside the repository. Every seed number
// the program uses is declared once, here or next to the rule that applies
// it, with the line of this file that gives it.
const Seed000 = "seeds/000_2b09eb348c88c72e.txt"

// Lambda and API Gateway sizing: the defaults of the function and API
// components. Pulumi.yaml's defaults for the matching access911 keys are
// checked against these by stacks' TestProjectDefaultsAreTheSeedNumbers.
const (
	// ReservedConcurrency: seed 000 line 24, RESERVED_CONCURRENCY = 100.
	ReservedConcurrency = 100
	// MemoryMB: seed 000 line 25, MEMORY_SIZE = 512 # MB.
	MemoryMB = 512
	// TimeoutSeconds: seed 000 line 26, TIMEOUT = 30 # seconds.
	TimeoutSeconds = 30
	// ThrottleBurst: seed 000 line 12, ThrottleSettings BurstLimit : 5000.
	ThrottleBurst = 5000
	// ThrottleRateRps: seed 000 line 13, ThrottleSettings RateLimit : 2000.
	ThrottleRateRps = 2000
)

// Durable intake defaults (this project's, not the seed's).
const (
	// DefaultMaxReceiveCount: a queued call is tried five times before the
	// dead-letter queue.
	DefaultMaxReceiveCount = 5
	// DefaultDrainBatchSize: SQS's own maximum per receive.
	DefaultDrainBatchSize = 10
	// QueueRetentionDays: the intake queue keeps a call a week, half of
	// what its dead-letter queue keeps. SQS expires a dead-lettered message
	// by its original enqueue time (SQS developer guide, "Using dead-letter
	// queues": set the DLQ's retention longer than the source queue's), so
	// a call that dead-letters on its last day still has a week there.
	QueueRetentionDays = 7
	// DeadLetterRetentionDays: SQS's longest retention, 14 days, for every
	// dead-letter queue.
	DeadLetterRetentionDays = 14
	// VisibilityTimeoutFactor: AWS's guidance, a queue's visibility timeout
	// at least six times the timeout of the function it feeds.
	VisibilityTimeoutFactor = 6
)
