package deploy

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// A cost case: a month idle, a month at the region's own normal load, a
// month after a failover (the active region carries every region's calls),
// and one hour of the 10x spike in the active region.
const (
	CaseIdle     = "idle standby month"
	CaseNormal   = "normal month"
	CaseFailover = "failover month"
	CaseSpike    = "spike hour"
)

// Cases in the order they print.
var Cases = []string{CaseIdle, CaseNormal, CaseFailover, CaseSpike}

// hoursPerMonth: AWS prices a month as 730 hours.
const hoursPerMonth = 730

// Model assumptions, each named where a line uses it.
const (
	// callKB is a stored call (capacity.FeedCallBytes) in KB.
	callKB = float64(capacity.FeedCallBytes) / 1024
	// logKBPerRequest: an access-log line and the function's EMF record.
	logKBPerRequest = 1.2
	// xrayReservoir and xrayRate: X-Ray's default sampling rule, the first
	// request each second and 5 % of the rest.
	xrayReservoir, xrayRate = 1.0, 0.05
	// sqsPollsPerMappingHour: an idle SQS event source mapping long-polls
	// (20 s) with 5 pollers: 5 x 3 a minute.
	sqsPollsPerMappingHour = 5 * 3 * 60
	// kmsRequestsPerKeyHour: data keys are reused (SQS for 5 minutes, S3
	// bucket keys), so a key sees about a dozen requests an hour.
	kmsRequestsPerKeyHour = 12
	// customMetrics: the EMF metrics the functions emit (contract), with
	// the Service dimension and the route and method properties.
	customMetrics = 20
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

// CostCase is one case of one stack.
type CostCase struct {
	Name  string
	Lines []CostLine
}

// Total is the case's cost.
func (c CostCase) Total() float64 {
	t := 0.0
	for _, l := range c.Lines {
		t += l.USD
	}
	return t
}

// StackCost is a stack's four cases.
type StackCost struct {
	Stack string
	Cases []CostCase
	// Unpriced are resource types of the plan the table does not price.
	Unpriced []string
	// Ceiling is access911:spikeHourCostCeilingUsd (0: none).
	Ceiling int
}

// costBuilder adds lines for one stack and case.
type costBuilder struct {
	prices PriceTable
	lines  []CostLine
	err    error
}

func (b *costBuilder) add(service, item, region, priceItem string, quantity float64, unit string) {
	if quantity <= 0 || b.err != nil {
		return
	}
	p, err := b.prices.Of(region, priceItem)
	if err != nil {
		b.err = err
		return
	}
	div := priceDivisor[priceItem]
	if div == 0 {
		div = 1
	}
	b.lines = append(b.lines, CostLine{Service: service, Item: item, Region: region, Quantity: quantity, Unit: unit,
		Price: p, PriceItem: priceItem, USD: quantity / div * p.USD})
}

// caseLoad is the calls a second a region's stack takes in a case, and
// for how many hours.
func caseLoad(c stackconfig.Config, name string) (rps, hours float64, active bool) {
	active = c.Region == c.ActiveRegion
	switch name {
	case CaseNormal:
		return float64(c.ExpectedLoadRps), hoursPerMonth, active
	case CaseFailover:
		if active {
			return float64(c.FailoverLoadRps), hoursPerMonth, true
		}
		return 0, hoursPerMonth, false
	case CaseSpike:
		if active {
			return float64(capacity.DesignPeakRps(c.FailoverLoadRps)), 1, true
		}
		return 0, 1, false
	}
	return 0, hoursPerMonth, active
}

// Cost prices every planned stack in every case. The writes of a region
// replicate into every other serving region, so each stack's case also
// counts the replicated writes the other stacks' calls bring it.
func Cost(planned []Stack, prices PriceTable) ([]StackCost, error) {
	var out []StackCost
	for _, s := range planned {
		sc := StackCost{Stack: s.Config.Region, Unpriced: unpriced(s), Ceiling: s.Config.SpikeHourCostCeilingUSD}
		for _, name := range Cases {
			b := &costBuilder{prices: prices}
			b.fixed(s, name)
			b.requests(s, name)
			b.replicated(s, planned, name)
			if b.err != nil {
				return nil, fmt.Errorf("stack %s, %s: %w", s.Config.Region, name, b.err)
			}
			sc.Cases = append(sc.Cases, CostCase{Name: name, Lines: b.lines})
		}
		out = append(out, sc)
	}
	return out, nil
}

// unpriced are the plan's resource types ResourcePricing does not know.
func unpriced(s Stack) []string {
	var out []string
	for _, r := range s.Result.Resources {
		if _, ok := ResourcePricing[r.Type]; !ok && !slices.Contains(out, r.Type) && r.Custom {
			out = append(out, r.Type)
		}
	}
	slices.Sort(out)
	return out
}

// fixed: what the stack costs whether calls come or not, for the case's
// hours: keys, secrets and their replicas, alarm metrics, dashboards,
// custom metrics, and the SQS mappings' idle polls.
func (b *costBuilder) fixed(s Stack, name string) {
	_, hours, _ := caseLoad(s.Config, name)
	months := hours / hoursPerMonth
	keys, secrets, alarmMetrics, dashboards, mappings := map[string]float64{}, map[string]float64{}, 0.0, 0.0, 0.0
	var healthChecks []Resource
	caches := 0.0
	home := s.Config.Region
	for _, r := range s.Result.Resources {
		region := r.Region
		if region == "" {
			region = home
		}
		switch r.Type {
		case "aws:kms/key:Key":
			keys[region]++
		case "aws:secretsmanager/secret:Secret":
			secrets[region]++
			for _, rep := range list(r, "replicas") {
				if m, ok := rep.(map[string]any); ok {
					if reg, ok := m["region"].(string); ok {
						secrets[reg]++
					}
				}
			}
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			alarmMetrics += float64(max(1, len(alarmMetricNames(r))))
		case "aws:cloudwatch/dashboard:Dashboard":
			dashboards++
		case "aws:route53/healthCheck:HealthCheck":
			healthChecks = append(healthChecks, r)
		case "aws:elasticache/serverlessCache:ServerlessCache":
			caches++
		case "aws:lambda/eventSourceMapping:EventSourceMapping":
			if strings.Contains(str(r, "eventSourceArn"), ":sqs:") {
				mappings++
			}
		}
	}
	for _, region := range sortedKeys(keys) {
		b.add("KMS", "customer managed keys", region, PriceKMSKey, keys[region]*months, "key-months")
		b.add("KMS", "requests (data keys reused)", region, PriceKMSRequests, keys[region]*kmsRequestsPerKeyHour*hours, "requests")
	}
	for _, region := range sortedKeys(secrets) {
		b.add("Secrets Manager", "secrets and replicas", region, PriceSecret, secrets[region]*months, "secret-months")
	}
	b.add("CloudWatch", "alarm metrics", home, PriceAlarmMetric, alarmMetrics*months, "metric-months")
	b.add("CloudWatch", "dashboards", home, PriceDashboard, dashboards*months, "dashboard-months")
	if rps, _, _ := caseLoad(s.Config, name); rps > 0 { // a metric with no data points is not billed
		b.add("CloudWatch", "custom metrics (EMF)", home, PriceCustomMetric, customMetrics*months, "metric-months")
	}
	b.add("SQS", "event source mappings' idle long polls", home, PriceSQSRequests, mappings*sqsPollsPerMappingHour*hours, "requests")
	b.healthChecks(healthChecks, home, months)
	// ElastiCache Serverless bills at least 100 MB of data for Valkey.
	b.add("ElastiCache", "read cache data (the 100 MB minimum)", home, PriceCacheDataGBHours, caches*0.1*hours, "GB-hours")
}

// healthChecks: Route53 bills a check of an AWS endpoint a month, and each
// of its options (HTTPS, the 10 s interval, latency measurement) besides.
func (b *costBuilder) healthChecks(checks []Resource, region string, months float64) {
	n := float64(len(checks))
	b.add("Route53", "health checks", region, PriceRoute53HealthChk, n*months, "check-months")
	for _, r := range checks {
		if strings.HasPrefix(str(r, "type"), "HTTPS") {
			b.add("Route53", "health check option: HTTPS", region, PriceRoute53HTTPS, months, "check-months")
		}
		if toInt(r.Inputs["requestInterval"]) == 10 {
			b.add("Route53", "health check option: 10 s interval", region, PriceRoute53Fast, months, "check-months")
		}
		if latency, _ := r.Inputs["measureLatency"].(bool); latency {
			b.add("Route53", "health check option: latency measurement", region, PriceRoute53Latency, months, "check-months")
		}
	}
}

// alarmMetricNames are the metrics an alarm reads (one, or a query's).
func alarmMetricNames(r Resource) []string {
	var out []string
	for _, q := range list(r, "metricQueries") {
		if m, ok := q.(map[string]any); ok && m["metric"] != nil {
			out = append(out, fmt.Sprint(m["id"]))
		}
	}
	return out
}

// requests: what the stack's own calls cost in the case: the API, the
// intake function, the table's writes and its index, the archive and its
// replica, the feed's messages, workers and posts, logs and traces.
func (b *costBuilder) requests(s Stack, name string) {
	c := s.Config
	rps, hours, active := caseLoad(c, name)
	seconds := hours * 3600
	calls := rps * seconds
	region := c.Region
	if active && name != CaseIdle {
		b.add("API Gateway", "WebSocket connection minutes (every dispatcher)", region, PriceWSConnMinutes,
			float64(c.Feed.Connections)*hours*60, "connection-minutes")
	}
	if calls == 0 {
		return
	}
	gbSeconds := calls * float64(c.ExpectedP99Ms) / 1000 * float64(c.LambdaMemoryMB) / 1024
	b.add("API Gateway", "REST requests (one a call)", region, PriceRESTRequests, calls, "requests")
	b.add("Lambda", "intake invocations", region, PriceLambdaRequests, calls, "requests")
	b.add("Lambda", fmt.Sprintf("intake duration (%d ms p99 at %d MB)", c.ExpectedP99Ms, c.LambdaMemoryMB), region, PriceLambdaGBSeconds, gbSeconds, "GB-seconds")
	b.add("DynamoDB", "writes: the call and its index entry", region, PriceDynamoWRU, 2*calls*math.Ceil(callKB), "write request units")
	storedGB := calls * callKB / 1e6
	b.add("DynamoDB", "storage the case adds (half the period on average)", region, PriceDynamoStorage, storedGB/2*hours/hoursPerMonth, "GB-months")
	b.add("DynamoDB", "point-in-time recovery of it", region, PriceDynamoPITR, storedGB/2*hours/hoursPerMonth, "GB-months")
	b.add("S3", "archive PUTs", region, PriceS3Puts, calls, "requests")
	b.add("S3", "archive storage the case adds", region, PriceS3Storage, storedGB/2*hours/hoursPerMonth, "GB-months")
	replica := c.ArchiveReplicaRegion
	b.add("S3", "replica PUTs in "+replica, replica, PriceS3Puts, calls, "requests")
	b.add("S3", "replica storage in "+replica, replica, PriceS3Storage, storedGB/2*hours/hoursPerMonth, "GB-months")
	b.add("Data transfer", "archive replication to "+replica, region, PriceTransferInter, storedGB, "GB")
	b.add("CloudWatch", "logs ingested (access log, function EMF)", region, PriceLogsIngested, calls*logKBPerRequest/1e6, "GB")
	b.add("CloudWatch", "logs stored", region, PriceLogsStored, calls*logKBPerRequest/1e6*hours/hoursPerMonth, "GB-months")
	b.add("X-Ray", "traces recorded (1/s and 5 %)", region, PriceXRayTraces, math.Min(calls, xrayReservoir*seconds+xrayRate*calls), "traces")
	if c.DNSEnabled() {
		b.add("Route53", "queries of the shared name (one a call: an upper bound, resolvers cache 30 s)", region, PriceRoute53Queries, calls, "queries")
	}
	if c.ReadCache.Enabled() {
		ecpu := calls * math.Ceil(callKB) // the stream writes every new call
		item := "read cache ECPUs: the stream's writes (reads depend on the consoles)"
		if name == CaseSpike {
			ecpu = capacity.ModelReadCache(stacks.ReadCacheInput(c)).ECPU * seconds
			item = "read cache ECPUs at the capacity model's spike (reads at the stage's limit)"
		}
		b.add("ElastiCache", item, region, PriceCacheECPU, ecpu, "ECPUs")
	}
	b.feed(s, rps, seconds)
}

// feed: the coalesced feed at the case's call rate (capacity.ModelFeedLoad):
// its SQS messages (sent, received and deleted in batches of 10), swarm and
// worker invocations and their duration, and the posts.
func (b *costBuilder) feed(s Stack, rps, seconds float64) {
	var in capacity.FeedLoadInput
	for _, l := range stacks.FeedLoads(s.Config) {
		in = l.Input
	}
	in.CallRate = rps
	f := capacity.ModelFeedLoad(in)
	region := s.Config.Region
	b.add("SQS", "feed partition messages (send, receive, delete)", region, PriceSQSRequests, f.Messages*1.2*seconds, "requests")
	b.add("Lambda", "feed swarm and worker invocations", region, PriceLambdaRequests, (f.Batches+f.Invocations)*seconds, "requests")
	b.add("Lambda", "feed workers' duration", region, PriceLambdaGBSeconds, f.Workers*seconds*float64(capacity.MemoryMB)/1024, "GB-seconds")
	b.add("API Gateway", "feed posts (WebSocket messages)", region, PriceWSMessages, f.Posts*seconds, "messages")
}

// replicated: the writes other serving regions' calls bring this region's
// replica (a replicated write and the local index entry each).
func (b *costBuilder) replicated(s Stack, planned []Stack, name string) {
	for _, other := range planned {
		if other.Config.Region == s.Config.Region {
			continue
		}
		rps, hours, _ := caseLoad(other.Config, name)
		calls := rps * hours * 3600
		b.add("DynamoDB", "replicated writes from "+other.Config.Region, s.Config.Region, PriceDynamoRWRU, calls*math.Ceil(callKB), "replicated write units")
		b.add("DynamoDB", "index entries of "+other.Config.Region+"'s calls", s.Config.Region, PriceDynamoWRU, calls*math.Ceil(callKB), "write request units")
	}
}
