package cost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/internal/plan"
	"slices"
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
	planned, err := plan.Load("../..", nil)
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
	planned, err := plan.Load("../..", nil)
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

// The resources that cost nothing are counted and named with the reason,
// in the summary `plan` prints, in the full table and in the JSON.
func TestFreeResourcesAreShown(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	planned, err := plan.Load("../..", nil)
	require.NoError(t, err)
	costs, err := Cost(planned, prices)
	require.NoError(t, err)
	for _, sc := range costs {
		n, m := sc.FreeCount()
		assert.Positive(t, n, sc.Stack)
		assert.Equal(t, len(sc.Free), m)
		roles := slices.IndexFunc(sc.Free, func(f FreeType) bool { return f.Type == "aws:iam/role:Role" })
		require.GreaterOrEqual(t, roles, 0)
		assert.Equal(t, "IAM costs nothing", sc.Free[roles].Reason)
		assert.Positive(t, sc.Free[roles].Count)
		for _, f := range sc.Free {
			assert.True(t, strings.HasPrefix(ResourcePricing[f.Type], "free"), f.Type)
			assert.NotContains(t, f.Type, "pulumi:providers", "providers are not AWS resources")
		}
		priced := 0
		for _, r := range sc.Free {
			priced += r.Count
		}
		assert.Equal(t, n, priced)
	}
	var summary, table, js bytes.Buffer
	WriteCostSummary(&summary, costs, prices)
	n, m := costs[0].FreeCount()
	assert.Contains(t, summary.String(), fmt.Sprintf("%d resources free (%d types;", n, m))
	WriteCostTable(&table, costs, prices)
	assert.Contains(t, table.String(), fmt.Sprintf("us-east-1: %d resources free (%d types):", n, m))
	assert.Contains(t, table.String(), "aws:iam/role:Role")
	require.NoError(t, WriteCostJSON(&js, costs, prices))
	var doc struct {
		Stacks []struct{ Free []FreeType }
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	assert.Equal(t, costs[0].Free, doc.Stacks[0].Free)
}

// What a standby already holds is in every case, the idle month included:
// its replica of 50,000 calls a day for 400 days and their index entries
// (1 KB each: 40 GB), that replica's point-in-time recovery (20 GB), and its
// own calls' archive and replica for the 30 days in STANDARD.
func TestEveryCaseCountsWhatTheRegionHolds(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	costs := committedCosts(t, prices)
	idle := costs["us-west-2"][CaseIdle]
	held := func(item string) capacity.CostLine {
		for _, l := range idle.Lines {
			if strings.HasPrefix(l.Item, item) {
				return l
			}
		}
		t.Fatalf("no line %q in %s", item, CaseIdle)
		return capacity.CostLine{}
	}
	table := held("stored calls held (50000 a day for 400 days")
	assert.InDelta(t, 2*50000*400*1.0/1e6, table.Quantity, 1e-9, "GB-months: the calls and their index entries")
	assert.Equal(t, "us-west-2", table.Region)
	pitr := held("point-in-time recovery of the calls held")
	assert.InDelta(t, 50000*400*1.0/1e6, pitr.Quantity, 1e-9)
	archive := held("archive held in STANDARD (this region's calls, 30 days)")
	assert.InDelta(t, 50000*60.0/190*30/1e6, archive.Quantity, 1e-9, "us-west-2's share (60 of 190 rps) for 30 days")
	replica := held("replica held in STANDARD in us-east-2")
	assert.Equal(t, "us-east-2", replica.Region)
	spike := costs["us-west-2"][CaseSpike]
	for _, l := range spike.Lines {
		if strings.HasPrefix(l.Item, "stored calls held") {
			assert.InDelta(t, table.Quantity/730, l.Quantity, 1e-9, "an hour of it in the spike hour")
		}
	}
}
