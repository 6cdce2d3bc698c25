package stacks_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/access911/access911-infra/stacks/stackconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	healthCheckType = "aws:route53/healthCheck:HealthCheck"
	recordType      = "aws:route53/record:Record"
	certType        = "aws:acm/certificate:Certificate"
	domainType      = "aws:apigateway/domainName:DomainName"
	mappingType     = "aws:apigateway/basePathMapping:BasePathMapping"
)

// withDNS turns DNS failover on, as a stack file would.
func withDNS(extra map[string]string) func(map[string]string) {
	return func(c map[string]string) {
		c[stackconfig.KeyAPIHostname] = "calls.example.org"
		c[stackconfig.KeyHostedZoneID] = "Z0EXAMPLE"
		for k, v := range extra {
			c[k] = v
		}
	}
}

func TestNoDNSWithoutAHostname(t *testing.T) {
	res := mustSynthesize(t, "us-east-1", nil)
	assert.Empty(t, res.ByType(recordType))
	assert.Empty(t, res.ByType(healthCheckType))
}

func TestFailoverPerStack(t *testing.T) {
	owned := map[string]string{} // record name|set identifier -> stack
	checks := map[string]string{}
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, withDNS(nil))
			region := tc.stack

			hc := one(t, res, healthCheckType, "access911-dns")
			assert.Equal(t, region, hc.Region)
			assert.Equal(t, "HTTPS", get(hc, "type"))
			assert.Equal(t, "access911-api-api-id.execute-api."+region+".amazonaws.com", get(hc, "fqdn"), "the region's own endpoint")
			assert.Equal(t, "/v1/health", get(hc, "resourcePath"))
			assert.Equal(t, 443.0, get(hc, "port"))
			assert.Equal(t, 10.0, get(hc, "requestInterval"))
			assert.Equal(t, 3.0, get(hc, "failureThreshold"))
			assert.Equal(t, []any{"us-east-1", "us-west-2", "eu-west-1"}, get(hc, "regions"), "several checker regions")
			assert.Equal(t, true, get(hc, "enableSni"))

			cert := one(t, res, certType, "access911-dns")
			assert.Equal(t, "calls.example.org", get(cert, "domainName"))
			assert.Equal(t, "DNS", get(cert, "validationMethod"))
			dom := one(t, res, domainType, "access911-dns")
			assert.Equal(t, "REGIONAL", get(dom, "endpointConfiguration.types"))
			assert.Equal(t, "TLS_1_2", get(dom, "securityPolicy"))
			m := one(t, res, mappingType, "access911-dns")
			assert.Equal(t, "v1", get(m, "stageName"))

			rec := one(t, res, recordType, "access911-dns")
			assert.Equal(t, "calls.example.org", get(rec, "name"))
			assert.Equal(t, "CNAME", get(rec, "type"))
			assert.Equal(t, "Z0EXAMPLE", get(rec, "zoneId"))
			assert.Equal(t, 30.0, get(rec, "ttl"), "short TTL")
			assert.Equal(t, region, get(rec, "setIdentifier"))
			assert.Equal(t, "access911-dns-id", get(rec, "healthCheckId"))
			want := 0.0
			if tc.active {
				want = 100 // PRIMARY: the active region
			}
			assert.Equal(t, want, get(rec, "weightedRoutingPolicies.0.weight"), "us-east-1 is active in every stack file")
			assert.Equal(t, []any{"d-" + region + ".execute-api." + region + ".amazonaws.com"}, get(rec, "records"))

			key := get(rec, "name").(string) + "|" + get(rec, "setIdentifier").(string)
			assert.Empty(t, owned[key], "record %s already owned by %s", key, owned[key])
			owned[key] = tc.stack
			checks[tc.stack] = get(hc, "fqdn").(string)

			val := one(t, res, recordType, "access911-dns-validation")
			assert.Equal(t, true, get(val, "allowOverwrite"), "the ACM validation record is shared by design")
			assert.True(t, val.RetainOnDelete, "and no stack deletes it")
			assert.EqualValues(t, want, res.Outputs["dnsWeight"])
		})
	}
	assert.Len(t, owned, 3, "three stacks, three distinct records")
}

func TestWeightedRoutingForAGradualFailback(t *testing.T) {
	weights := map[string]float64{"us-east-1": 10, "us-west-2": 90, "eu-west-1": 0}
	for stack, w := range weights {
		res := mustSynthesize(t, stack, withDNS(map[string]string{
			stackconfig.KeyRouting: "weighted", stackconfig.KeyTrafficWeight: strconv.Itoa(int(w))}))
		rec := one(t, res, recordType, "access911-dns")
		assert.Equal(t, w, get(rec, "weightedRoutingPolicies.0.weight"), stack)
	}
}

func TestStacksDisagreeOnRouting(t *testing.T) {
	configs := map[string]stackconfig.Config{}
	for _, tc := range stackCases {
		_, raw := stackFile(t, tc.stack)
		withDNS(map[string]string{stackconfig.KeyRouting: "weighted"})(raw)
		c, err := stackconfig.Parse(raw)
		require.NoError(t, err)
		configs[tc.stack] = c
	}
	err := stackconfig.CheckStacksAgree(configs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trafficWeight is 0 in every stack")
}

// Dispatchers follow the active region too: the feed's hostname has its own
// WebSocket custom domain per region, mapped to the feed's stage, and a
// record with the API's weight on the API's health check.
func TestFeedFollowsTheActiveRegion(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, withDNS(nil))
			region := tc.stack
			cert := one(t, res, certType, "access911-dns-feed")
			assert.Equal(t, "feed.calls.example.org", get(cert, "domainName"))
			assert.Equal(t, true, get(one(t, res, recordType, "access911-dns-feed-validation"), "allowOverwrite"))
			dom := one(t, res, "aws:apigatewayv2/domainName:DomainName", "access911-dns-feed")
			assert.Equal(t, "feed.calls.example.org", get(dom, "domainName"))
			assert.Equal(t, "REGIONAL", get(dom, "domainNameConfiguration.endpointType"))
			assert.Equal(t, "TLS_1_2", get(dom, "domainNameConfiguration.securityPolicy"))
			m := one(t, res, "aws:apigatewayv2/apiMapping:ApiMapping", "access911-dns-feed")
			assert.Equal(t, "access911-feed-ws-id", get(m, "apiId"))
			assert.Equal(t, "v1", get(m, "stage"))
			assert.True(t, slices.Contains(m.DependsOn, "urn:pulumi:"+region+"::access911::access911:components:Feed$aws:apigatewayv2/stage:Stage::access911-feed"),
				"the mapping waits for the stage")

			api, feed := one(t, res, recordType, "access911-dns"), one(t, res, recordType, "access911-dns-feed")
			assert.Equal(t, "feed.calls.example.org", get(feed, "name"))
			assert.Equal(t, []any{"d-" + region + "-ws.execute-api." + region + ".amazonaws.com"}, get(feed, "records"))
			for _, k := range []string{"type", "zoneId", "ttl", "setIdentifier", "healthCheckId", "weightedRoutingPolicies.0.weight"} {
				assert.Equal(t, get(api, k), get(feed, k), "%s: the feed's record moves with the API's", k)
			}
			assert.Equal(t, "feed.calls.example.org", res.Outputs["feedHostname"])
		})
	}
}
