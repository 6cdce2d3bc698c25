package stackconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// CloudWatch Logs accepts only these retention periods (days).
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Config is one stack's validated configuration.
type Config struct {
	// Region is the stack's AWS region (aws:region).
	Region string
	// Regions are all serving regions, in the order plans list them.
	Regions []string
	// ActiveRegion takes the traffic while it is healthy and allowed: the
	// first of FailoverOrder.
	ActiveRegion string
	// FailoverOrder is the shared hostname's failover chain: every caller
	// goes to the first region whose gate is healthy, in this order. A
	// serving region left out never takes the shared hostname's callers
	// (data residency) but still serves its regional name and reads the
	// control for the others.
	FailoverOrder []string
	// HomeRegion owns the DynamoDB global table; the others own replicas.
	HomeRegion string
	// NormalLoadRps is each serving region's callers at normal load.
	NormalLoadRps map[string]int
	// ExpectedLoadRps is this region's own normal load (NormalLoadRps[Region]).
	ExpectedLoadRps int
	// FailoverLoadRps is what the active region carries after a failover:
	// every region's callers, the sum of NormalLoadRps. The global table's
	// billing mode and capacity are decided from it, identically everywhere.
	FailoverLoadRps int
	// TableName is the physical name of the global table (same in every region).
	TableName string
	// ArchiveReplicaRegion receives the archive bucket's replicas.
	ArchiveReplicaRegion string
	// ArchiveEUResidency keeps an EU region's archive replicas inside the EU.
	ArchiveEUResidency bool

	// Lambda sizing (seed 000 defaults, overridable per region).
	LambdaReservedConcurrency int
	LambdaMemoryMB            int
	LambdaTimeoutSeconds      int
	// API Gateway stage and usage-plan throttling (seed 000 defaults).
	APIThrottleBurst   int
	APIThrottleRateRps int
	// ExpectedP99Ms is the handler's p99 duration the capacity check assumes.
	ExpectedP99Ms int
	// CapacityCheck is "enforce" (violations fail the stack) or "warn".
	CapacityCheck string
	// AlarmEmail, if set, receives the alarms.
	AlarmEmail string
	// CORSAllowOrigin is the Access-Control-Allow-Origin the API answers.
	CORSAllowOrigin string
	// LogRetentionDays for the function and access logs.
	LogRetentionDays int

	// APIHostname is the shared name callers use; empty turns DNS failover
	// off. HostedZoneID is its Route53 zone.
	APIHostname   string
	HostedZoneID  string
	DNSTTLSeconds int

	// The durable intake: IntakeMode (contract.IntakeModes), the redrive's
	// maxReceiveCount, the drain mapping's batch size and window, its
	// maximum concurrency (0: sized by the capacity check) and the spike
	// length the check models.
	IntakeMode               string
	IntakeMaxReceiveCount    int
	IntakeBatchSize          int
	IntakeBatchWindowSeconds int
	DrainMaxConcurrency      int
	SpikeMinutes             int

	// The dispatcher feed's sizing (seed 002).
	Feed FeedConfig
	// ReadCache: ReadCacheNone or ReadCacheValkey, and the cache's settings.
	ReadCache ReadCacheConfig
	// SpikeHourCostCeilingUSD: above it the capacity check (and plan and
	// cost) WARN about the stack's hour of the 10x spike (0: no ceiling).
	SpikeHourCostCeilingUSD int
	// StoredCallsPerDay: the calls the whole platform stores a day on
	// average, for the cost of what every region already holds (the table's
	// retention, the archive's days in STANDARD), not the design load.
	StoredCallsPerDay int
}

// Read cache choices (access911:readCache).
const (
	ReadCacheNone   = "none"
	ReadCacheValkey = "valkey"
)

// ReadCacheConfig is the read cache's configuration.
type ReadCacheConfig struct {
	Mode                        string
	TTLSeconds, QueryTTLSeconds int
	MaxECPUPerSecond, MaxDataGB int
}

