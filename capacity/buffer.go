package capacity

import (
	"fmt"
	"math"
	"time"
)

// Drain concurrency bounds of an SQS event source mapping's maximum
// concurrency.
const (
	MinDrainConcurrency = 2
	MaxDrainConcurrency = 1000
)

// BufferInput is what the intake queue model reads from a stack.
type BufferInput struct {
	// FailoverLoadRps is the normal arrival after a failover; the spike is
	// SpikeFactor times it, cut at RateLimit by the stage throttle.
	FailoverLoadRps int
	RateLimit       float64
	// BatchSize messages per drain invocation, written in parallel, each
	// put taking about PutDuration (the handler's p99).
	BatchSize   int
	PutDuration time.Duration
	// MaxConcurrency of the drain mapping; 0 sizes it for the spike.
	MaxConcurrency int
	// TableWriteRps is what the table takes at once (on-demand: 4000 WCU
	// instantly; provisioned: its write capacity).
	TableWriteRps float64
	SpikeDuration time.Duration
	// MaxReceiveCount and VisibilityTimeout bound how long a queued call is
	// retried before the dead-letter queue; Retention how long it is kept.
	MaxReceiveCount   int
	VisibilityTimeout time.Duration
	Retention         time.Duration
}

// Buffer is the intake queue model's result.
type Buffer struct {
	ArrivalRps       float64 // at the spike, after the stage throttle
	PerInstanceRps   float64 // one drain invocation's throughput
	SizedConcurrency int     // what keeps up with the spike
	Concurrency      int     // configured, or sized
	DrainRps         float64 // min(concurrency x per instance, table)
	BacklogGrowthRps float64
	PeakBacklog      float64
	// DrainTime is how long the backlog takes to clear once the spike ends
	// (math.MaxInt64 when it never does: drain no faster than arrival).
	DrainTime time.Duration
	// OldestAge bounds the age of the oldest queued call.
	OldestAge time.Duration
	// OutageTolerance is the table outage a queued call outlives before it
	// moves to the dead-letter queue (MaxReceiveCount x VisibilityTimeout).
	OutageTolerance time.Duration
	// Scaling is seed 000's calculate_scaling_factor applied minute by
	// minute to the backlog, from MinDrainConcurrency instances.
	Scaling []ScalingStep
}

// ScalingStep is the drain fleet in one minute of the modelled spike.
type ScalingStep struct {
	Minute    int
	Instances int
	Depth     float64 // queue depth at the end of the minute
}

// never marks a backlog that does not drain.
const never = time.Duration(math.MaxInt64)

// ModelBuffer models the intake queue at the 10x spike.
func ModelBuffer(in BufferInput) Buffer {
	b := Buffer{
		ArrivalRps:      math.Min(float64(DesignPeakRps(in.FailoverLoadRps)), in.RateLimit),
		PerInstanceRps:  float64(in.BatchSize) / in.PutDuration.Seconds(),
		OutageTolerance: time.Duration(in.MaxReceiveCount) * in.VisibilityTimeout,
	}
	b.SizedConcurrency = clamp(int(math.Ceil(b.ArrivalRps/b.PerInstanceRps)), MinDrainConcurrency, MaxDrainConcurrency)
	b.Concurrency = in.MaxConcurrency
	if b.Concurrency == 0 {
		b.Concurrency = b.SizedConcurrency
	}
	b.DrainRps = math.Min(float64(b.Concurrency)*b.PerInstanceRps, in.TableWriteRps)
	b.BacklogGrowthRps = math.Max(0, b.ArrivalRps-b.DrainRps)
	b.PeakBacklog = b.BacklogGrowthRps * in.SpikeDuration.Seconds()
	normal := float64(in.FailoverLoadRps)
	switch {
	case b.PeakBacklog == 0:
		b.DrainTime = 0
	case b.DrainRps <= normal:
		b.DrainTime = never
	default:
		b.DrainTime = time.Duration(b.PeakBacklog / (b.DrainRps - normal) * float64(time.Second))
	}
	b.OldestAge = never
	if b.DrainTime != never {
		b.OldestAge = in.SpikeDuration + b.DrainTime
		if b.PeakBacklog == 0 {
			b.OldestAge = time.Duration(float64(in.BatchSize) / b.ArrivalRps * float64(time.Second))
		}
	}
	b.Scaling = seedScaling(in, b)
	return b
}

