package cost

import (
	"fmt"
	"github.com/access911/access911-infra/internal/plan"
	"maps"
	"slices"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
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

const hoursPerMonth = capacity.HoursPerMonth

// Fixed-cost assumptions (the per-call ones are capacity's, cost.go).
const (
	// kmsRotationsBilled: every key has automatic yearly rotation on, and
	// KMS bills $1 a month for each of a key's first two rotations kept, so
	// a key costs $1 in its first year, $2 in its second, $3 from its third;
	// the cost is the steady state (a year-one deployment pays $2 less a key).
	kmsRotationsBilled = 2
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

// CostLine is one priced quantity (capacity's).
type CostLine = capacity.CostLine

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
	// Free are the plan's resources that cost nothing themselves, by type.
	Free []FreeType
	// Ceiling is access911:spikeHourCostCeilingUsd (0: none).
	Ceiling int
	// Regions is how many regions serve (access911:regions).
	Regions int `json:"-"`
}

// costBuilder adds one stack's lines for one case.
type costBuilder struct{ capacity.CostBuilder }

func (b *costBuilder) add(service, item, region, priceItem string, quantity float64, unit string) {
	b.Add(service, item, region, priceItem, quantity, unit)
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
func Cost(planned []plan.Stack, prices capacity.PriceTable) ([]StackCost, error) {
	var out []StackCost
	for _, s := range planned {
		sc := StackCost{Stack: s.Config.Region, Unpriced: unpriced(s), Free: free(s), Ceiling: s.Config.SpikeHourCostCeilingUSD, Regions: len(s.Config.Regions)}
		for _, name := range Cases {
			b := &costBuilder{capacity.CostBuilder{Prices: prices}}
			b.fixed(s, name)
			b.requests(s, name)
			b.replicated(s, planned, name)
			if b.Err != nil {
				return nil, fmt.Errorf("stack %s, %s: %w", s.Config.Region, name, b.Err)
			}
			sc.Cases = append(sc.Cases, CostCase{Name: name, Lines: b.Lines})
		}
		out = append(out, sc)
	}
	return out, nil
}

// FreeType is one resource type of a plan that costs nothing itself, how
// many of it the plan holds, and why it is free (ResourcePricing).
type FreeType struct {
	Type   string `json:"type"`
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}

// free are the plan's AWS resources whose type ResourcePricing says is free.
func free(s plan.Stack) []FreeType {
	counts := map[string]int{}
	for _, r := range s.Result.Resources {
		if why := ResourcePricing[r.Type]; r.Custom && !strings.HasPrefix(r.Type, "pulumi:") && strings.HasPrefix(why, "free") {
			counts[r.Type]++
		}
	}
	var out []FreeType
	for _, t := range sortedKeys(counts) {
		out = append(out, FreeType{Type: t, Count: counts[t], Reason: strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(ResourcePricing[t], "free itself:"), "free:"))})
	}
	return out
}

// FreeCount is how many of the plan's resources are free, and of how many types.
func (sc StackCost) FreeCount() (resources, types int) {
	for _, f := range sc.Free {
		resources += f.Count
	}
	return resources, len(sc.Free)
}

// unpriced are the plan's resource types ResourcePricing does not know.
func unpriced(s plan.Stack) []string {
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
func (b *costBuilder) fixed(s plan.Stack, name string) {
	_, hours, _ := caseLoad(s.Config, name)
	months := hours / hoursPerMonth
	keys, secrets, alarmMetrics, dashboards, mappings := map[string]float64{}, map[string]float64{}, 0.0, 0.0, 0.0
	var healthChecks []plan.Resource
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
			for _, rep := range r.List("replicas") {
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
			if strings.Contains(r.Str("eventSourceArn"), ":sqs:") {
				mappings++
			}
		}
	}
	for _, region := range sortedKeys(keys) {
		b.add("KMS", "customer managed keys", region, capacity.PriceKMSKey, keys[region]*months, "key-months")
		b.add("KMS", "key rotations kept (2 a key from its third year)", region, capacity.PriceKMSRotation,
			keys[region]*kmsRotationsBilled*months, "rotation-months")
		b.add("KMS", "requests (data keys reused)", region, capacity.PriceKMSRequests, keys[region]*kmsRequestsPerKeyHour*hours, "requests")
	}
	for _, region := range sortedKeys(secrets) {
		b.add("Secrets Manager", "secrets and replicas", region, capacity.PriceSecret, secrets[region]*months, "secret-months")
	}
	b.add("CloudWatch", "alarm metrics", home, capacity.PriceAlarmMetric, alarmMetrics*months, "metric-months")
	b.add("CloudWatch", "dashboards", home, capacity.PriceDashboard, dashboards*months, "dashboard-months")
	if rps, _, _ := caseLoad(s.Config, name); rps > 0 { // a metric with no data points is not billed
		b.add("CloudWatch", "custom metrics (EMF)", home, capacity.PriceCustomMetric, customMetrics*months, "metric-months")
	}
	b.add("SQS", "event source mappings' idle long polls", home, capacity.PriceSQSRequests, mappings*sqsPollsPerMappingHour*hours, "requests")
	b.healthChecks(healthChecks, home, months)
	b.held(s, hours)
	// ElastiCache Serverless bills at least 100 MB of data for Valkey.
	b.add("ElastiCache", "read cache data (the 100 MB minimum)", home, capacity.PriceCacheDataGBHours, caches*0.1*hours, "GB-hours")
}

