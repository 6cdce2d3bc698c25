// Package stacks reads and validates a stack's configuration and composes the
// components for that stack's region. It is the whole Pulumi program: main.go
// only calls Deploy.
package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
)

// Namespace is the project's configuration namespace (the project name).
const Namespace = "access911"

// Configuration keys. Pulumi.yaml declares each access911 key with its type,
// default and description; TestProjectDefaultsMatchCode keeps the two in step.
const (
	KeyAWSRegion            = "aws:region"
	KeyRegions              = Namespace + ":regions"
	KeyActiveRegion         = Namespace + ":activeRegion"
	KeyHomeRegion           = Namespace + ":homeRegion"
	KeyExpectedLoadRps      = Namespace + ":expectedLoadRps"
	KeyFailoverLoadRps      = Namespace + ":failoverLoadRps"
	KeyTableName            = Namespace + ":tableName"
	KeyArchiveReplicaRegion = Namespace + ":archiveReplicaRegion"
	KeyArchiveEUResidency   = Namespace + ":archiveEuResidency"

	KeyLambdaReservedConcurrency = Namespace + ":lambdaReservedConcurrency"
	KeyLambdaMemoryMB            = Namespace + ":lambdaMemoryMb"
	KeyLambdaTimeoutSeconds      = Namespace + ":lambdaTimeoutSeconds"
	KeyAPIThrottleBurst          = Namespace + ":apiThrottleBurst"
	KeyAPIThrottleRateRps        = Namespace + ":apiThrottleRateRps"
	KeyExpectedP99Ms             = Namespace + ":expectedP99Ms"
	KeyCapacityCheck             = Namespace + ":capacityCheck"
	KeyAlarmEmail                = Namespace + ":alarmEmail"
	KeyCORSAllowOrigin           = Namespace + ":corsAllowOrigin"
	KeyLogRetentionDays          = Namespace + ":logRetentionDays"

	KeyAPIHostname   = Namespace + ":apiHostname"
	KeyHostedZoneID  = Namespace + ":hostedZoneId"
	KeyRouting       = Namespace + ":routing"
	KeyTrafficWeight = Namespace + ":trafficWeight"
	KeyDNSTTLSeconds = Namespace + ":dnsTtlSeconds"
)

// Routing modes of the shared hostname.
const (
	RoutingFailover = "failover"
	RoutingWeighted = "weighted"
)

// Defaults for keys that have one. Keys without a default are required.
var (
	// DefaultRegions: seed 000, REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'].
	DefaultRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}
)

const (
	DefaultActiveRegion       = "us-east-1"
	DefaultHomeRegion         = "us-east-1"
	DefaultTableName          = "access911-calls"
	DefaultArchiveEUResidency = true
)

// knownKeys lists every access911 key the program reads.
var knownKeys = []string{
	KeyRegions, KeyActiveRegion, KeyHomeRegion, KeyExpectedLoadRps, KeyFailoverLoadRps,
	KeyTableName, KeyArchiveReplicaRegion, KeyArchiveEUResidency,
	KeyLambdaReservedConcurrency, KeyLambdaMemoryMB, KeyLambdaTimeoutSeconds,
	KeyAPIThrottleBurst, KeyAPIThrottleRateRps, KeyExpectedP99Ms, KeyCapacityCheck,
	KeyAlarmEmail, KeyCORSAllowOrigin, KeyLogRetentionDays,
	KeyAPIHostname, KeyHostedZoneID, KeyRouting, KeyTrafficWeight, KeyDNSTTLSeconds,
}

// CloudWatch Logs accepts only these retention periods (days).
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Keys lists every access911 configuration key the program reads.
func Keys() []string { return slices.Clone(knownKeys) }

// Config is one stack's validated configuration.
type Config struct {
	// Region is the stack's AWS region (aws:region).
	Region string
	// Regions are all serving regions; every stack file lists the same ones.
	Regions []string
	// ActiveRegion takes the traffic (Route53 PRIMARY); the same in every stack.
	ActiveRegion string
	// HomeRegion owns the DynamoDB global table; the others own replicas.
	HomeRegion string
	// ExpectedLoadRps is the normal call load of this region's callers.
	ExpectedLoadRps int
	// FailoverLoadRps is the load the active region carries after a failover
	// (every region's callers). The global table's billing mode and capacity
	// are decided from it, once, identically in every stack.
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
	APIHostname  string
	HostedZoneID string
	// Routing is "failover" (active 100, standbys 0) or "weighted"
	// (TrafficWeight from each stack file, for a gradual failback).
	Routing       string
	TrafficWeight int
	DNSTTLSeconds int
}

