package stacks_test

import (
	"slices"
	"testing"

	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/cost"
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

// withDNS turns DNS failover on, as Pulumi.yaml would.
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

// Each region's gate is its own /health AND, for every serving region, an
// inverted string-matching check of that region's GET /control/{region}:
// a reader that reports the region denied turns the gate unhealthy; a
// reader that does not answer changes nothing.
func TestEachRegionsGateIsItsHealthAndNoDenial(t *testing.T) {
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

			children := []any{"access911-dns-id"}
			for _, reader := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
				deny := one(t, res, healthCheckType, "access911-dns-denied-by-"+reader)
				assert.Equal(t, "HTTPS_STR_MATCH", get(deny, "type"))
				assert.Equal(t, reader+".calls.example.org", get(deny, "fqdn"), "the reader's regional name")
				assert.Equal(t, "/control/"+region, get(deny, "resourcePath"), "the custom domain maps the stage at its root")
				assert.Equal(t, `"allowed":false`, get(deny, "searchString"))
				assert.Equal(t, contract.ControlDeniedMarker, get(deny, "searchString"))
				assert.Equal(t, true, get(deny, "invertHealthcheck"), "healthy unless the reader answers 'denied'")
				assert.Equal(t, 10.0, get(deny, "requestInterval"))
				assert.Equal(t, 3.0, get(deny, "failureThreshold"))
				assert.Equal(t, true, get(deny, "enableSni"))
				children = append(children, "access911-dns-denied-by-"+reader+"-id")
			}
			gate := one(t, res, healthCheckType, "access911-dns-gate")
			assert.Equal(t, "CALCULATED", get(gate, "type"))
			assert.Equal(t, children, get(gate, "childHealthchecks"))
			assert.Equal(t, 4.0, get(gate, "childHealthThreshold"), "all four: health AND no denial")
			assert.Equal(t, "access911-dns-gate-id", res.Outputs[contract.OutputGateCheckID])
			assert.Len(t, res.ByType(healthCheckType), cost.GateChecksPerRegion(3), "what `cost` prices for the failover control")

			regional := one(t, res, recordType, "access911-dns-regional")
			assert.Equal(t, region+".calls.example.org", get(regional, "name"))
			assert.Nil(t, get(regional, "setIdentifier"), "a plain record: the regional name always reaches its region")
			assert.Nil(t, get(regional, "healthCheckId"))
			assert.Equal(t, region+".calls.example.org", get(one(t, res, certType, "access911-dns-regional"), "domainName"))
			assert.Equal(t, region+".calls.example.org", get(one(t, res, domainType, "access911-dns-regional"), "domainName"))
			assert.Equal(t, region+".calls.example.org", res.Outputs[contract.OutputRegionalHostname])

			cert := one(t, res, certType, "access911-dns")
			assert.Equal(t, "calls.example.org", get(cert, "domainName"))
			assert.Equal(t, "DNS", get(cert, "validationMethod"))
			dom := one(t, res, domainType, "access911-dns")
			assert.Equal(t, "REGIONAL", get(dom, "endpointConfiguration.types"))
			assert.Equal(t, "TLS_1_2", get(dom, "securityPolicy"))
			assert.Equal(t, "v1", get(one(t, res, mappingType, "access911-dns"), "stageName"))
			val := one(t, res, recordType, "access911-dns-validation")
			assert.Equal(t, true, get(val, "allowOverwrite"), "the ACM validation record is shared by design")
			assert.True(t, val.RetainOnDelete, "and no stack deletes it")
		})
	}
}

// chainRecord is one failover record as the stacks register it.
type chainRecord struct {
	stack, kind, target string
	alias               bool
}

