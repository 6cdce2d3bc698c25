package stacks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/internal/policy"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

var readCacheTypes = []string{"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
	"aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/securityGroup:SecurityGroup", "aws:elasticache/serverlessCache:ServerlessCache"}

func withValkey(c map[string]string) { c[stackconfig.KeyReadCache] = stackconfig.ReadCacheValkey }

// readCache: none (the default) creates nothing of it, and the committed
// plans stay as they were.
func TestReadCacheOffCreatesNothing(t *testing.T) {
	for _, tc := range stackCases {
		res := mustSynthesize(t, tc.stack, nil)
		for _, typ := range append(readCacheTypes, components.ReadCacheType) {
			assert.Empty(t, res.ByType(typ), "%s: %s", tc.stack, typ)
		}
		for _, m := range res.ByType("aws:apigateway/integration:Integration") {
			assert.NotContains(t, m.Parent, "read-cache")
		}
	}
}

func TestReadCacheValkeyInEveryStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, withValkey)
			vpc := one(t, res, "aws:ec2/vpc:Vpc", "access911-read-cache")
			assert.Equal(t, components.ReadCacheVPCCIDR, get(vpc, "cidrBlock"))
			var zones, cidrs []string
			for _, s := range res.ByType("aws:ec2/subnet:Subnet") {
				zones = append(zones, get(s, "availabilityZoneId").(string))
				cidrs = append(cidrs, get(s, "cidrBlock").(string))
				assert.Equal(t, false, get(s, "mapPublicIpOnLaunch"), "private subnets")
			}
			prefix := map[string]string{"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1"}[tc.stack]
			assert.Equal(t, []string{prefix + "-az1", prefix + "-az2"}, zones,
				"a private subnet in each of the first two zones by ID, sorted (the lookup listed az4, az1, az2)")
			var lookup plan.Invoke
			for _, inv := range res.Invokes {
				if inv.Token == "aws:index/getAvailabilityZones:getAvailabilityZones" {
					lookup = inv
				}
			}
			assert.Equal(t, "opt-in-status", plan.Lookup(lookup.Args, "filters.0.name"), "standard zones only: no Local Zone")
			assert.Equal(t, []any{"opt-in-not-required"}, plan.Lookup(lookup.Args, "filters.0.values"))
			assert.Equal(t, []string{"10.91.0.0/20", "10.91.16.0/20"}, cidrs, "the VPC's first two /20s")
			assert.Empty(t, res.ByType("aws:ec2/natGateway:NatGateway"))
			assert.Empty(t, res.ByType("aws:ec2/internetGateway:InternetGateway"))
			endpoint := one(t, res, "aws:ec2/vpcEndpoint:VpcEndpoint", "access911-read-cache-dynamodb")
			assert.Equal(t, "Gateway", get(endpoint, "vpcEndpointType"))
			assert.Equal(t, "com.amazonaws."+tc.stack+".dynamodb", get(endpoint, "serviceName"))
			ep := parsePolicy(t, get(endpoint, "policy"))
			require.Len(t, ep.Statement, 1)
			assert.Equal(t, components.ReadCacheDynamoDBActions, ep.Statement[0].Action, "only the reader's reads leave the VPC")

			cache := one(t, res, "aws:elasticache/serverlessCache:ServerlessCache", "access911-read-cache")
			assert.Equal(t, "valkey", get(cache, "engine"))
			assert.EqualValues(t, 100_000, get(cache, "cacheUsageLimits.ecpuPerSeconds.0.maximum"))
			assert.EqualValues(t, 10, get(cache, "cacheUsageLimits.dataStorage.maximum"))
			assert.Equal(t, "GB", get(cache, "cacheUsageLimits.dataStorage.unit"))
			assert.Len(t, get(cache, "subnetIds"), 2)
			assertReadCacheFunctions(t, res)
			assertReadCacheNetwork(t, res)
		})
	}
}

