package capacity

// ReadCacheStreamBatchSize is the invalidator's stream mapping batch: up to
// 100 changes a call, no batching window (the delay a read after a write
// waits is the stream's, not a window's).
const ReadCacheStreamBatchSize = 100