// chain synthesizes every stack and returns the failover records of the
// shared hostname and of the feed's, by record name.
func chain(t *testing.T, extra map[string]string) (api, feed map[string][]chainRecord) {
	t.Helper()
	api, feed = map[string][]chainRecord{}, map[string][]chainRecord{}
	owned := map[string]string{}
	for _, tc := range stackCases {
		res := mustSynthesize(t, tc.stack, withDNS(extra))
		for _, r := range res.ByType(recordType) {
			kind, _ := get(r, "failoverRoutingPolicies.0.type").(string)
			if kind == "" {
				continue
			}
			name := get(r, "name").(string)
			key := name + "|" + get(r, "setIdentifier").(string)
			require.Empty(t, owned[key], "record %s owned by %s and %s", key, owned[key], tc.stack)
			owned[key] = tc.stack
			assert.Equal(t, tc.stack, get(r, "setIdentifier"), "a stack's records name its own region")
			rec := chainRecord{stack: tc.stack, kind: kind}
			if target, ok := get(r, "aliases.0.name").(string); ok {
				rec.target, rec.alias = target, true
				assert.Equal(t, true, get(r, "aliases.0.evaluateTargetHealth"), "the SECONDARY inherits the next level's health")
				assert.Equal(t, "Z0EXAMPLE", get(r, "aliases.0.zoneId"))
				assert.Nil(t, get(r, "ttl"), "an alias has no TTL")
			} else {
				rec.target = get(r, "records.0").(string)
				assert.Equal(t, "access911-dns-gate-id", get(r, "healthCheckId"), "the PRIMARY answers on the region's gate")
				assert.Equal(t, 30.0, get(r, "ttl"))
			}
			if r.Name == "access911-dns-feed" || r.Name == "access911-dns-feed-secondary" {
				feed[name] = append(feed[name], rec)
			} else {
				api[name] = append(api[name], rec)
			}
		}
	}
	return api, feed
}

// The committed order, [us-east-1, us-west-2]: every caller goes to
// us-east-1 while its gate is healthy, else every caller to us-west-2; the
// order leaves eu-west-1 out, so US calls never land in the EU.
func TestTheFailoverChainSendsEveryCallerToOneRegion(t *testing.T) {
	api, feed := chain(t, nil)
	assert.Equal(t, map[string][]chainRecord{
		"calls.example.org": {
			{stack: "us-east-1", kind: "PRIMARY", target: "d-us-east-1.execute-api.us-east-1.amazonaws.com"},
			{stack: "us-west-2", kind: "SECONDARY", target: "failover-2.calls.example.org", alias: true},
		},
		"failover-2.calls.example.org": {
			{stack: "us-west-2", kind: "PRIMARY", target: "d-us-west-2.execute-api.us-west-2.amazonaws.com"},
		},
	}, api)
	assert.Equal(t, map[string][]chainRecord{
		"feed.calls.example.org": {
			{stack: "us-east-1", kind: "PRIMARY", target: "d-us-east-1-ws.execute-api.us-east-1.amazonaws.com"},
			{stack: "us-west-2", kind: "SECONDARY", target: "failover-2.feed.calls.example.org", alias: true},
		},
		"failover-2.feed.calls.example.org": {
			{stack: "us-west-2", kind: "PRIMARY", target: "d-us-west-2-ws.execute-api.us-west-2.amazonaws.com"},
		},
	}, feed, "dispatchers follow the callers, on the same gates")
	res := mustSynthesize(t, "eu-west-1", withDNS(nil))
	assert.Equal(t, []string{"us-east-1", "us-west-2"}, res.Outputs[contract.OutputFailoverOrder])
}

// All three regions, EU last: a third level, and still one PRIMARY per
// level and one SECONDARY pointing to the next.
func TestAThreeRegionChain(t *testing.T) {
	api, _ := chain(t, map[string]string{stackconfig.KeyFailoverOrder: `["us-east-1","us-west-2","eu-west-1"]`})
	require.Len(t, api, 3)
	levels := []string{"calls.example.org", "failover-2.calls.example.org", "failover-3.calls.example.org"}
	for i, level := range levels {
		recs := api[level]
		primaries := slices.IndexFunc(recs, func(r chainRecord) bool { return r.kind == "PRIMARY" })
		require.GreaterOrEqual(t, primaries, 0, level)
		assert.Equal(t, stackCases[i].stack, recs[primaries].stack)
		if i < len(levels)-1 {
			require.Len(t, recs, 2, level)
			assert.Contains(t, recs, chainRecord{stack: stackCases[i+1].stack, kind: "SECONDARY", target: levels[i+1], alias: true})
		} else {
			assert.Len(t, recs, 1, "the last level has no SECONDARY")
		}
	}
}

// Dispatchers follow the callers: the feed's hostname has its own
// WebSocket custom domain per region, mapped to the feed's stage.
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
			assert.Equal(t, "feed.calls.example.org", res.Outputs["feedHostname"])
		})
	}
}