// Enabled tells whether the stack has a read cache.
func (r ReadCacheConfig) Enabled() bool { return r.Mode == ReadCacheValkey }

// FeedConfig sizes the dispatcher feed.
type FeedConfig struct {
	Connections, Partitions, Queues, QueryBatchSize, QueryConcurrency, PostRateLimit, DeliveryTargetMs int
	// PartitionsPerArea: how many partitions an area's dispatchers spread over.
	PartitionsPerArea int
	// Areas the dispatchers cover, and Supervisors (summaries only).
	Areas, Supervisors int
}

// DNSEnabled tells whether the stack manages the shared hostname.
func (c Config) DNSEnabled() bool { return c.APIHostname != "" }

// FailoverPosition is this region's level in the failover chain, -1 when
// the order leaves it out.
func (c Config) FailoverPosition() int { return slices.Index(c.FailoverOrder, c.Region) }

// IsHome tells whether this stack owns the global table.
func (c Config) IsHome() bool { return c.Region == c.HomeRegion }

// OtherRegions are the serving regions other than the home region: where
// the home stack's global resources (table replicas, the client key's
// secret) have their replicas.
func (c Config) OtherRegions() []string {
	var out []string
	for _, r := range c.Regions {
		if r != c.HomeRegion {
			out = append(out, r)
		}
	}
	return out
}

// IsActive tells whether this stack's region takes the traffic.
func (c Config) IsActive() bool { return c.Region == c.ActiveRegion }

// ConfigError is one invalid configuration value. Its message names the key,
// the value and what is accepted.
type ConfigError struct {
	Key      string
	Value    string // as written; empty when missing
	Missing  bool
	Problem  string
	Accepted string
}

func (e *ConfigError) Error() string {
	if e.Missing {
		return fmt.Sprintf("config %s is missing (%s); accepted: %s", e.Key, e.Problem, e.Accepted)
	}
	return fmt.Sprintf("config %s = %q: %s; accepted: %s", e.Key, e.Value, e.Problem, e.Accepted)
}

// parser collects every problem of one configuration.
type parser struct {
	values map[string]string
	pairs  map[string]string // ParseOptions.ArchivePairs
	extra  []string          // ParseOptions.Regions
	errs   []error
}

func (p *parser) bad(e *ConfigError) { p.errs = append(p.errs, e) }

func (p *parser) knownRegion(r string) bool { return isKnownRegion(r) || slices.Contains(p.extra, r) }

// Parse validates raw configuration values (as the engine passes them:
// strings, with arrays and objects as JSON), applying Defaults to keys
// without a value. Every problem is reported, not only the first. access911
// keys the program does not know are refused so that a misspelt key does not
// silently fall back to a default.
func Parse(raw map[string]string) (Config, error) { return ParseWith(raw, ParseOptions{}) }

// ParseOptions extend what Parse knows of regions.
type ParseOptions struct {
	// ArchivePairs add to, or replace, the default archive destination of a
	// serving region (defaultArchiveReplicaRegion), e.g. us-east-2 -> us-west-1
	// for an app serving from Ohio.
	ArchivePairs map[string]string
	// Regions are accepted as well as the commercial regions this release
	// knows (a region launched since).
	Regions []string
	// Defaults replace Defaults for the keys they name (another app's
	// table name), as access911's keys; a value set in config still wins.
	Defaults map[string]string
}

