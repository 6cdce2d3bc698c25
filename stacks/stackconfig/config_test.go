package stackconfig

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validValues is a complete, valid configuration for the us-west-2 stack:
// the shared keys, which Pulumi.yaml sets as project values (Parse applies
// Defaults to the others).
func validValues() map[string]string {
	return map[string]string{
		KeyAWSRegion:     "us-west-2",
		KeyRegions:       `["us-east-1","us-west-2","eu-west-1"]`,
		KeyActiveRegion:  "us-east-1",
		KeyHomeRegion:    "us-east-1",
		KeyFailoverOrder: `["us-east-1","us-west-2"]`,
		KeyNormalLoadRps: `{"us-east-1":1200,"us-west-2":600,"eu-west-1":300}`,
	}
}

func TestParseAppliesDefaultsAndDerivesTheLoads(t *testing.T) {
	v := validValues()
	v[KeyAWSRegion] = "eu-west-1"
	c, err := Parse(v)
	require.NoError(t, err)
	assert.Equal(t, Config{
		Region:               "eu-west-1",
		Regions:              []string{"us-east-1", "us-west-2", "eu-west-1"},
		ActiveRegion:         "us-east-1",
		FailoverOrder:        []string{"us-east-1", "us-west-2"},
		HomeRegion:           "us-east-1",
		NormalLoadRps:        map[string]int{"us-east-1": 1200, "us-west-2": 600, "eu-west-1": 300},
		ExpectedLoadRps:      300,
		FailoverLoadRps:      2100, // the sum: the active region carries everyone
		TableName:            "access911-calls",
		ArchiveReplicaRegion: "eu-central-1",
		ArchiveEUResidency:   true,
		// seed 000 defaults
		LambdaReservedConcurrency: 100,
		LambdaMemoryMB:            512,
		LambdaTimeoutSeconds:      30,
		APIThrottleBurst:          5000,
		APIThrottleRateRps:        2000,
		ExpectedP99Ms:             45,
		CapacityCheck:             "enforce",
		CORSAllowOrigin:           "*",
		LogRetentionDays:          30,
		// DNS failover off until a hostname is configured
		DNSTTLSeconds: 30,
		// the durable intake: direct writes, the queue as the fallback
		IntakeMode:               "direct",
		IntakeMaxReceiveCount:    5,
		IntakeBatchSize:          10,
		IntakeBatchWindowSeconds: 1,
		DrainMaxConcurrency:      0, // sized by the capacity check
		SpikeMinutes:             60,
		// the dispatcher feed: seed 002's numbers
		Feed: FeedConfig{Connections: 600000, Partitions: 2500, Queues: 10, QueryBatchSize: 10, QueryConcurrency: 250,
			PostRateLimit: 10000, DeliveryTargetMs: 2000, PartitionsPerArea: 4, Areas: 2000, Supervisors: 100},
		// the read cache: off; seed 000's 300 s TTL when on
		ReadCache: ReadCacheConfig{Mode: "none", TTLSeconds: 300, QueryTTLSeconds: 5, MaxECPUPerSecond: 100000, MaxDataGB: 10},
		// the spike hour's cost ceiling (plan and cost warn above it)
		SpikeHourCostCeilingUSD: 500,
		StoredCallsPerDay:       50000,
	}, c)
	assert.False(t, c.IsHome())
	assert.False(t, c.IsActive())
}

func TestParseConfigDefaultArchivePairs(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "us-east-2", "us-west-2": "us-east-2", "eu-west-1": "eu-central-1"} {
		v := validValues()
		v[KeyAWSRegion] = region
		c, err := Parse(v)
		require.NoError(t, err, region)
		assert.Equal(t, want, c.ArchiveReplicaRegion, region)
	}
}

func TestParseConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(map[string]string)
		key   string
		parts []string // more text the message must contain
	}{
		{"missing region", func(v map[string]string) { delete(v, KeyAWSRegion) }, KeyAWSRegion, []string{"missing", "us-east-1"}},
		{"unknown read cache", func(v map[string]string) { v[KeyReadCache] = "redis" }, KeyReadCache, []string{`"redis"`, "none or valkey"}},
		{"read cache ECPU below ElastiCache's", func(v map[string]string) { v[KeyReadCacheMaxECPUPerSec] = "999" }, KeyReadCacheMaxECPUPerSec, []string{"1000"}},
		{"read cache data above ElastiCache's", func(v map[string]string) { v[KeyReadCacheMaxDataGB] = "5001" }, KeyReadCacheMaxDataGB, []string{"5000"}},
		{"read cache page TTL zero", func(v map[string]string) { v[KeyReadCacheQueryTTLSeconds] = "0" }, KeyReadCacheQueryTTLSeconds, []string{"1"}},
		{"unknown region", func(v map[string]string) { v[KeyAWSRegion] = "us-middle-1" }, KeyAWSRegion, []string{`"us-middle-1"`, "unknown region"}},
		{"region not served", func(v map[string]string) { v[KeyAWSRegion] = "ap-south-1" }, KeyAWSRegion, []string{"not a serving region", "us-east-1, us-west-2, eu-west-1"}},
		{"regions not a list", func(v map[string]string) { v[KeyRegions] = "us-east-1" }, KeyRegions, []string{"not a list"}},
		{"regions empty", func(v map[string]string) { v[KeyRegions] = "[]" }, KeyRegions, []string{"empty"}},
		{"regions unknown name", func(v map[string]string) { v[KeyRegions] = `["us-east-1","us-west-2","mars-1"]` }, KeyRegions, []string{`"mars-1"`}},
		{"regions duplicate", func(v map[string]string) { v[KeyRegions] = `["us-east-1","us-west-2","us-west-2"]` }, KeyRegions, []string{"twice"}},
		{"active region not in regions", func(v map[string]string) { v[KeyActiveRegion] = "ap-south-1" }, KeyActiveRegion, []string{`"ap-south-1"`, "us-east-1, us-west-2, eu-west-1"}},
		{"home region not in regions", func(v map[string]string) { v[KeyHomeRegion] = "eu-central-1" }, KeyHomeRegion, []string{`"eu-central-1"`}},
		{"missing loads", func(v map[string]string) { delete(v, KeyNormalLoadRps) }, KeyNormalLoadRps, []string{"missing", "Pulumi.yaml"}},
		{"loads not a map", func(v map[string]string) { v[KeyNormalLoadRps] = "lots" }, KeyNormalLoadRps, []string{`"lots"`, "map of whole numbers"}},
		{"fractional load", func(v map[string]string) {
			v[KeyNormalLoadRps] = `{"us-east-1":12.5,"us-west-2":600,"eu-west-1":300}`
		}, KeyNormalLoadRps, []string{"whole numbers"}},
		{"negative load", func(v map[string]string) {
			v[KeyNormalLoadRps] = `{"us-east-1":1200,"us-west-2":-5,"eu-west-1":300}`
		}, KeyNormalLoadRps, []string{"us-west-2: -5 rps must be positive"}},
		{"zero load", func(v map[string]string) {
			v[KeyNormalLoadRps] = `{"us-east-1":1200,"us-west-2":0,"eu-west-1":300}`
		}, KeyNormalLoadRps, []string{"positive"}},
		{"a region without a load", func(v map[string]string) {
			v[KeyNormalLoadRps] = `{"us-east-1":1200,"us-west-2":600}`
		}, KeyNormalLoadRps, []string{"no load for serving region eu-west-1"}},
		{"a load for a region that does not serve", func(v map[string]string) {
			v[KeyNormalLoadRps] = `{"us-east-1":1200,"us-west-2":600,"eu-west-1":300,"ap-south-1":5}`
		}, KeyNormalLoadRps, []string{"ap-south-1 is not a serving region"}},
		{"bad table name", func(v map[string]string) { v[KeyTableName] = "calls table!" }, KeyTableName, []string{`"calls table!"`, "3-255"}},
		{"unknown intake mode", func(v map[string]string) { v[KeyIntakeMode] = "queue" }, KeyIntakeMode, []string{`"queue"`, "direct or buffered"}},
		{"max receive count 0", func(v map[string]string) { v[KeyIntakeMaxReceiveCount] = "0" }, KeyIntakeMaxReceiveCount, []string{"5 to 1000"}},
		{"max receive count below AWS's advice for Lambda", func(v map[string]string) { v[KeyIntakeMaxReceiveCount] = "3" },
			KeyIntakeMaxReceiveCount, []string{`"3"`, "5 to 1000"}},
		{"feed queues beyond a redrive allow policy's 10 sources", func(v map[string]string) { v[KeyFeedQueues] = "11" },
			KeyFeedQueues, []string{`"11"`, "1 to 10"}},
		{"feed mapping concurrency beyond 1000", func(v map[string]string) {
			v[KeyFeedQueues], v[KeyFeedQueryConcurrency] = "2", "2002"
		}, KeyFeedQueryConcurrency, []string{"above 1000 per fan-out queue", "at most 2000"}},
		{"batch above 10 without a window", func(v map[string]string) {
			v[KeyIntakeBatchSize], v[KeyIntakeBatchWindowSeconds] = "100", "0"
		}, KeyIntakeBatchWindowSeconds, []string{"batching window"}},
		{"drain concurrency 1", func(v map[string]string) { v[KeyDrainMaxConcurrency] = "1" }, KeyDrainMaxConcurrency, []string{"2", "1000"}},
		{"spike of no minutes", func(v map[string]string) { v[KeySpikeMinutes] = "0" }, KeySpikeMinutes, []string{"minutes"}},
		{"feed query batch above SQS's 10", func(v map[string]string) { v[KeyFeedQueryBatchSize] = "11" }, KeyFeedQueryBatchSize, []string{"10"}},
		{"no feed queues", func(v map[string]string) { v[KeyFeedQueues] = "0" }, KeyFeedQueues, []string{"queues"}},
		{"archive into own region", func(v map[string]string) { v[KeyArchiveReplicaRegion] = "us-west-2" }, KeyArchiveReplicaRegion, []string{"same region"}},
		{"archive unknown region", func(v map[string]string) { v[KeyArchiveReplicaRegion] = "nowhere-1" }, KeyArchiveReplicaRegion, []string{"unknown region"}},
		{"eu archive leaves the EU", func(v map[string]string) {
			v[KeyAWSRegion] = "eu-west-1"
			v[KeyArchiveReplicaRegion] = "us-east-2"
		}, KeyArchiveReplicaRegion, []string{"EU", KeyArchiveEUResidency, "eu-central-1"}},
		{"archive into another serving region", func(v map[string]string) { v[KeyArchiveReplicaRegion] = "us-east-1" },
			KeyArchiveReplicaRegion, []string{"a serving region", "could not be deployed or changed while that region is down", "us-east-2"}},
		{"eu archive to London is outside the EU", func(v map[string]string) {
			v[KeyAWSRegion] = "eu-west-1"
			v[KeyArchiveReplicaRegion] = "eu-west-2"
		}, KeyArchiveReplicaRegion, []string{"must stay in the EU"}},
		{"residency not a boolean", func(v map[string]string) { v[KeyArchiveEUResidency] = "maybe" }, KeyArchiveEUResidency, []string{"true or false"}},
		{"memory below Lambda's minimum", func(v map[string]string) { v[KeyLambdaMemoryMB] = "64" }, KeyLambdaMemoryMB, []string{`"64"`, "128 to 10240"}},
		{"timeout not a number", func(v map[string]string) { v[KeyLambdaTimeoutSeconds] = "30s" }, KeyLambdaTimeoutSeconds, []string{"whole number"}},
		{"zero reserved concurrency", func(v map[string]string) { v[KeyLambdaReservedConcurrency] = "0" }, KeyLambdaReservedConcurrency, []string{"out of range"}},
		{"negative throttle rate", func(v map[string]string) { v[KeyAPIThrottleRateRps] = "-1" }, KeyAPIThrottleRateRps, []string{"out of range"}},
		{"unknown capacity mode", func(v map[string]string) { v[KeyCapacityCheck] = "ignore" }, KeyCapacityCheck, []string{"enforce or warn"}},
		{"bad alarm e-mail", func(v map[string]string) { v[KeyAlarmEmail] = "ops-at-example" }, KeyAlarmEmail, []string{"e-mail"}},
		{"bad CORS origin", func(v map[string]string) { v[KeyCORSAllowOrigin] = "example.org/path" }, KeyCORSAllowOrigin, []string{"origin"}},
		{"retention not offered by CloudWatch", func(v map[string]string) { v[KeyLogRetentionDays] = "31" }, KeyLogRetentionDays, []string{"30, 60"}},
		{"hostname without zone", func(v map[string]string) { v[KeyAPIHostname] = "calls.example.org" }, KeyHostedZoneID, []string{"missing", "or neither"}},
		{"zone without hostname", func(v map[string]string) { v[KeyHostedZoneID] = "Z123EXAMPLE" }, KeyAPIHostname, []string{"missing"}},
		{"bad hostname", func(v map[string]string) {
			v[KeyAPIHostname] = "Calls_Example"
			v[KeyHostedZoneID] = "Z123EXAMPLE"
		}, KeyAPIHostname, []string{"not a DNS name"}},
		{"bad zone id", func(v map[string]string) {
			v[KeyAPIHostname] = "calls.example.org"
			v[KeyHostedZoneID] = "example.org"
		}, KeyHostedZoneID, []string{"hosted zone id"}},
		{"failover order not a list", func(v map[string]string) { v[KeyFailoverOrder] = "us-east-1" }, KeyFailoverOrder, []string{"not a list", "starting with " + KeyActiveRegion}},
		{"failover order empty", func(v map[string]string) { v[KeyFailoverOrder] = "[]" }, KeyFailoverOrder, []string{"not a list"}},
		{"failover order names a region that does not serve", func(v map[string]string) { v[KeyFailoverOrder] = `["us-east-1","ap-south-1"]` },
			KeyFailoverOrder, []string{`"ap-south-1" is not a serving region`}},
		{"failover order names a region twice", func(v map[string]string) { v[KeyFailoverOrder] = `["us-east-1","us-east-1"]` },
			KeyFailoverOrder, []string{"listed twice"}},
		{"failover order does not start with the active region", func(v map[string]string) { v[KeyFailoverOrder] = `["us-west-2","us-east-1"]` },
			KeyFailoverOrder, []string{"starts with us-west-2, but " + KeyActiveRegion + " is us-east-1"}},
		{"a key the program no longer reads: routing", func(v map[string]string) { v["access911:routing"] = "weighted" }, "access911:routing", []string{"unknown key"}},
		{"misspelt key", func(v map[string]string) { v["access911:normalLoadRPS"] = "10" }, "access911:normalLoadRPS", []string{"unknown key", KeyNormalLoadRps}},
		{"a key the program no longer reads", func(v map[string]string) { v["access911:failoverLoadRps"] = "190" }, "access911:failoverLoadRps", []string{"unknown key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := validValues()
			tc.edit(v)
			_, err := Parse(v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "config "+tc.key)
			assert.Contains(t, err.Error(), "accepted:")
			for _, p := range tc.parts {
				assert.Contains(t, err.Error(), p)
			}
		})
	}
}