// seedScaling applies calculate_scaling_factor (more than ScaleUpQueueFactor
// queued per instance: double; fewer than ScaleDownQueueFactor: halve;
// clamped) once a minute over the spike and after it, until the queue is
// back to its steady depth or a day has passed.
func seedScaling(in BufferInput, b Buffer) []ScalingStep {
	instances, depth := MinDrainConcurrency, 0.0
	var steps []ScalingStep
	spikeMinutes := int(in.SpikeDuration / time.Minute)
	for minute := 1; minute <= 24*60; minute++ {
		arrival := float64(in.FailoverLoadRps)
		if minute <= spikeMinutes {
			arrival = b.ArrivalRps
		}
		drain := math.Min(float64(instances)*b.PerInstanceRps, in.TableWriteRps)
		depth = math.Max(0, depth+(arrival-drain)*60)
		switch {
		case depth > float64(ScaleUpQueueFactor*instances):
			instances = clamp(instances*2, MinDrainConcurrency, b.Concurrency)
		case depth < float64(ScaleDownQueueFactor*instances):
			instances = clamp(instances/2, MinDrainConcurrency, b.Concurrency)
		}
		steps = append(steps, ScalingStep{Minute: minute, Instances: instances, Depth: depth})
		if minute > spikeMinutes && depth < float64(ScaleDownQueueFactor*instances) {
			break
		}
	}
	return steps
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// Findings are the model's lines of the capacity check: the drain keeping
// up with the spike (a warning: the queue absorbs the difference) and the
// oldest queued call within the queue's retention (a failure: calls would
// expire unstored).
func (b Buffer) Findings(in BufferInput) []Finding {
	var out []Finding
	sev := "ok"
	if b.DrainRps < b.ArrivalRps {
		sev = "warn"
	}
	out = append(out, Finding{"drain throughput at a 10x spike", b.ArrivalRps, b.DrainRps, "calls/s", sev,
		fmt.Sprintf("%d drain invocations x %s calls/s (batch %d, p99 %s); the queue absorbs %s calls/s, peaking at %s calls after %s",
			b.Concurrency, num(b.PerInstanceRps), in.BatchSize, in.PutDuration, num(b.BacklogGrowthRps), num(b.PeakBacklog), in.SpikeDuration)})
	// Clearing the backlog before the oldest call expires needs a drain
	// faster than normal arrival by backlog / (retention - spike).
	window := (in.Retention - in.SpikeDuration).Seconds()
	needed := float64(in.FailoverLoadRps) + b.PeakBacklog/math.Max(window, 1)
	detail := fmt.Sprintf("oldest queued call about %s old (spike %s, then the backlog drains in %s at %s calls/s over the normal %d); retention %s",
		b.OldestAge.Round(time.Minute), in.SpikeDuration, b.DrainTime.Round(time.Second), num(b.DrainRps), in.FailoverLoadRps, in.Retention)
	if b.PeakBacklog == 0 {
		detail = fmt.Sprintf("no backlog: the drain (%s calls/s) outruns the spike; retention %s", num(b.DrainRps), in.Retention)
	}
	if b.OldestAge == never || b.OldestAge > in.Retention {
		detail = fmt.Sprintf("the drain (%s calls/s) cannot clear the backlog before calls expire after %s", num(b.DrainRps), in.Retention)
	}
	sev = "ok"
	if b.DrainRps < needed || b.OldestAge == never || b.OldestAge > in.Retention {
		sev = "fail"
	}
	out = append(out, Finding{"queue backlog clears within retention", math.Ceil(needed), b.DrainRps, "calls/s", sev, detail})
	return out
}