// ParseWith is Parse with options.
func ParseWith(raw map[string]string, o ParseOptions) (Config, error) {
	p := &parser{values: map[string]string{}, pairs: o.ArchivePairs, extra: o.Regions}
	for k, v := range Defaults {
		p.values[k] = v
	}
	for k, v := range o.Defaults {
		p.values[k] = v
	}
	for k, v := range raw {
		p.values[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if strings.HasPrefix(k, Namespace+":") && !slices.Contains(knownKeys, k) {
			p.bad(&ConfigError{Key: k, Value: raw[k], Problem: "unknown key", Accepted: strings.Join(knownKeys, ", ")})
		}
	}
	var c Config
	p.regions(&c)
	p.loads(&c)
	p.table(&c)
	p.archive(&c)
	p.compute(&c)
	p.dns(&c)
	p.intake(&c)
	p.feed(&c)
	p.readCache(&c)
	c.SpikeHourCostCeilingUSD = p.int(KeySpikeHourCostCeilingUSD, 0, 100_000_000, "US dollars (0: no ceiling)")
	c.StoredCallsPerDay = p.int(KeyStoredCallsPerDay, 0, 100_000_000, "calls a day")
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return c, nil
}

const regionList = "a known AWS commercial region, e.g. us-east-1, us-west-2, eu-west-1"

// regions reads aws:region, regions, activeRegion and homeRegion.
func (p *parser) regions(c *Config) {
	if v := p.values[KeyAWSRegion]; v == "" {
		p.bad(&ConfigError{Key: KeyAWSRegion, Missing: true, Problem: "every stack names its region", Accepted: regionList})
	} else if !p.knownRegion(v) {
		p.bad(&ConfigError{Key: KeyAWSRegion, Value: v, Problem: "unknown region", Accepted: regionList})
	} else {
		c.Region = v
	}
	v, ok := p.values[KeyRegions]
	if err := json.Unmarshal([]byte(v), &c.Regions); !ok || err != nil {
		p.bad(&ConfigError{Key: KeyRegions, Value: v, Missing: !ok, Problem: "not a list of region names",
			Accepted: "a YAML list such as [us-east-1, us-west-2, eu-west-1], set once in Pulumi.yaml"})
	} else if len(c.Regions) == 0 {
		p.bad(&ConfigError{Key: KeyRegions, Value: v, Problem: "empty", Accepted: "one or more known regions"})
	}
	seen := map[string]bool{}
	for _, r := range c.Regions {
		if !p.knownRegion(r) {
			p.bad(&ConfigError{Key: KeyRegions, Value: v, Problem: fmt.Sprintf("unknown region %q", r), Accepted: regionList})
		}
		if seen[r] {
			p.bad(&ConfigError{Key: KeyRegions, Value: v, Problem: fmt.Sprintf("region %q listed twice", r), Accepted: "each region once"})
		}
		seen[r] = true
	}
	inRegions := "one of " + strings.Join(c.Regions, ", ") + " (" + KeyRegions + ")"
	if c.Region != "" && !slices.Contains(c.Regions, c.Region) {
		p.bad(&ConfigError{Key: KeyAWSRegion, Value: c.Region, Problem: "the stack's region is not a serving region", Accepted: inRegions})
	}
	c.ActiveRegion = p.oneOf(KeyActiveRegion, c.Regions, "not a serving region", inRegions)
	c.HomeRegion = p.oneOf(KeyHomeRegion, c.Regions, "not a serving region", inRegions)
	c.FailoverOrder = p.failoverOrder(c)
}

// loads reads every region's normal load and derives this region's own load
// and the failover load (their sum).
func (p *parser) loads(c *Config) {
	v, ok := p.values[KeyNormalLoadRps]
	accepted := "a map of every serving region to its callers' normal load in requests per second, " +
		"e.g. {us-east-1: 100, us-west-2: 60, eu-west-1: 30}, set once in Pulumi.yaml"
	if err := json.Unmarshal([]byte(v), &c.NormalLoadRps); !ok || err != nil {
		p.bad(&ConfigError{Key: KeyNormalLoadRps, Value: v, Missing: !ok, Problem: "not a map of whole numbers", Accepted: accepted})
		return
	}
	for _, r := range slices.Sorted(maps.Keys(c.NormalLoadRps)) {
		if !slices.Contains(c.Regions, r) {
			p.bad(&ConfigError{Key: KeyNormalLoadRps, Value: v, Problem: fmt.Sprintf("%s is not a serving region (%s)", r, KeyRegions), Accepted: accepted})
		}
		if n := c.NormalLoadRps[r]; n <= 0 {
			p.bad(&ConfigError{Key: KeyNormalLoadRps, Value: v, Problem: fmt.Sprintf("%s: %d rps must be positive", r, n), Accepted: accepted})
		}
		c.FailoverLoadRps += c.NormalLoadRps[r]
	}
	for _, r := range c.Regions {
		if _, ok := c.NormalLoadRps[r]; !ok {
			p.bad(&ConfigError{Key: KeyNormalLoadRps, Value: v, Problem: "no load for serving region " + r, Accepted: accepted})
		}
	}
	c.ExpectedLoadRps = c.NormalLoadRps[c.Region]
}

var tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func (p *parser) table(c *Config) {
	c.TableName = p.values[KeyTableName]
	if !tableNamePattern.MatchString(c.TableName) {
		p.bad(&ConfigError{Key: KeyTableName, Value: c.TableName, Problem: "not a valid DynamoDB table name", Accepted: "3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'"})
	}
}

// archive reads where the archive replicates and whether EU data stays in the EU.
func (p *parser) archive(c *Config) {
	v := p.values[KeyArchiveEUResidency]
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.bad(&ConfigError{Key: KeyArchiveEUResidency, Value: v, Problem: "not a boolean", Accepted: "true or false"})
	}
	c.ArchiveEUResidency = b
	if v := p.values[KeyArchiveReplicaRegion]; v != "" {
		c.ArchiveReplicaRegion = v
		if !p.knownRegion(v) {
			p.bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: v, Problem: "unknown region", Accepted: regionList})
		}
	} else if c.Region != "" {
		c.ArchiveReplicaRegion = defaultArchiveReplicaRegion[c.Region]
		if r, ok := p.pairs[c.Region]; ok {
			c.ArchiveReplicaRegion = r
		}
		if c.ArchiveReplicaRegion == "" {
			p.bad(&ConfigError{Key: KeyArchiveReplicaRegion, Missing: true,
				Problem:  fmt.Sprintf("no default destination for %s", c.Region),
				Accepted: "a known region other than the stack's own"})
		}
	}
	r := c.ArchiveReplicaRegion
	switch {
	case r == "" || c.Region == "":
	case r == c.Region:
		p.bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: r, Problem: "replicating into the same region gives no regional protection", Accepted: "a known region other than " + c.Region})
	case slices.Contains(c.Regions, r):
		p.bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: r,
			Problem:  "a serving region: the stack would own resources there, and could not be deployed or changed while that region is down",
			Accepted: "a known region outside " + KeyRegions + " (e.g. us-east-2, eu-central-1)"})
	case c.ArchiveEUResidency && isEURegion(c.Region) && !isEURegion(r):
		p.bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: r,
			Problem:  fmt.Sprintf("call payloads from %s must stay in the EU while %s is true", c.Region, KeyArchiveEUResidency),
			Accepted: "one of " + strings.Join(euRegions, ", ") + " (or set " + KeyArchiveEUResidency + ": false)"})
	}
}

