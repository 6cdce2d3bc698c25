package capacity

import (
	"fmt"
	"math"
	"time"

	"github.com/access911/access911-infra/contract"
)

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

// ReadCacheHitRate is the hit rate measured under the load tool's users
// profile with the default mix (15 % of requests pages of GET /calls by
// type, 5 s page lifetime): `access911 load --profile users --read-cache`
// (make bench), 4,888 hits of 5,753 reads, 85.0 % (docs/performance.md).
// The model uses it for the reads the cache absorbs and the misses' fills.
const ReadCacheHitRate = 0.85

// ReadCachePageCalls is a page of GET /calls: the default limit.
const ReadCachePageCalls = contract.DefaultQueryLimit

// ReadCacheInput is a stack's read cache under a load.
type ReadCacheInput struct {
	// ReadRps: the reads the API admits at most (the stage's rate limit),
	// every one a page: the cache's worst case. WriteRps: new calls a
	// second, each written into the cache by the stream.
	ReadRps, WriteRps  float64
	TTL                time.Duration
	MaxECPU, MaxDataGB int
}

// ReadCacheLoad is what the cache does a second under it.
type ReadCacheLoad struct {
	Absorbed, ECPU, DataGB float64
}

// ModelReadCache: ElastiCache Serverless bills "1 ECPU for each kilobyte
// of data transferred" by a simple read or write (ElastiCache pricing,
// ECPUs), so a page read is 25 ECPUs, a call written 1; a miss reads the
// table and fills the page (its SET, 25 more). The stream writes every new
// call, which stays one TTL.
func ModelReadCache(in ReadCacheInput) ReadCacheLoad {
	pageKB := math.Ceil(float64(ReadCachePageCalls*FeedCallBytes) / 1024)
	callKB := math.Ceil(float64(FeedCallBytes) / 1024)
	misses := in.ReadRps * (1 - ReadCacheHitRate)
	return ReadCacheLoad{
		Absorbed: in.ReadRps * ReadCacheHitRate,
		ECPU:     in.ReadRps*pageKB + misses*pageKB + in.WriteRps*callKB,
		DataGB:   in.WriteRps * in.TTL.Seconds() * float64(FeedCallBytes) / 1e9,
	}
}

// Findings: the ECPUs and the data against the cache's usage limits
// (above a limit ElastiCache throttles, and the reads fall back to the
// table).
func (l ReadCacheLoad) Findings(in ReadCacheInput, load string) []Finding {
	sev := func(bad bool) string { return map[bool]string{true: "fail", false: "ok"}[bad] }
	return []Finding{
		{Check: "read cache ECPU " + load, Needed: math.Ceil(l.ECPU), Configured: float64(in.MaxECPU), Unit: "ECPU/s",
			Severity: sev(l.ECPU > float64(in.MaxECPU)),
			Detail: fmt.Sprintf("%s reads/s (the stage's rate limit), pages of %d calls, %.0f %% hits (measured): absorbs %s reads/s; %s new calls/s written by the stream",
				num(in.ReadRps), ReadCachePageCalls, ReadCacheHitRate*100, num(math.Round(l.Absorbed)), num(in.WriteRps))},
		{Check: "read cache data " + load, Needed: math.Round(l.DataGB*100) / 100, Configured: float64(in.MaxDataGB), Unit: "GB",
			Severity: sev(l.DataGB > float64(in.MaxDataGB)),
			Detail:   fmt.Sprintf("%s new calls/s kept %s", num(in.WriteRps), in.TTL)},
	}
}
