package capacity

// ReadCacheStreamBatchSize is the invalidator's stream mapping batch: up to
// 100 changes a call, no batching window (the delay a read after a write
// waits is the stream's, not a window's).
const ReadCacheStreamBatchSize = 100

// ReadCacheStreamRetries: a batch the invalidator cannot apply is retried
// this often before it goes to the failure bucket; an entry it would have
// changed is then stale until its TTL at most.
const ReadCacheStreamRetries = 10

// StreamMinRecordAgeSeconds is the smallest MaximumRecordAgeInSeconds a
// stream mapping accepts (Lambda API reference, CreateEventSourceMapping:
// minimum 60; -1 is "infinite").
const StreamMinRecordAgeSeconds = 60

// ElastiCache Serverless usage limits as the ElastiCache user guide's
// "Setting scaling limits to manage costs" gives them: ECPU per second
// from 1,000 to 15,000,000, data storage from 1 to 5,000 GB.
const (
	ServerlessCacheMinECPU   = 1_000
	ServerlessCacheMaxECPU   = 15_000_000
	ServerlessCacheMaxDataGB = 5_000
)

// Read cache usage limits by default (access911:readCacheMaxEcpuPerSecond,
// readCacheMaxDataGb): the spike's reads with room (the capacity check
// models them), and ten times the calls one TTL at the spike holds.
const (
	ReadCacheMaxECPUPerSecond = 100_000
	ReadCacheMaxDataGB        = 10
)
