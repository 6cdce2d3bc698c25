package stacks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/cost"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// plannedWith plans the three stacks with edit applied to each.
func plannedWith(t *testing.T, edit func(map[string]string)) []plan.Stack {
	t.Helper()
	var planned []plan.Stack
	for _, tc := range stackCases {
		_, values := stackFile(t, tc.stack)
		if edit != nil {
			edit(values)
		}
		cfg, err := stackconfig.Parse(values)
		require.NoError(t, err)
		planned = append(planned, plan.Stack{Result: mustSynthesize(t, tc.stack, edit), Config: cfg})
	}
	return planned
}

// Every resource type any plan creates (the committed stacks, DNS failover
// on, the read cache on) is priced or explicitly free: none is silently
// left out of the cost.
func TestEveryPlannedTypeIsPricedOrFree(t *testing.T) {
	prices, err := capacity.LoadPrices()
	require.NoError(t, err)
	topologies := map[string]func(map[string]string){
		"committed":      nil,
		"dns failover":   withDNS(map[string]string{stackconfig.KeyAlarmEmail: "oncall@example.org"}),
		"the read cache": withValkey,
	}
	for name, edit := range topologies {
		planned := plannedWith(t, edit)
		for _, s := range planned {
			for _, r := range s.Result.Custom() {
				_, ok := cost.ResourcePricing[r.Type]
				assert.True(t, ok, "%s, %s: %s is neither priced nor explicitly free", name, s.Config.Region, r.Type)
			}
		}
		costs, err := cost.Cost(planned, prices)
		require.NoError(t, err, name)
		for _, c := range costs {
			assert.Empty(t, c.Unpriced, "%s, %s", name, c.Stack)
		}
	}
}

// The capacity check prices the spike hour of each stack and warns (never
// fails) above access911:spikeHourCostCeilingUsd.
func TestSpikeHourCostInTheCapacityCheck(t *testing.T) {
	findings := func(stack string, edit func(map[string]string)) map[string]any {
		res := mustSynthesize(t, stack, edit)
		for _, f := range res.Outputs[contract.OutputCapacityCheck].(map[string]any)["findings"].([]any) {
			if m := f.(map[string]any); m["check"] == "spike hour cost" {
				return m
			}
		}
		t.Fatalf("%s: no spike hour cost line", stack)
		return nil
	}
	active := findings("us-east-1", nil)
	assert.Equal(t, "ok", active["severity"])
	assert.InDelta(t, 151, active["needed"], 1, "the active region's calls and feed for an hour at 1,900/s (with the broadcast markers, $4.3)")
	standby := findings("eu-west-1", nil)
	assert.InDelta(t, 10, standby["needed"], 1, "a standby pays the writes replicated into it")
	over := findings("us-east-1", func(c map[string]string) { c[stackconfig.KeySpikeHourCostCeilingUSD] = "100" })
	assert.Equal(t, "warn", over["severity"], "above the ceiling: a warning, the stack still deploys")
	assert.EqualValues(t, 100, over["configured"])
}
