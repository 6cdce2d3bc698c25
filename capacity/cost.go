package capacity

import (
	"fmt"
	"math"
)

// HoursPerMonth: AWS prices a month as 730 hours.
const HoursPerMonth = 730

// SpikeHourCostCeilingUSD is access911:spikeHourCostCeilingUsd's default:
// above it the capacity check warns about a stack's spike hour (the
// committed stacks' is $147 in the active region).
const SpikeHourCostCeilingUSD = 500

// StoredCallsPerDay is access911:storedCallsPerDay's default: the calls the
// platform stores a day on average (a stated size, not the design load),
// from which the cost model prices what every region already holds.
const StoredCallsPerDay = 50_000

// Held adds what a region holds whatever the case, for hours: its replica
// of the global table (every region's calls for the retention, the index
// entries too) and that replica's point-in-time recovery (billed on the
// table's data, not its global indexes), and its own calls' archive objects
// and their replicas while they are in S3 STANDARD (IA and GLACIER, after
// standardDays, are priced by no item of the table and left out).
func (b *CostBuilder) Held(region, replica string, callsPerDay, share float64, retentionDays, standardDays int, hours float64) {
	months := hours / HoursPerMonth
	tableGB := callsPerDay * float64(retentionDays) * callKB / 1e6
	archiveGB := callsPerDay * share * float64(standardDays) * callKB / 1e6
	b.Add("DynamoDB", fmt.Sprintf("stored calls held (%.0f a day for %d days, and their index)", callsPerDay, retentionDays),
		region, PriceDynamoStorage, 2*tableGB*months, "GB-months")
	b.Add("DynamoDB", "point-in-time recovery of the calls held", region, PriceDynamoPITR, tableGB*months, "GB-months")
	b.Add("S3", fmt.Sprintf("archive held in STANDARD (this region's calls, %d days)", standardDays), region, PriceS3Storage, archiveGB*months, "GB-months")
	b.Add("S3", "replica held in STANDARD in "+replica, replica, PriceS3Storage, archiveGB*months, "GB-months")
}

// Cost model assumptions, each named where a line uses it.
const (
	// callKB is a stored call (FeedCallBytes) in KB.
	callKB = float64(FeedCallBytes) / 1024
	// logKBPerRequest: an access-log line and the function's EMF record.
	logKBPerRequest = 1.2
	// xrayReservoir and xrayRate: X-Ray's default sampling rule, the first
	// request each second and 5 % of the rest.
	xrayReservoir, xrayRate = 1.0, 0.05
	// sqsRequestsPerFeedMessage: a partition message is sent, received and
	// deleted, the last two in batches of 10.
	sqsRequestsPerFeedMessage = 1.2
)

// CostLine is one priced quantity.
type CostLine struct {
	Service, Item string
	Region        string
	Quantity      float64
	Unit          string // of Quantity
	Price         Price
	PriceItem     string
	USD           float64
}

// CostBuilder adds priced lines; the first price the table lacks is kept
// in Err (and no line is priced at zero).
type CostBuilder struct {
	Prices PriceTable
	Lines  []CostLine
	Err    error
}

// Add prices quantity of priceItem in region (nothing when it is zero).
func (b *CostBuilder) Add(service, item, region, priceItem string, quantity float64, unit string) {
	if quantity <= 0 || b.Err != nil {
		return
	}
	p, err := b.Prices.Of(region, priceItem)
	if err != nil {
		b.Err = err
		return
	}
	div := priceDivisor[priceItem]
	if div == 0 {
		div = 1
	}
	b.Lines = append(b.Lines, CostLine{Service: service, Item: item, Region: region, Quantity: quantity, Unit: unit,
		Price: p, PriceItem: priceItem, USD: quantity / div * p.USD})
}

// Total is the lines' sum.
func (b *CostBuilder) Total() float64 {
	t := 0.0
	for _, l := range b.Lines {
		t += l.USD
	}
	return t
}

// CallLoad is a region's calls for a while, and what they go through.
type CallLoad struct {
	Region, ArchiveReplicaRegion string
	Rps, Hours                   float64
	P99Ms, MemoryMB              int
	DNS                          bool
	// Feed is the feed's model input (its CallRate is set from Rps).
	Feed FeedLoadInput
	// Cache, if set, is the read cache's model input; Spike prices its
	// reads at the model's spike, else only the stream's writes.
	Cache *ReadCacheInput
	Spike bool
}

