package capacity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecideBilling(t *testing.T) {
	tests := []struct {
		name     string
		load     int
		mode     string
		units    int
		scaleMax int
	}{
		{name: "just above the seed threshold is on-demand", load: 1001, mode: PayPerRequest},
		{name: "far above the threshold is on-demand", load: 2600, mode: PayPerRequest},
		{name: "exactly 1000 stays provisioned", load: 1000, mode: Provisioned, units: 500, scaleMax: 5000},
		{name: "odd load uses integer division", load: 701, mode: Provisioned, units: 350, scaleMax: 3500},
		{name: "small load", load: 40, mode: Provisioned, units: 20, scaleMax: 200},
		{name: "load of one is clamped to DynamoDB's minimum", load: 1, mode: Provisioned, units: 1, scaleMax: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecideBilling(tc.load)
			require.NoError(t, err)
			assert.Equal(t, tc.load, b.LoadRps)
			assert.Equal(t, tc.mode, b.Mode)
			if tc.mode == PayPerRequest {
				assert.Zero(t, b.ReadCapacity)
				assert.Zero(t, b.WriteCapacity)
				assert.Nil(t, b.Autoscaling)
				return
			}
			assert.Equal(t, tc.units, b.ReadCapacity)
			assert.Equal(t, tc.units, b.WriteCapacity)
			require.NotNil(t, b.Autoscaling)
			assert.Equal(t, tc.units, b.Autoscaling.Min)
			assert.Equal(t, tc.scaleMax, b.Autoscaling.Max)
			assert.Equal(t, 70.0, b.Autoscaling.TargetPercent)
		})
	}
}

func TestDecideBillingCapsAutoscalingAtTableQuota(t *testing.T) {
	// Not reachable from the seed rule today (provisioned stops at 1000 rps),
	// but the cap must hold if the threshold ever moves.
	b, err := DecideBilling(OnDemandThresholdRps)
	require.NoError(t, err)
	assert.LessOrEqual(t, b.Autoscaling.Max, MaxTableCapacityUnits)
}

func TestDecideBillingRejectsNonPositiveLoad(t *testing.T) {
	for _, load := range []int{0, -1, -5000} {
		_, err := DecideBilling(load)
		require.Error(t, err, "load %d", load)
		assert.Contains(t, err.Error(), "positive")
	}
}