func TestParseConfigEUResidencyCanBeWaived(t *testing.T) {
	v := validValues()
	v[KeyAWSRegion] = "eu-west-1"
	v[KeyArchiveReplicaRegion] = "us-east-2"
	v[KeyArchiveEUResidency] = "false"
	c, err := Parse(v)
	require.NoError(t, err)
	assert.Equal(t, "us-east-2", c.ArchiveReplicaRegion)
}

func TestParseConfigReportsEveryProblem(t *testing.T) {
	v := validValues()
	v[KeyNormalLoadRps] = `{"us-east-1":-1,"us-west-2":600,"eu-west-1":300}`
	v[KeyActiveRegion] = "nowhere"
	_, err := Parse(v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), KeyNormalLoadRps)
	assert.Contains(t, err.Error(), KeyActiveRegion)
}

func TestCheckStacksAgree(t *testing.T) {
	parse := func(region string) Config {
		v := validValues()
		v[KeyAWSRegion] = region
		c, err := Parse(v)
		require.NoError(t, err)
		return c
	}
	good := map[string]Config{"us-east-1": parse("us-east-1"), "us-west-2": parse("us-west-2"), "eu-west-1": parse("eu-west-1")}
	require.NoError(t, CheckStacksAgree(good))

	tests := []struct {
		name string
		edit func(map[string]Config)
		want string
	}{
		{"active region differs", func(m map[string]Config) {
			c := m["eu-west-1"]
			c.ActiveRegion = "us-west-2"
			m["eu-west-1"] = c
		}, KeyActiveRegion + " differs"},
		{"loads differ", func(m map[string]Config) {
			c := m["us-west-2"]
			c.NormalLoadRps = map[string]int{"us-east-1": 1, "us-west-2": 1, "eu-west-1": 1}
			m["us-west-2"] = c
		}, KeyNormalLoadRps + " differs"},
		{"a region has no stack", func(m map[string]Config) { delete(m, "eu-west-1") }, "no stack file deploys it"},
		{"two stacks deploy one region", func(m map[string]Config) {
			c := m["eu-west-1"]
			c.Region = "us-west-2"
			m["eu-west-1"] = c
		}, "both deploy us-west-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := maps.Clone(good)
			tc.edit(m)
			err := CheckStacksAgree(m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// An app serving from Ohio names its archive's destination; without it
// us-east-2 has none and the key is named.
func TestArchivePairsExtendTheDefaults(t *testing.T) {
	v := validValues()
	v[KeyRegions] = `["us-east-1","us-east-2"]`
	v[KeyNormalLoadRps] = `{"us-east-1":100,"us-east-2":50}`
	v[KeyFailoverOrder] = `["us-east-1","us-east-2"]`
	v[KeyAWSRegion] = "us-east-2"
	_, err := Parse(v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), KeyArchiveReplicaRegion)
	assert.Contains(t, err.Error(), "no default destination for us-east-2")
	c, err := ParseWith(v, ParseOptions{ArchivePairs: map[string]string{"us-east-2": "us-west-1"}})
	require.NoError(t, err)
	assert.Equal(t, "us-west-1", c.ArchiveReplicaRegion)
	c, err = ParseWith(validValues(), ParseOptions{ArchivePairs: map[string]string{"us-east-2": "us-west-1"}})
	require.NoError(t, err)
	assert.Equal(t, "us-east-2", c.ArchiveReplicaRegion, "the defaults stand for the regions not named (us-west-2 here)")
}

// A region launched after this release is accepted when the caller names
// it, and only then; another app's defaults replace access911's, and a
// value set in config still wins.
func TestParseOptionsRegionsAndDefaults(t *testing.T) {
	v := validValues()
	v[KeyRegions] = `["us-east-1","mx-central-1"]`
	v[KeyNormalLoadRps] = `{"us-east-1":100,"mx-central-1":50}`
	v[KeyFailoverOrder] = `["us-east-1","mx-central-1"]`
	v[KeyAWSRegion] = "mx-central-1"
	v[KeyArchiveReplicaRegion] = "us-west-1"
	_, err := Parse(v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"mx-central-1"`)
	assert.Contains(t, err.Error(), "unknown region")
	c, err := ParseWith(v, ParseOptions{Regions: []string{"mx-central-1"}})
	require.NoError(t, err)
	assert.Equal(t, "mx-central-1", c.Region)
	assert.Equal(t, []string{"us-east-1", "mx-central-1"}, c.Regions)

	c, err = ParseWith(validValues(), ParseOptions{Defaults: map[string]string{KeyTableName: "shop-calls"}})
	require.NoError(t, err)
	assert.Equal(t, "shop-calls", c.TableName)
	set := validValues()
	set[KeyTableName] = "orders"
	c, err = ParseWith(set, ParseOptions{Defaults: map[string]string{KeyTableName: "shop-calls"}})
	require.NoError(t, err)
	assert.Equal(t, "orders", c.TableName)
	c, err = Parse(validValues())
	require.NoError(t, err)
	assert.Equal(t, "access911-calls", c.TableName)
}