// Calls adds what a region's own calls cost: the API, the intake function,
// the table's writes and its index, the archive and its replica, logs and
// traces, the shared name's queries, the read cache, and the feed.
func (b *CostBuilder) Calls(in CallLoad) {
	seconds := in.Hours * 3600
	calls := in.Rps * seconds
	if calls == 0 {
		return
	}
	region, replica := in.Region, in.ArchiveReplicaRegion
	gbSeconds := calls * float64(in.P99Ms) / 1000 * float64(in.MemoryMB) / 1024
	storedGB := calls * callKB / 1e6
	grown := storedGB / 2 * in.Hours / HoursPerMonth // half the period on average
	b.Add("API Gateway", "REST requests (one a call)", region, PriceRESTRequests, calls, "requests")
	b.Add("Lambda", "intake invocations", region, PriceLambdaRequests, calls, "requests")
	b.Add("Lambda", "intake duration (the p99 at the memory size)", region, PriceLambdaGBSeconds, gbSeconds, "GB-seconds")
	b.Add("DynamoDB", "writes: the call and its index entry", region, PriceDynamoWRU, 2*calls*math.Ceil(callKB), "write request units")
	b.Add("DynamoDB", "storage the case adds (half the period on average)", region, PriceDynamoStorage, grown, "GB-months")
	b.Add("DynamoDB", "point-in-time recovery of it", region, PriceDynamoPITR, grown, "GB-months")
	b.Add("S3", "archive PUTs", region, PriceS3Puts, calls, "requests")
	b.Add("S3", "archive storage the case adds", region, PriceS3Storage, grown, "GB-months")
	b.Add("S3", "replica PUTs in "+replica, replica, PriceS3Puts, calls, "requests")
	b.Add("S3", "replica storage in "+replica, replica, PriceS3Storage, grown, "GB-months")
	b.Add("Data transfer", "archive replication to "+replica, region, PriceTransferInter, storedGB, "GB")
	b.Add("CloudWatch", "logs ingested (access log, function EMF)", region, PriceLogsIngested, calls*logKBPerRequest/1e6, "GB")
	b.Add("CloudWatch", "logs stored", region, PriceLogsStored, calls*logKBPerRequest/1e6*in.Hours/HoursPerMonth, "GB-months")
	b.Add("X-Ray", "traces recorded (1/s and 5 %)", region, PriceXRayTraces, math.Min(calls, xrayReservoir*seconds+xrayRate*calls), "traces")
	if in.DNS {
		b.Add("Route53", "queries of the shared name (one a call: an upper bound, resolvers cache 30 s)", region, PriceRoute53Queries, calls, "queries")
	}
	if in.Cache != nil {
		ecpu, item := calls*math.Ceil(callKB), "read cache ECPUs: the stream's writes (reads depend on the consoles)"
		if in.Spike {
			ecpu, item = ModelReadCache(*in.Cache).ECPU*seconds, "read cache ECPUs at the capacity model's spike (reads at the stage's limit)"
		}
		b.Add("ElastiCache", item, region, PriceCacheECPU, ecpu, "ECPUs")
	}
	b.feed(in, seconds)
}

// feed: the coalesced feed at the calls' rate (ModelFeedLoad): its SQS
// messages, swarm and worker invocations and their duration, the posts.
func (b *CostBuilder) feed(in CallLoad, seconds float64) {
	fin := in.Feed
	fin.CallRate = in.Rps
	f := ModelFeedLoad(fin)
	region := in.Region
	b.Add("SQS", "feed partition messages (send, receive, delete)", region, PriceSQSRequests, f.Messages*sqsRequestsPerFeedMessage*seconds, "requests")
	b.Add("Lambda", "feed swarm and worker invocations", region, PriceLambdaRequests, (f.Batches+f.Invocations)*seconds, "requests")
	b.Add("Lambda", "feed workers' duration", region, PriceLambdaGBSeconds, f.Workers*seconds*float64(MemoryMB)/1024, "GB-seconds")
	b.Add("API Gateway", "feed posts (WebSocket messages)", region, PriceWSMessages, f.Posts*seconds, "messages")
	// The swarm marks each call it broadcast and reads the marks of a
	// batch's calls first (a new mapping's replay skips them): one small
	// write and half a read unit (eventually consistent) a call.
	b.Add("DynamoDB", "feed broadcast markers (one write a new call)", region, PriceDynamoWRU, in.Rps*seconds, "write request units")
	b.Add("DynamoDB", "feed broadcast marker reads (half a unit a new call)", region, PriceDynamoRRU, in.Rps*seconds/2, "read request units")
	if in.Cache != nil { // the swarm hands every batch to the cache's invalidator
		b.Add("Lambda", "read cache invalidator invocations (one a swarm batch)", region, PriceLambdaRequests, f.Batches*seconds, "requests")
	}
}

// Replicated adds the writes another region's calls bring a replica: a
// replicated write and the local index entry each.
func (b *CostBuilder) Replicated(region, from string, calls float64) {
	b.Add("DynamoDB", "replicated writes from "+from, region, PriceDynamoRWRU, calls*math.Ceil(callKB), "replicated write units")
	b.Add("DynamoDB", "index entries of "+from+"'s calls", region, PriceDynamoWRU, calls*math.Ceil(callKB), "write request units")
}

// SpikeHourFinding warns when a stack's hour of the 10x spike (its own
// calls if it is active, the replicated writes if not) costs more than its
// ceiling. The fixed lines (keys, alarms) add cents an hour; `access911
// cost` prices every line.
func SpikeHourFinding(b *CostBuilder, ceilingUSD int) Finding {
	f := Finding{Check: "spike hour cost", Needed: math.Round(b.Total()), Configured: float64(ceilingUSD), Unit: "USD", Severity: "ok",
		Detail: "the calls, the feed and the replicated writes of an hour of the 10x spike at the embedded prices (access911 cost has every line)"}
	switch {
	case b.Err != nil:
		f.Severity, f.Detail = "warn", "cannot price the spike hour: "+b.Err.Error()
	case ceilingUSD > 0 && b.Total() > float64(ceilingUSD):
		f.Severity = "warn"
	}
	return f
}