var (
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneIDPattern   = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	originPattern   = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
)

// compute reads the Lambda, API throttling, capacity-check and alarm keys.
func (p *parser) compute(c *Config) {
	c.LambdaReservedConcurrency = p.int(KeyLambdaReservedConcurrency, 1, 10000, "executions")
	c.LambdaMemoryMB = p.int(KeyLambdaMemoryMB, capacity.MinLambdaMemoryMB, 10240, "MB")
	c.LambdaTimeoutSeconds = p.int(KeyLambdaTimeoutSeconds, 1, 900, "seconds")
	c.APIThrottleBurst = p.int(KeyAPIThrottleBurst, 1, 1_000_000, "requests")
	c.APIThrottleRateRps = p.int(KeyAPIThrottleRateRps, 1, 1_000_000, "requests per second")
	c.ExpectedP99Ms = p.int(KeyExpectedP99Ms, 1, 900_000, "milliseconds")
	c.LogRetentionDays = p.int(KeyLogRetentionDays, 1, 3653, "days")
	if c.LogRetentionDays > 0 && !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		p.bad(&ConfigError{Key: KeyLogRetentionDays, Value: strconv.Itoa(c.LogRetentionDays), Problem: "not a CloudWatch Logs retention period",
			Accepted: strings.Trim(strings.Join(strings.Fields(fmt.Sprint(logRetentionDays)), ", "), "[]")})
	}
	c.CapacityCheck = p.oneOf(KeyCapacityCheck, []string{capacity.ModeEnforce, capacity.ModeWarn}, "unknown mode", capacity.ModeEnforce+" or "+capacity.ModeWarn)
	c.AlarmEmail = p.matching(KeyAlarmEmail, emailPattern, "not an e-mail address", "name@example.org, or empty for no subscription")
	c.CORSAllowOrigin = p.values[KeyCORSAllowOrigin]
	if c.CORSAllowOrigin != "*" {
		c.CORSAllowOrigin = p.matching(KeyCORSAllowOrigin, originPattern, "not an origin", `"*" or https://host[:port]`)
	}
}