// DNSEnabled tells whether the stack manages the shared hostname.
func (c Config) DNSEnabled() bool { return c.APIHostname != "" }

// RecordWeight is this region's weight for the shared hostname.
func (c Config) RecordWeight() int {
	if c.Routing == RoutingWeighted {
		return c.TrafficWeight
	}
	if c.IsActive() {
		return components.ActiveWeight
	}
	return 0
}

// IsHome tells whether this stack owns the global table.
func (c Config) IsHome() bool { return c.Region == c.HomeRegion }

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

var tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// LoadConfig reads the stack's configuration from the Pulumi engine and
// validates it. It registers nothing, so bad config fails before any resource.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	values := map[string]string{}
	for _, k := range append([]string{KeyAWSRegion}, knownKeys...) {
		if v, ok := ctx.GetConfig(k); ok {
			values[k] = v
		}
	}
	return ParseConfig(values)
}

// ParseConfig validates raw configuration values (as the engine passes them:
// strings, with arrays as JSON) and applies defaults. Every problem is
// reported, not only the first. access911 keys the program does not know are
// rejected so that a misspelt key does not silently fall back to a default.
func ParseConfig(values map[string]string) (Config, error) {
	var errs []error
	bad := func(e *ConfigError) { errs = append(errs, e) }
	regionList := "a known AWS commercial region, e.g. " + strings.Join(DefaultRegions, ", ")

	for _, k := range sortedKeys(values) {
		if strings.HasPrefix(k, Namespace+":") && !slices.Contains(knownKeys, k) {
			bad(&ConfigError{Key: k, Value: values[k], Problem: "unknown key", Accepted: strings.Join(knownKeys, ", ")})
		}
	}

	c := Config{
		Regions:            DefaultRegions,
		ActiveRegion:       DefaultActiveRegion,
		HomeRegion:         DefaultHomeRegion,
		TableName:          DefaultTableName,
		ArchiveEUResidency: DefaultArchiveEUResidency,
		CapacityCheck:      capacity.ModeEnforce,
		CORSAllowOrigin:    components.DefaultAllowOrigin,
		Routing:            RoutingFailover,
	}

	// aws:region
	if v, ok := values[KeyAWSRegion]; !ok || v == "" {
		bad(&ConfigError{Key: KeyAWSRegion, Missing: true, Problem: "every stack names its region", Accepted: regionList})
	} else if !isKnownRegion(v) {
		bad(&ConfigError{Key: KeyAWSRegion, Value: v, Problem: "unknown region", Accepted: regionList})
	} else {
		c.Region = v
	}

	// access911:regions
	if v, ok := values[KeyRegions]; ok {
		var rs []string
		if err := json.Unmarshal([]byte(v), &rs); err != nil {
			bad(&ConfigError{Key: KeyRegions, Value: v, Problem: "not a list of region names", Accepted: "a YAML list such as [" + strings.Join(DefaultRegions, ", ") + "]"})
		} else {
			c.Regions = rs
			if len(rs) == 0 {
				bad(&ConfigError{Key: KeyRegions, Value: v, Problem: "empty", Accepted: "one or more known regions"})
			}
			seen := map[string]bool{}
			for _, r := range rs {
				if !isKnownRegion(r) {
					bad(&ConfigError{Key: KeyRegions, Value: v, Problem: fmt.Sprintf("unknown region %q", r), Accepted: regionList})
				}
				if seen[r] {
					bad(&ConfigError{Key: KeyRegions, Value: v, Problem: fmt.Sprintf("region %q listed twice", r), Accepted: "each region once"})
				}
				seen[r] = true
			}
		}
	}
	inRegions := "one of " + strings.Join(c.Regions, ", ") + " (" + KeyRegions + ")"
	if c.Region != "" && !slices.Contains(c.Regions, c.Region) {
		bad(&ConfigError{Key: KeyAWSRegion, Value: c.Region, Problem: "the stack's region is not a serving region", Accepted: inRegions})
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{KeyActiveRegion, &c.ActiveRegion}, {KeyHomeRegion, &c.HomeRegion}} {
		if v, ok := values[k.key]; ok {
			*k.dst = v
		}
		if !slices.Contains(c.Regions, *k.dst) {
			bad(&ConfigError{Key: k.key, Value: *k.dst, Problem: "not a serving region", Accepted: inRegions})
		}
	}

	// loads
	c.ExpectedLoadRps = parsePositiveInt(values, KeyExpectedLoadRps, "this region's normal call load", bad)
	c.FailoverLoadRps = parsePositiveInt(values, KeyFailoverLoadRps, "the load the active region carries after a failover", bad)
	if c.ExpectedLoadRps > 0 && c.FailoverLoadRps > 0 && c.FailoverLoadRps < c.ExpectedLoadRps {
		bad(&ConfigError{Key: KeyFailoverLoadRps, Value: strconv.Itoa(c.FailoverLoadRps),
			Problem:  fmt.Sprintf("less than this region's own expected load (%d rps)", c.ExpectedLoadRps),
			Accepted: fmt.Sprintf("an integer >= %s (%d)", KeyExpectedLoadRps, c.ExpectedLoadRps)})
	}

	// table
	if v, ok := values[KeyTableName]; ok {
		c.TableName = v
	}
	if !tableNamePattern.MatchString(c.TableName) {
		bad(&ConfigError{Key: KeyTableName, Value: c.TableName, Problem: "not a valid DynamoDB table name", Accepted: "3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'"})
	}

	// archive
	if v, ok := values[KeyArchiveEUResidency]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(&ConfigError{Key: KeyArchiveEUResidency, Value: v, Problem: "not a boolean", Accepted: "true or false"})
		}
		c.ArchiveEUResidency = b
	}
	if v, ok := values[KeyArchiveReplicaRegion]; ok && v != "" {
		c.ArchiveReplicaRegion = v
		if !isKnownRegion(v) {
			bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: v, Problem: "unknown region", Accepted: regionList})
		}
	} else if c.Region != "" {
		c.ArchiveReplicaRegion = defaultArchiveReplicaRegion[c.Region]
		if c.ArchiveReplicaRegion == "" {
			bad(&ConfigError{Key: KeyArchiveReplicaRegion, Missing: true,
				Problem:  fmt.Sprintf("no default destination for %s", c.Region),
				Accepted: "a known region other than the stack's own"})
		}
	}
	if r := c.ArchiveReplicaRegion; r != "" && c.Region != "" {
		if r == c.Region {
			bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: r, Problem: "replicating into the same region gives no regional protection", Accepted: "a known region other than " + c.Region})
		} else if c.ArchiveEUResidency && isEURegion(c.Region) && !isEURegion(r) {
			bad(&ConfigError{Key: KeyArchiveReplicaRegion, Value: r,
				Problem:  fmt.Sprintf("call payloads from %s must stay in the EU while %s is true", c.Region, KeyArchiveEUResidency),
				Accepted: "one of " + strings.Join(euRegions, ", ") + " (or set " + KeyArchiveEUResidency + ": false)"})
		}
	}

	// compute and edge
	c.LambdaReservedConcurrency = optionalInt(values, KeyLambdaReservedConcurrency, components.ReservedConcurrency, 1, 10000, "executions", bad)
	c.LambdaMemoryMB = optionalInt(values, KeyLambdaMemoryMB, components.MemoryMB, capacity.MinLambdaMemoryMB, 10240, "MB", bad)
	c.LambdaTimeoutSeconds = optionalInt(values, KeyLambdaTimeoutSeconds, components.TimeoutSeconds, 1, 900, "seconds", bad)
	c.APIThrottleBurst = optionalInt(values, KeyAPIThrottleBurst, components.ThrottleBurstLimit, 1, 1_000_000, "requests", bad)
	c.APIThrottleRateRps = optionalInt(values, KeyAPIThrottleRateRps, components.ThrottleRateLimit, 1, 1_000_000, "requests per second", bad)
	c.ExpectedP99Ms = optionalInt(values, KeyExpectedP99Ms, int(capacity.DefaultP99Duration.Milliseconds()), 1, 900_000, "milliseconds", bad)
	c.LogRetentionDays = optionalInt(values, KeyLogRetentionDays, components.LogRetentionDays, 1, 3653, "days", bad)
	if c.LogRetentionDays > 0 && !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		bad(&ConfigError{Key: KeyLogRetentionDays, Value: strconv.Itoa(c.LogRetentionDays), Problem: "not a CloudWatch Logs retention period",
			Accepted: strings.Trim(strings.Join(strings.Fields(fmt.Sprint(logRetentionDays)), ", "), "[]")})
	}
	if v, ok := values[KeyCapacityCheck]; ok && v != "" {
		c.CapacityCheck = v
		if v != capacity.ModeEnforce && v != capacity.ModeWarn {
			bad(&ConfigError{Key: KeyCapacityCheck, Value: v, Problem: "unknown mode", Accepted: capacity.ModeEnforce + " or " + capacity.ModeWarn})
		}
	}
	if v, ok := values[KeyAlarmEmail]; ok && v != "" {
		c.AlarmEmail = v
		if !emailPattern.MatchString(v) {
			bad(&ConfigError{Key: KeyAlarmEmail, Value: v, Problem: "not an e-mail address", Accepted: "name@example.org, or empty for no subscription"})
		}
	}
	if v, ok := values[KeyCORSAllowOrigin]; ok && v != "" {
		c.CORSAllowOrigin = v
		if v != "*" && !originPattern.MatchString(v) {
			bad(&ConfigError{Key: KeyCORSAllowOrigin, Value: v, Problem: "not an origin", Accepted: `"*" or https://host[:port]`})
		}
	}

	// DNS failover
	c.APIHostname, c.HostedZoneID = values[KeyAPIHostname], values[KeyHostedZoneID]
	if (c.APIHostname == "") != (c.HostedZoneID == "") {
		missing, other := KeyHostedZoneID, KeyAPIHostname
		if c.APIHostname == "" {
			missing, other = KeyAPIHostname, KeyHostedZoneID
		}
		bad(&ConfigError{Key: missing, Missing: true, Problem: "needed because " + other + " is set",
			Accepted: "both " + KeyAPIHostname + " and " + KeyHostedZoneID + ", or neither (no DNS failover)"})
	}
	if c.APIHostname != "" && !hostnamePattern.MatchString(c.APIHostname) {
		bad(&ConfigError{Key: KeyAPIHostname, Value: c.APIHostname, Problem: "not a DNS name", Accepted: "a name such as calls.example.org"})
	}
	if c.HostedZoneID != "" && !zoneIDPattern.MatchString(c.HostedZoneID) {
		bad(&ConfigError{Key: KeyHostedZoneID, Value: c.HostedZoneID, Problem: "not a Route53 hosted zone id", Accepted: "Z followed by letters and digits"})
	}
	if v, ok := values[KeyRouting]; ok && v != "" {
		c.Routing = v
		if v != RoutingFailover && v != RoutingWeighted {
			bad(&ConfigError{Key: KeyRouting, Value: v, Problem: "unknown routing", Accepted: RoutingFailover + " or " + RoutingWeighted})
		}
	}
	c.TrafficWeight = optionalInt(values, KeyTrafficWeight, 0, 0, components.MaxWeight, "weight units", bad)
	c.DNSTTLSeconds = optionalInt(values, KeyDNSTTLSeconds, components.DNSTTLSeconds, 5, 3600, "seconds", bad)

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