// assertReadCacheFunctions: the reader and the invalidator in the VPC, the
// GET routes on the reader and every other route on the intake function,
// the invalidator on the stream, and the roles scoped as the others are.
func assertReadCacheFunctions(t *testing.T, res *plan.Result) {
	t.Helper()
	reader := one(t, res, "aws:lambda/function:Function", "access911-read-cache-reader")
	invalidator := one(t, res, "aws:lambda/function:Function", "access911-read-cache-invalidator")
	for _, fn := range []plan.Resource{reader, invalidator} {
		assert.Len(t, get(fn, "vpcConfig.subnetIds"), 2, fn.Name)
		assert.Len(t, get(fn, "vpcConfig.securityGroupIds"), 1, fn.Name)
		assert.Equal(t, "Active", get(fn, "tracingConfig.mode"))
	}
	assert.Equal(t, "300", get(reader, "environment.variables."+contract.EnvReadCacheTTL), "seed 000's TTL")
	assert.Equal(t, "5", get(reader, "environment.variables."+contract.EnvReadCacheQueryTTL))
	assert.Equal(t, contract.ReadCacheInvalidator, get(invalidator, "environment.variables."+contract.EnvReadCacheRole))
	assert.Nil(t, get(reader, "environment.variables."+contract.EnvReadCacheRole))

	intake := one(t, res, "aws:lambda/function:Function", "access911-intake")
	assert.Nil(t, get(intake, "vpcConfig"), "the write path stays outside the VPC")
	toReader, toIntake := 0, 0
	for _, integ := range res.ByType("aws:apigateway/integration:Integration") {
		uri, _ := get(integ, "uri").(string)
		switch {
		case strings.Contains(uri, "access911-read-cache-reader"):
			toReader++
			assert.Contains(t, []string{"access911-api-get-calls", "access911-api-get-calls-id"}, integ.Name)
		case strings.Contains(uri, "access911-intake"):
			toIntake++
			assert.NotContains(t, integ.Name, "-get-calls", "%s goes to the intake function", integ.Name)
		}
	}
	assert.Equal(t, 2, toReader, "GET /calls and GET /calls/{id}")
	assert.Positive(t, toIntake)
	// The stream's one reader is the swarm: it takes every change and hands
	// the invalidator each batch; the invalidator has no mapping of its own.
	var readers []plan.Resource
	for _, m := range res.ByType("aws:lambda/eventSourceMapping:EventSourceMapping") {
		if source, _ := get(m, "eventSourceArn").(string); strings.Contains(source, "/stream/") {
			readers = append(readers, m)
		}
	}
	require.Len(t, readers, 1, "one reader of the global table's stream")
	assert.Equal(t, "access911-feed-stream", readers[0].Name)
	assert.Nil(t, get(readers[0], "filterCriteria"), "every change: the cache needs updates and removals too")
	swarm := one(t, res, "aws:lambda/function:Function", "access911-feed-swarm")
	assert.Equal(t, "access911-read-cache-invalidator-0123456", get(swarm, "environment.variables."+contract.EnvReadCacheInvalidatorFunction))
	swarmPolicy := parsePolicy(t, get(one(t, res, "aws:iam/rolePolicy:RolePolicy", "access911-feed-swarm"), "policy"))
	var invoke []string
	for _, st := range swarmPolicy.Statement {
		if slices.Contains(st.Action, "lambda:InvokeFunction") {
			invoke = append(invoke, st.Resource...)
		}
	}
	assert.Equal(t, []string{invalidator.Outputs["arn"].(string)}, invoke, "the swarm may invoke the invalidator, nothing else")

	for _, p := range res.ByType("aws:iam/rolePolicy:RolePolicy") {
		if !strings.HasPrefix(p.Name, "access911-read-cache-") {
			continue
		}
		doc := parsePolicy(t, get(p, "policy"))
		var actions []string
		for _, st := range doc.Statement {
			for _, a := range st.Action {
				assert.NotContains(t, a, "*", "%s: no wildcard action", p.Name)
				actions = append(actions, a)
			}
		}
		assert.Contains(t, actions, "ec2:CreateNetworkInterface")
		if p.Name == "access911-read-cache-reader" {
			assert.Subset(t, actions, components.ReadCacheDynamoDBActions)
			assert.NotContains(t, actions, "dynamodb:PutItem", "the reader never writes")
		} else {
			assert.Empty(t, slices.DeleteFunc(actions, func(a string) bool {
				return strings.HasPrefix(a, "ec2:") || strings.HasPrefix(a, "logs:") || strings.HasPrefix(a, "xray:")
			}), "the invalidator needs nothing of AWS but its network, logs and traces")
		}
	}
	alarm := one(t, res, "aws:cloudwatch/metricAlarm:MetricAlarm", "access911-alarms-ReadCacheFallbacks")
	assert.Equal(t, contract.CacheFallbacks, get(alarm, "metricName"))
}