// intake reads the durable intake's keys.
func (p *parser) intake(c *Config) {
	c.IntakeMode = p.oneOf(KeyIntakeMode, contract.IntakeModes, "unknown intake mode", strings.Join(contract.IntakeModes, " or "))
	// Lambda consumes the queue: AWS advises at least 5 receives (capacity.LambdaQueueMinReceiveCount).
	c.IntakeMaxReceiveCount = p.int(KeyIntakeMaxReceiveCount, capacity.LambdaQueueMinReceiveCount, 1000, "receives")
	c.IntakeBatchSize = p.int(KeyIntakeBatchSize, 1, 10000, "messages")
	c.IntakeBatchWindowSeconds = p.int(KeyIntakeBatchWindowSeconds, 0, 300, "seconds")
	if c.IntakeBatchSize > 10 && c.IntakeBatchWindowSeconds < 1 {
		p.bad(&ConfigError{Key: KeyIntakeBatchWindowSeconds, Value: p.values[KeyIntakeBatchWindowSeconds],
			Problem: "a batch above 10 messages needs a batching window", Accepted: "1-300 seconds, or " + KeyIntakeBatchSize + " of 10 or fewer"})
	}
	if v := p.values[KeyDrainMaxConcurrency]; v != "0" {
		c.DrainMaxConcurrency = p.int(KeyDrainMaxConcurrency, capacity.MappingMinConcurrency, capacity.MappingMaxConcurrency,
			"concurrent invocations (or 0: sized by the capacity check)")
	}
	c.SpikeMinutes = p.int(KeySpikeMinutes, 1, 10080, "minutes")
}