// healthChecks prices each check by kind (Route 53 pricing): a check of an
// endpoint (HTTPS, string matching, ...) at the non-AWS-endpoint price, the
// higher one (an API Gateway domain is not on Route 53's list of AWS
// endpoints in the account), each of its options (HTTPS, string matching,
// the 10 s interval, latency measurement) besides; a CALCULATED check, which
// probes nothing, at the basic price.
func (b *costBuilder) healthChecks(checks []plan.Resource, region string, months float64) {
	for _, r := range checks {
		kind := r.Str("type")
		if kind == "CALCULATED" || kind == "RECOVERY_CONTROL" || kind == "CLOUDWATCH_METRIC" {
			b.add("Route53", "health check: "+strings.ToLower(kind), region, capacity.PriceRoute53HealthChk, months, "check-months")
			continue
		}
		b.add("Route53", "health check of an endpoint", region, capacity.PriceRoute53NonAWS, months, "check-months")
		options := 0.0
		if strings.HasPrefix(kind, "HTTPS") {
			options++
		}
		if strings.HasSuffix(kind, "_STR_MATCH") {
			options++
		}
		if plan.ToInt(r.Inputs["requestInterval"]) == 10 {
			options++
		}
		if latency, _ := r.Inputs["measureLatency"].(bool); latency {
			options++
		}
		b.add("Route53", "health check options (HTTPS, string matching, 10 s, latency)", region, capacity.PriceRoute53OptionNonAWS, options*months, "option-months")
	}
}

// alarmMetricNames are the metrics an alarm reads (one, or a query's).
func alarmMetricNames(r plan.Resource) []string {
	var out []string
	for _, q := range r.List("metricQueries") {
		if m, ok := q.(map[string]any); ok && m["metric"] != nil {
			out = append(out, fmt.Sprint(m["id"]))
		}
	}
	return out
}

// requests: what the stack's own calls cost in the case (capacity's
// per-call model), and the dispatchers' connection minutes where they are.
func (b *costBuilder) requests(s plan.Stack, name string) {
	c := s.Config
	rps, hours, active := caseLoad(c, name)
	if active && name != CaseIdle {
		b.add("API Gateway", "WebSocket connection minutes (every dispatcher)", c.Region, capacity.PriceWSConnMinutes,
			float64(c.Feed.Connections)*hours*60, "connection-minutes")
	}
	b.Calls(stacks.CallLoad(c, rps, hours, name == CaseSpike))
}

// held prices what the region holds in every case: its replica of every
// region's calls (access911:storedCallsPerDay for the table's retention) and
// its own calls' archive while in S3 STANDARD (the archive's lifecycle).
func (b *costBuilder) held(s plan.Stack, hours float64) {
	c := s.Config
	share := 0.0
	if c.FailoverLoadRps > 0 {
		share = float64(c.ExpectedLoadRps) / float64(c.FailoverLoadRps)
	}
	b.Held(c.Region, c.ArchiveReplicaRegion, float64(c.StoredCallsPerDay), share, contract.CallRetentionDays, standardDays(s), hours)
}

// standardDays is how long the archive keeps an object in S3 STANDARD: its
// lifecycle's earliest transition, in the stack's region.
func standardDays(s plan.Stack) int {
	days := 0
	for _, r := range s.Result.Resources {
		if r.Type != "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2" || (r.Region != "" && r.Region != s.Config.Region) {
			continue
		}
		for _, rule := range r.List("rules") {
			m, _ := rule.(map[string]any)
			transitions, _ := m["transitions"].([]any)
			for _, t := range transitions {
				if tm, ok := t.(map[string]any); ok {
					if d := plan.ToInt(tm["days"]); d > 0 && (days == 0 || d < days) {
						days = d
					}
				}
			}
		}
	}
	return days
}

// replicated: the writes other serving regions' calls bring this region's
// replica.
func (b *costBuilder) replicated(s plan.Stack, planned []plan.Stack, name string) {
	for _, other := range planned {
		if other.Config.Region == s.Config.Region {
			continue
		}
		rps, hours, _ := caseLoad(other.Config, name)
		b.Replicated(s.Config.Region, other.Config.Region, rps*hours*3600)
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
