package deploy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
)

var allPriceItems = []string{capacity.PriceRESTRequests, capacity.PriceWSMessages, capacity.PriceWSConnMinutes, capacity.PriceLambdaRequests, capacity.PriceLambdaGBSeconds,
	capacity.PriceDynamoWRU, capacity.PriceDynamoRWRU, capacity.PriceDynamoStorage, capacity.PriceDynamoPITR, capacity.PriceS3Storage, capacity.PriceS3Puts, capacity.PriceTransferInter,
	capacity.PriceSQSRequests, capacity.PriceKMSKey, capacity.PriceKMSRequests, capacity.PriceSecret, capacity.PriceAlarmMetric, capacity.PriceDashboard, capacity.PriceCustomMetric,
	capacity.PriceLogsIngested, capacity.PriceLogsStored, capacity.PriceXRayTraces, capacity.PriceRoute53HealthChk, capacity.PriceRoute53HTTPS, capacity.PriceRoute53Fast,
	capacity.PriceRoute53Latency, capacity.PriceRoute53StrMatch, capacity.PriceARCClusterHour, capacity.PriceRoute53NonAWS, capacity.PriceRoute53OptionNonAWS, capacity.PriceKMSRotation, capacity.PriceRoute53Queries, capacity.PriceCacheDataGBHours, capacity.PriceCacheECPU}

func TestPriceTableHasEveryItemInEveryRegion(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	assert.Equal(t, "2026-12-05", prices.Date)
	assert.Contains(t, prices.Provenance, "Not fetched from the Price List API here")
	assert.Contains(t, prices.Provenance, "corrected on 2026-12-05")
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1"} {
		for _, item := range allPriceItems {
			p, err := prices.Of(region, item)
			if assert.NoError(t, err) {
				assert.Positive(t, p.USD, "%s %s", region, item)
				assert.Regexp(t, `https://aws\.amazon\.com/|AWS Price List offer file`, p.Source, "%s %s names its page or offer file", region, item)
				assert.NotEmpty(t, p.Unit)
			}
		}
	}
	// issue 30's corrections, from the Price List offer files
	for _, c := range []struct {
		region, item string
		usd          float64
	}{
		{"eu-west-1", capacity.PriceDynamoWRU, 0.705}, {"eu-west-1", capacity.PriceDynamoRWRU, 0.705},
		{"eu-west-1", capacity.PriceDynamoRRU, 0.1415}, {"eu-west-1", capacity.PriceDynamoPITR, 0.22},
		{"eu-central-1", capacity.PriceDynamoPITR, 0.2448}, {"eu-central-1", capacity.PriceLogsStored, 0.0324},
	} {
		p, err := prices.Of(c.region, c.item)
		require.NoError(t, err)
		assert.Equal(t, c.usd, p.USD, "%s %s", c.region, c.item)
		assert.Contains(t, p.Source, "AWS Price List offer file")
	}
	_, err = prices.Of("ap-south-1", capacity.PriceKMSKey)
	assert.EqualError(t, err, "the price table has no region ap-south-1", "never priced at zero")
}

func committedCosts(t *testing.T, prices capacity.PriceTable) map[string]map[string]CostCase {
	t.Helper()
	planned, err := Load("../..", nil)
	require.NoError(t, err)
	costs, err := Cost(planned, prices)
	require.NoError(t, err)
	out := map[string]map[string]CostCase{}
	for _, sc := range costs {
		out[sc.Stack] = map[string]CostCase{}
		for _, c := range sc.Cases {
			out[sc.Stack][c.Name] = c
		}
	}
	return out
}

func line(c CostCase, item string) CostLine {
	for _, l := range c.Lines {
		if l.Item == item {
			return l
		}
	}
	return CostLine{}
}