// assertReadCacheNetwork: the cache takes its ports from the functions'
// group only; the functions reach the cache and DynamoDB's prefix list.
func assertReadCacheNetwork(t *testing.T, res *plan.Result) {
	t.Helper()
	ingress := res.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	require.Len(t, ingress, 1)
	assert.NotNil(t, get(ingress[0], "referencedSecurityGroupId"), "from the functions' group, no CIDR")
	assert.Nil(t, get(ingress[0], "cidrIpv4"))
	assert.EqualValues(t, components.ReadCachePort, get(ingress[0], "fromPort"))
	assert.EqualValues(t, components.ReadCacheReaderPort, get(ingress[0], "toPort"))
	egress := res.ByType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
	require.Len(t, egress, 2)
	for _, e := range egress {
		assert.Nil(t, get(e, "cidrIpv4"), "%s: no CIDR, so no internet", e.Name)
	}
}

func TestReadCacheLimitsRefusedBeforeAnyResource(t *testing.T) {
	res, err := synthesize(t, "us-east-1", func(c map[string]string) {
		withValkey(c)
		c[stackconfig.KeyReadCacheMaxECPUPerSec] = "500"
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), stackconfig.KeyReadCacheMaxECPUPerSec)
	for _, r := range res.Resources {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing registered: %s", r.Name)
	}
}

// The capacity check models the cache at the spike and fails a stack whose
// usage limits cannot take it, before anything is registered.
func TestReadCacheInTheCapacityCheck(t *testing.T) {
	res := mustSynthesize(t, "us-west-2", withValkey)
	check := res.Outputs[contract.OutputCapacityCheck].(map[string]any)
	var names []string
	for _, f := range check["findings"].([]any) {
		names = append(names, f.(map[string]any)["check"].(string))
	}
	assert.Contains(t, names, "read cache ECPU at a 10x spike")
	assert.Contains(t, names, "read cache data at a 10x spike")
	none := mustSynthesize(t, "us-west-2", nil).Outputs[contract.OutputCapacityCheck].(map[string]any)
	assert.NotContains(t, fmt.Sprint(none["findings"]), "read cache", "readCache none: no cache lines")

	_, err := synthesize(t, "us-west-2", func(c map[string]string) {
		withValkey(c)
		c[stackconfig.KeyReadCacheMaxECPUPerSec] = "20000"
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FAIL read cache ECPU at a 10x spike")
}

// The read cache's invalidator is the calls stream's second reader (the
// feed's swarm is the first): at DynamoDB's limit of two, and the policy
// pack finds nothing else wrong with the topology.
func TestReadCachePlansPassThePolicyPack(t *testing.T) {
	rep := policy.CheckPolicies(plannedWith(t, withValkey))
	assert.Empty(t, rep.Of("stream-readers"))
	assert.False(t, rep.Failed(""), "%v", rep.Violations)
}

func TestCacheZoneIDsAreSortedWhateverTheOrder(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"use1-az4", "use1-az1", "use1-az2"}, []string{"use1-az1", "use1-az2", "use1-az4"}},
		{[]string{"euw1-az3", "euw1-az2"}, []string{"euw1-az2", "euw1-az3"}},
		{nil, nil},
	} {
		in := slices.Clone(tc.in)
		assert.Equal(t, tc.want, stacks.CacheZoneIDs(tc.in))
		assert.Equal(t, in, tc.in, "the input is left as it was")
	}
}

// Every function each stack plans, with the read cache off and on, gets the
// whole environment its kind needs (contract.RequiredEnv): a function
// without it exits at start (the invalidator once lacked CALLS_TABLE; it
// needs none now, and the RIE test starts every one of them).
func TestEveryPlannedFunctionHasTheEnvironmentItsKindNeeds(t *testing.T) {
	for _, tc := range stackCases {
		for _, edit := range []func(map[string]string){nil, withValkey} {
			res := mustSynthesize(t, tc.stack, edit)
			kinds := map[string]bool{}
			for _, fn := range res.ByType("aws:lambda/function:Function") {
				env, _ := get(fn, "environment.variables").(map[string]any)
				getenv := func(k string) string { s, _ := env[k].(string); return s }
				assert.Empty(t, contract.MissingEnv(getenv), "%s %s (%s)", tc.stack, fn.Name, contract.FunctionKind(getenv))
				kinds[contract.FunctionKind(getenv)] = true
			}
			assert.Len(t, kinds, map[bool]int{false: 7, true: 9}[edit != nil], "%s: intake, the feed's six roles, and the cache's two", tc.stack)
		}
	}
}