var (
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneIDPattern   = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	originPattern   = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
)

// optionalInt reads an integer key with a default and inclusive bounds.
func optionalInt(values map[string]string, key string, def, lo, hi int, unit string, bad func(*ConfigError)) int {
	v, ok := values[key]
	if !ok || v == "" {
		return def
	}
	accepted := fmt.Sprintf("a whole number of %s from %d to %d (default %d)", unit, lo, hi, def)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		bad(&ConfigError{Key: key, Value: v, Problem: "not a whole number", Accepted: accepted})
		return 0
	}
	if n < lo || n > hi {
		bad(&ConfigError{Key: key, Value: v, Problem: "out of range", Accepted: accepted})
		return 0
	}
	return n
}

func parsePositiveInt(values map[string]string, key, meaning string, bad func(*ConfigError)) int {
	v, ok := values[key]
	accepted := "a positive whole number of requests per second"
	if !ok || v == "" {
		bad(&ConfigError{Key: key, Missing: true, Problem: meaning + " has no default", Accepted: accepted})
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		bad(&ConfigError{Key: key, Value: v, Problem: "not a whole number", Accepted: accepted})
		return 0
	}
	if n <= 0 {
		bad(&ConfigError{Key: key, Value: v, Problem: "must be positive", Accepted: accepted})
		return 0
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
