package stacks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/internal/deploy"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// plannedWith plans the three stacks with edit applied to each.
func plannedWith(t *testing.T, edit func(map[string]string)) []deploy.Stack {
	t.Helper()
	var planned []deploy.Stack
	for _, tc := range stackCases {
		_, values := stackFile(t, tc.stack)
		if edit != nil {
			edit(values)
		}
		cfg, err := stackconfig.Parse(values)
		require.NoError(t, err)
		planned = append(planned, deploy.Stack{Result: mustSynthesize(t, tc.stack, edit), Config: cfg})
	}
	return planned
}

// Every resource type any plan creates (the committed stacks, DNS failover
// on, the read cache on) is priced or explicitly free: none is silently
// left out of the cost.
func TestEveryPlannedTypeIsPricedOrFree(t *testing.T) {
	prices, err := deploy.LoadPrices()
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
				_, ok := deploy.ResourcePricing[r.Type]
				assert.True(t, ok, "%s, %s: %s is neither priced nor explicitly free", name, s.Config.Region, r.Type)
			}
		}
		costs, err := deploy.Cost(planned, prices)
		require.NoError(t, err, name)
		for _, c := range costs {
			assert.Empty(t, c.Unpriced, "%s, %s", name, c.Stack)
		}
	}
}
