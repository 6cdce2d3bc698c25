package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// committed mirrors the committed stacks: seed defaults and a failover load
// of 190 rps.
func committed() CheckInput {
	b, _ := DecideBilling(DesignPeakRps(190))
	return CheckInput{
		FailoverLoadRps: 190, RateLimit: 2000, BurstLimit: 5000,
		ReservedConcurrency: 100, MemoryMB: 512, Timeout: 30 * time.Second,
		P99Duration: DefaultP99Duration, Billing: b,
	}
}

func finding(t *testing.T, r Report, check string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check {
			return f
		}
	}
	t.Fatalf("no finding %q in %v", check, r.Findings)
	return Finding{}
}

func TestCheckCommittedConfigPasses(t *testing.T) {
	r := Check(committed(), ModeEnforce)
	require.NoError(t, r.Err())
	assert.Empty(t, r.Failures())
	tests := []struct {
		check              string
		needed, configured float64
		severity           string
	}{
		{"concurrency at the API rate limit", 90, 100, "ok"}, // 2000 rps x 45 ms
		{"API rate limit after failover", 190, 2000, "ok"},
		{"API rate limit at a 10x spike", 1900, 2000, "ok"},
		{"concurrency at a 10x spike", 86, 100, "ok"}, // ceil(1900 x 0.045)
		{"concurrency for a full burst", 225, 100, "warn"},
		{"on-demand writes at a 10x spike", 950, 4000, "ok"},
		{"Lambda timeout within API Gateway's", 30, 29, "warn"},
		{"seed memory rule", 256, 512, "warn"},
	}
	for _, tc := range tests {
		f := finding(t, r, tc.check)
		assert.Equal(t, tc.needed, f.Needed, tc.check)
		assert.Equal(t, tc.configured, f.Configured, tc.check)
		assert.Equal(t, tc.severity, f.Severity, tc.check)
	}
}

func TestCheckFailures(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*CheckInput)
		check string
		msg   string
	}{
		{"rate x duration exceeds concurrency", func(in *CheckInput) { in.ReservedConcurrency = 50 },
			"concurrency at the API rate limit", "needed 90 executions, configured 50 executions"},
		{"slow handler", func(in *CheckInput) { in.P99Duration = 80 * time.Millisecond },
			"concurrency at the API rate limit", "needed 160 executions, configured 100 executions"},
		{"failover load above the rate limit", func(in *CheckInput) { in.FailoverLoadRps = 2500 },
			"API rate limit after failover", "needed 2500 rps, configured 2000 rps"},
		{"spike above the rate limit", func(in *CheckInput) { in.FailoverLoadRps = 250 },
			"API rate limit at a 10x spike", "needed 2500 rps, configured 2000 rps"},
		{"provisioned ceiling below the spike", func(in *CheckInput) {
			in.Billing = Billing{Mode: Provisioned, ReadCapacity: 10, WriteCapacity: 10, Autoscaling: &Autoscaling{Min: 10, Max: 100, TargetPercent: 70}}
		}, "table write capacity at a 10x spike", "needed 950 WCU, configured 100 WCU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := committed()
			tc.edit(&in)
			r := Check(in, ModeEnforce)
			assert.Equal(t, "fail", finding(t, r, tc.check).Severity)
			err := r.Err()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), "capacityCheck: warn")

			warned := Check(in, ModeWarn)
			assert.NoError(t, warned.Err(), "warn mode reports but does not fail")
			assert.NotEmpty(t, warned.Failures())
		})
	}
}

func TestProvisionedTableFromTheSeedRuleCarriesItsLoad(t *testing.T) {
	in := committed()
	in.FailoverLoadRps = 90
	b, err := DecideBilling(DesignPeakRps(90))
	require.NoError(t, err)
	in.Billing = b
	r := Check(in, ModeEnforce)
	require.NoError(t, r.Err())
	assert.Equal(t, 45.0, finding(t, r, "table write capacity after failover").Needed)
	assert.Equal(t, 450.0, finding(t, r, "table write capacity after failover").Configured)
	assert.Equal(t, 4500.0, finding(t, r, "table write capacity at a 10x spike").Configured)
}
