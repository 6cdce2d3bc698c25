package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func committedBuffer() BufferInput {
	return BufferInput{
		FailoverLoadRps: 190, RateLimit: 2000, BatchSize: 10, PutDuration: 45 * time.Millisecond,
		TableWriteRps: OnDemandInstantWCU, SpikeDuration: time.Hour,
		MaxReceiveCount: 5, VisibilityTimeout: 180 * time.Second, Retention: 14 * 24 * time.Hour,
	}
}

func TestBufferSizedForTheCommittedSpike(t *testing.T) {
	b := ModelBuffer(committedBuffer())
	assert.Equal(t, 1900.0, b.ArrivalRps, "10 x 190 rps, under the 2000 rps stage limit")
	assert.InDelta(t, 222.2, b.PerInstanceRps, 0.1, "a batch of 10 parallel puts per 45 ms")
	assert.Equal(t, 9, b.SizedConcurrency, "ceil(1900 / 222.2)")
	assert.Equal(t, 9, b.Concurrency)
	assert.InDelta(t, 2000, b.DrainRps, 0.1)
	assert.Zero(t, b.BacklogGrowthRps, "the sized drain keeps up: no backlog")
	assert.Equal(t, 15*time.Minute, b.OutageTolerance, "5 receives x 180 s before the dead-letter queue")
	for _, f := range b.Findings(committedBuffer()) {
		assert.Equal(t, "ok", f.Severity, f.String())
	}
}

func TestBufferModel(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*BufferInput)
		growth      float64
		peak        float64
		drain       time.Duration
		throughput  string
		retention   string
		concurrency int
	}{
		{"two drainers fall behind, then catch up", func(in *BufferInput) { in.MaxConcurrency = 2 },
			1900 - 2*222.22222222222223, (1900 - 2*222.22222222222223) * 3600, seconds((1900 - 2*222.22222222222223) * 3600 / (2*222.22222222222223 - 190)),
			"warn", "ok", 2},
		{"the table caps the drain", func(in *BufferInput) { in.MaxConcurrency = 20; in.TableWriteRps = 1000 },
			900, 900 * 3600, seconds(900 * 3600 / (1000 - 190.0)), "warn", "ok", 20},
		{"a drain slower than normal arrival never clears", func(in *BufferInput) { in.MaxConcurrency = 2; in.TableWriteRps = 150 },
			1750, 1750 * 3600, never, "warn", "fail", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := committedBuffer()
			tt.edit(&in)
			b := ModelBuffer(in)
			assert.Equal(t, tt.concurrency, b.Concurrency)
			assert.InDelta(t, tt.growth, b.BacklogGrowthRps, 0.01)
			assert.InDelta(t, tt.peak, b.PeakBacklog, 1)
			assert.InDelta(t, float64(tt.drain), float64(b.DrainTime), float64(time.Second))
			f := b.Findings(in)
			require.Len(t, f, 2)
			assert.Equal(t, tt.throughput, f[0].Severity, f[0].String())
			assert.Equal(t, tt.retention, f[1].Severity, f[1].String())
		})
	}
}

// Seed 000's calculate_scaling_factor, minute by minute: more than 10
// queued per instance doubles the fleet, fewer than 5 halves it, within
// [2, the mapping's maximum].
func TestSeedScalingOverTheSpike(t *testing.T) {
	in := committedBuffer()
	in.SpikeDuration = 10 * time.Minute
	b := ModelBuffer(in)
	require.NotEmpty(t, b.Scaling)
	assert.Equal(t, 4, b.Scaling[0].Instances, "2 instances fall behind in minute 1: doubled")
	assert.Equal(t, 8, b.Scaling[1].Instances)
	assert.Equal(t, 9, b.Scaling[2].Instances, "capped at the mapping's maximum")
	last := b.Scaling[len(b.Scaling)-1]
	assert.Greater(t, last.Minute, 10, "the model runs past the spike until the queue is back to steady depth")
	assert.Less(t, last.Depth, float64(ScaleDownQueueFactor*last.Instances))
	for _, s := range b.Scaling {
		assert.GreaterOrEqual(t, s.Instances, MinDrainConcurrency)
		assert.LessOrEqual(t, s.Instances, b.Concurrency)
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