// feed reads the dispatcher feed's keys.
func (p *parser) feed(c *Config) {
	c.Feed = FeedConfig{
		Connections:       p.int(KeyFeedConnections, 1, 100_000_000, "connections"),
		Partitions:        p.int(KeyFeedPartitions, 1, 1_000_000, "partitions"),
		PartitionsPerArea: p.int(KeyFeedPartitionsPerArea, 1, 100, "partitions an area spreads over"),
		Areas:             p.int(KeyFeedAreas, 1, 1_000_000, "areas the dispatchers cover"),
		Supervisors:       p.int(KeyFeedSupervisors, 0, 100_000, "supervisor consoles"),
		// At most 10: the DLQ's redrive allow policy names every queue, and
		// the queue-age alarm reads one metric per queue (capacity's AWS limits).
		Queues:           p.int(KeyFeedQueues, 1, min(capacity.RedriveAllowMaxSourceQueues, capacity.AlarmMaxMetrics), "queues"),
		QueryBatchSize:   p.int(KeyFeedQueryBatchSize, 1, 10, "messages (an SQS batch)"),
		QueryConcurrency: p.int(KeyFeedQueryConcurrency, 2, 10_000, "invocations"),
		PostRateLimit:    p.int(KeyFeedPostRateLimit, 1, 10_000_000, "posts per second"),
		DeliveryTargetMs: p.int(KeyFeedDeliveryTargetMs, 100, 600_000, "milliseconds"),
	}
	f := c.Feed
	if f.Queues > 0 && f.Partitions > 0 && f.Queues > f.Partitions {
		p.bad(&ConfigError{Key: KeyFeedQueues, Value: p.values[KeyFeedQueues], Problem: "more fan-out queues than partitions",
			Accepted: fmt.Sprintf("at most %s (%d)", KeyFeedPartitions, f.Partitions)})
	}
	if f.Queues > 0 && f.QueryConcurrency > 0 && f.QueryConcurrency < 2*f.Queues {
		p.bad(&ConfigError{Key: KeyFeedQueryConcurrency, Value: p.values[KeyFeedQueryConcurrency],
			Problem:  "below 2 per fan-out queue (an SQS mapping's smallest maximum concurrency)",
			Accepted: fmt.Sprintf("at least %d (2 x %s %d)", 2*f.Queues, KeyFeedQueues, f.Queues)})
	}
	if f.Queues > 0 && capacity.FeedMappingConcurrency(f.QueryConcurrency, f.Queues) > capacity.MappingMaxConcurrency {
		p.bad(&ConfigError{Key: KeyFeedQueryConcurrency, Value: p.values[KeyFeedQueryConcurrency],
			Problem: fmt.Sprintf("above %d per fan-out queue (an SQS mapping's largest maximum concurrency)", capacity.MappingMaxConcurrency),
			Accepted: fmt.Sprintf("at most %d (%d x %s %d)", capacity.MappingMaxConcurrency*f.Queues, capacity.MappingMaxConcurrency,
				KeyFeedQueues, f.Queues)})
	}
}

// readCache reads the read cache's keys; the limits are ElastiCache
// Serverless's (capacity).
func (p *parser) readCache(c *Config) {
	c.ReadCache = ReadCacheConfig{
		Mode:             p.oneOf(KeyReadCache, []string{ReadCacheNone, ReadCacheValkey}, "unknown read cache", ReadCacheNone+" or "+ReadCacheValkey),
		TTLSeconds:       p.int(KeyReadCacheTTLSeconds, 1, 86_400, "seconds"),
		QueryTTLSeconds:  p.int(KeyReadCacheQueryTTLSeconds, 1, 300, "seconds"),
		MaxECPUPerSecond: p.int(KeyReadCacheMaxECPUPerSec, capacity.ServerlessCacheMinECPU, capacity.ServerlessCacheMaxECPU, "ECPUs per second"),
		MaxDataGB:        p.int(KeyReadCacheMaxDataGB, 1, capacity.ServerlessCacheMaxDataGB, "GB"),
	}
}

// int reads a whole number within inclusive bounds.
func (p *parser) int(key string, lo, hi int, unit string) int {
	v := p.values[key]
	accepted := fmt.Sprintf("a whole number of %s from %d to %d", unit, lo, hi)
	if d, ok := Defaults[key]; ok {
		accepted += " (default " + d + ")"
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.bad(&ConfigError{Key: key, Value: v, Missing: v == "", Problem: "not a whole number", Accepted: accepted})
		return 0
	}
	if n < lo || n > hi {
		p.bad(&ConfigError{Key: key, Value: v, Problem: "out of range", Accepted: accepted})
		return 0
	}
	return n
}

// oneOf reads a value that must be one of allowed.
func (p *parser) oneOf(key string, allowed []string, problem, accepted string) string {
	v, ok := p.values[key]
	if !slices.Contains(allowed, v) {
		p.bad(&ConfigError{Key: key, Value: v, Missing: !ok, Problem: problem, Accepted: accepted})
	}
	return v
}

// matching reads an optional value that, when set, must match pattern.
func (p *parser) matching(key string, pattern *regexp.Regexp, problem, accepted string) string {
	v := p.values[key]
	if v != "" && !pattern.MatchString(v) {
		p.bad(&ConfigError{Key: key, Value: v, Problem: problem, Accepted: accepted})
	}
	return v
}