func TestCostOfKnownQuantities(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	costs := committedCosts(t, prices)
	idle := costs["us-east-1"][CaseIdle]
	alarms := line(idle, "alarm metrics")
	assert.InDelta(t, alarms.Quantity*0.10, alarms.USD, 1e-9, "each alarm metric $0.10 a month")
	assert.Equal(t, 2.0, line(idle, "dashboards").Quantity)
	assert.InDelta(t, 6.0, line(idle, "dashboards").USD, 1e-9)
	sum := 0.0
	for _, l := range idle.Lines {
		sum += l.USD
		assert.NotContains(t, []string{capacity.PriceRESTRequests, capacity.PriceLambdaRequests, capacity.PriceDynamoWRU}, l.PriceItem, "idle: no call, no request: %s", l.Item)
	}
	assert.InDelta(t, sum, idle.Total(), 1e-9, "the idle month is the sum of its fixed lines")

	spike := costs["us-east-1"][CaseSpike]
	rest := line(spike, "REST requests (one a call)")
	assert.Equal(t, 1900.0*3600, rest.Quantity, "an hour at 1,900 calls/s")
	assert.InDelta(t, 1900*3600/1e6*3.50, rest.USD, 1e-9)

	standby := costs["us-west-2"][CaseFailover]
	assert.Zero(t, line(standby, "REST requests (one a call)").Quantity, "after a failover the active region takes the calls")
	assert.Equal(t, 190.0*3600*730, line(standby, "replicated writes from us-east-1").Quantity, "and every standby replica gets its writes")
	assert.Positive(t, line(costs["us-east-1"][CaseFailover], "REST requests (one a call)").Quantity)
}

// A price changed in the table changes exactly the lines that use it.
func TestAPriceChangesOnlyItsLines(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	before := committedCosts(t, prices)
	var changed capacity.PriceTable
	b, _ := json.Marshal(prices)
	require.NoError(t, json.Unmarshal(b, &changed))
	p := changed.Regions["us-east-1"][capacity.PriceRESTRequests]
	p.USD *= 2
	changed.Regions["us-east-1"][capacity.PriceRESTRequests] = p
	after := committedCosts(t, changed)
	moved := 0
	for stack, cases := range before {
		for name, c := range cases {
			for i, l := range c.Lines {
				a := after[stack][name].Lines[i]
				if l.PriceItem == capacity.PriceRESTRequests && l.Region == "us-east-1" {
					assert.InDelta(t, 2*l.USD, a.USD, 1e-9)
					moved++
				} else {
					assert.Equal(t, l.USD, a.USD, "%s %s %s", stack, name, l.Item)
				}
			}
		}
	}
	assert.Equal(t, 3, moved, "us-east-1's REST requests in its normal, failover and spike cases")
}

func TestSpikeHourAboveTheCeilingWarns(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	planned, err := Load("../..", nil)
	require.NoError(t, err)
	costs, err := Cost(planned, prices)
	require.NoError(t, err)
	var committed strings.Builder
	WriteCostSummary(&committed, costs, prices)
	assert.NotContains(t, committed.String(), "WARN", "the committed stacks' spike hour is under their $500")
	costs[0].Ceiling = 100
	var out strings.Builder
	WriteCostSummary(&out, costs, prices)
	assert.Contains(t, out.String(), "WARN the spike hour costs $1")
	assert.Contains(t, out.String(), "above access911:spikeHourCostCeilingUsd 100")
}

// The failover controls, priced for three regions from the embedded table:
// 15 checks at $0.50 plus their options against an ARC cluster's 730 hours.
func TestFailoverControlOptionsArePriced(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	options, err := FailoverControlOptions(3, prices)
	require.NoError(t, err)
	require.Len(t, options, 2)
	ours, arc := options[0], options[1]
	assert.True(t, ours.Chosen)
	assert.Equal(t, 15, ours.HealthChecks)
	// per region (endpoint checks at the non-AWS-endpoint prices): /health 0.75+2+2+2, three control
	// checks at 0.75+2+2+2, a calculated gate 0.50
	assert.InDelta(t, 3*(6.75+3*6.75+0.5), ours.MonthlyUSD, 1e-9)
	assert.InDelta(t, 82.5, ours.MonthlyUSD, 1e-9)
	assert.False(t, arc.Chosen)
	assert.InDelta(t, 2.5*730+3*(6.75+0.5+0.5), arc.MonthlyUSD, 1e-9)
	assert.Greater(t, arc.MonthlyUSD/ours.MonthlyUSD, 20.0, "why the data-plane gates were chosen")
}
