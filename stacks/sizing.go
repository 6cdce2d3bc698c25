package stacks

import (
	"math"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// The adapters from a stack's configuration to the capacity models: what
// the program sizes before it registers anything, and what plan, cost and
// the capacity check read, so stack.go holds only the region being built.

// Size is what a stack's configuration sizes before anything is
// registered: the table's billing, the intake queue model and the capacity
// check over both.
type Size struct {
	Billing capacity.Billing
	Buffer  capacity.Buffer
	Report  capacity.Report
}

// Sizing decides billing, models the intake queue and runs the check.
func Sizing(cfg stackconfig.Config) (Size, error) { return sizing(cfg, Features{}) }

// sizing is Sizing of a region with these parts: what is left out is not
// checked, and not priced.
func sizing(cfg stackconfig.Config, parts Features) (Size, error) {
	billing, err := TableBilling(cfg)
	if err != nil {
		return Size{}, err
	}
	in := BufferInput(cfg, billing)
	buffer := capacity.ModelBuffer(in)
	report := CapacityReport(cfg, billing)
	if !parts.NoIntakeQueue {
		report.Findings = append(report.Findings, buffer.Findings(in)...)
	}
	if !parts.NoFeed {
		feed := FeedInput(cfg)
		report.Findings = append(report.Findings, capacity.ModelFeed(feed).Findings(feed)...)
		for _, load := range FeedLoads(cfg) {
			report.Findings = append(report.Findings, capacity.ModelFeedLoad(load.Input).Findings(load.Input, load.Name)...)
		}
	}
	if cfg.ReadCache.Enabled() {
		in := ReadCacheInput(cfg)
		report.Findings = append(report.Findings, capacity.ModelReadCache(in).Findings(in, "at a 10x spike")...)
	}
	report.Findings = append(report.Findings, spikeHourCost(cfg, parts))
	return Size{Billing: billing, Buffer: buffer, Report: report}, nil
}

// CallLoad is the cost model's view of a stack's calls: rps for hours
// through this stack's API, function, table, archive and feed (spike: the
// read cache's reads at the model's spike).
func CallLoad(cfg stackconfig.Config, rps, hours float64, spike bool) capacity.CallLoad {
	in := capacity.CallLoad{Region: cfg.Region, ArchiveReplicaRegion: cfg.ArchiveReplicaRegion, Rps: rps, Hours: hours,
		P99Ms: cfg.ExpectedP99Ms, MemoryMB: cfg.LambdaMemoryMB, DNS: cfg.DNSEnabled(), Spike: spike}
	loads := FeedLoads(cfg)
	in.Feed = loads[len(loads)-1].Input
	if cfg.ReadCache.Enabled() {
		rc := ReadCacheInput(cfg)
		in.Cache = &rc
	}
	return in
}

// SpikeHourCost prices this stack's hour of the 10x spike: the calls and
// the feed if it is the active region, else the writes the active region's
// calls replicate into it.
func SpikeHourCost(cfg stackconfig.Config) capacity.Finding { return spikeHourCost(cfg, Features{}) }

func spikeHourCost(cfg stackconfig.Config, parts Features) capacity.Finding {
	prices, err := capacity.LoadPrices()
	b := &capacity.CostBuilder{Prices: prices, Err: err}
	peak := float64(capacity.DesignPeakRps(cfg.FailoverLoadRps))
	if cfg.IsActive() {
		load := CallLoad(cfg, peak, 1, true)
		if parts.NoFeed {
			load.Feed = capacity.FeedLoadInput{}
		}
		b.Calls(load)
	} else {
		b.Replicated(cfg.Region, cfg.ActiveRegion, peak*3600)
	}
	return capacity.SpikeHourFinding(b, cfg.SpikeHourCostCeilingUSD)
}

// ReadCacheInput is the read cache model's view of a stack at the 10x
// spike: reads at the stage's rate limit, the spike's new calls.
func ReadCacheInput(cfg stackconfig.Config) capacity.ReadCacheInput {
	rc := cfg.ReadCache
	return capacity.ReadCacheInput{ReadRps: float64(cfg.APIThrottleRateRps), WriteRps: float64(capacity.DesignPeakRps(cfg.FailoverLoadRps)),
		TTL: time.Duration(rc.TTLSeconds) * time.Second, MaxECPU: rc.MaxECPUPerSecond, MaxDataGB: rc.MaxDataGB}
}

// BufferInput is the intake queue model's view of a stack: the spike after
// the stage throttle, the drain mapping's batch and concurrency, what the
// table takes at once, and the queue's redrive and retention.
func BufferInput(cfg stackconfig.Config, billing capacity.Billing) capacity.BufferInput {
	tableWrites := float64(capacity.OnDemandInstantWCU)
	if billing.Mode == capacity.Provisioned {
		tableWrites = float64(billing.WriteCapacity)
	}
	return capacity.BufferInput{
		FailoverLoadRps: cfg.FailoverLoadRps, RateLimit: float64(cfg.APIThrottleRateRps),
		BatchSize: cfg.IntakeBatchSize, PutDuration: time.Duration(cfg.ExpectedP99Ms) * time.Millisecond,
		MaxConcurrency: cfg.DrainMaxConcurrency, TableWriteRps: tableWrites,
		SpikeDuration:     time.Duration(cfg.SpikeMinutes) * time.Minute,
		MaxReceiveCount:   cfg.IntakeMaxReceiveCount,
		VisibilityTimeout: time.Duration(capacity.VisibilityTimeoutFactor*capacity.TimeoutSeconds) * time.Second,
		Retention:         capacity.QueueRetentionDays * 24 * time.Hour,
	}
}

// intakeOutput is the intake queue model, for the plan.
func intakeOutput(cfg stackconfig.Config, b capacity.Buffer) pulumi.Map {
	steps := pulumi.Array{}
	for _, s := range b.Scaling {
		steps = append(steps, pulumi.Map{"minute": pulumi.Int(s.Minute), "instances": pulumi.Int(s.Instances), "depth": pulumi.Float64(s.Depth)})
	}
	return pulumi.Map{
		"mode": pulumi.String(cfg.IntakeMode), "arrivalRps": pulumi.Float64(b.ArrivalRps),
		"perInstanceRps": pulumi.Float64(b.PerInstanceRps), "drainConcurrency": pulumi.Int(b.Concurrency),
		"sizedConcurrency": pulumi.Int(b.SizedConcurrency), "drainRps": pulumi.Float64(b.DrainRps),
		"peakBacklog": pulumi.Float64(b.PeakBacklog), "drainSeconds": pulumi.Float64(b.DrainTime.Seconds()),
		"outageToleranceSeconds": pulumi.Float64(b.OutageTolerance.Seconds()), "scaling": steps,
	}
}

// FeedInput is the dispatcher feed model's view of a stack.
func FeedInput(cfg stackconfig.Config) capacity.FeedInput {
	f := cfg.Feed
	return capacity.FeedInput{Connections: f.Connections, Partitions: f.Partitions, Queues: f.Queues,
		QueryBatchSize: f.QueryBatchSize, QueryConcurrency: f.QueryConcurrency, PostRateLimit: float64(f.PostRateLimit),
		Target: time.Duration(f.DeliveryTargetMs) * time.Millisecond}
}

// FeedLoad is the sustained feed at one load.
type FeedLoad struct {
	Name  string
	Input capacity.FeedLoadInput
}

// FeedLoads are the sustained feed after a failover (the active region
// takes every region's calls) and at its 10x spike.
func FeedLoads(cfg stackconfig.Config) []FeedLoad {
	f := cfg.Feed
	in := func(rate float64) capacity.FeedLoadInput {
		return capacity.FeedLoadInput{CallRate: rate, Dispatchers: f.Connections, Areas: f.Areas, Supervisors: f.Supervisors,
			PerArea: f.PartitionsPerArea, Partitions: f.Partitions, Queues: f.Queues, QueryBatchSize: f.QueryBatchSize,
			QueryConcurrency: f.QueryConcurrency, BatchSize: capacity.FeedStreamBatchSize, Window: capacity.FeedStreamBatchingWindow,
			PostRateLimit: float64(f.PostRateLimit), Target: time.Duration(f.DeliveryTargetMs) * time.Millisecond,
			APIRequests: math.Min(rate, float64(cfg.APIThrottleRateRps))}
	}
	return []FeedLoad{
		{"after a failover", in(float64(cfg.FailoverLoadRps))},
		{"at a 10x spike", in(float64(capacity.DesignPeakRps(cfg.FailoverLoadRps)))},
	}
}

// feedOutput is the feed's model of one broadcast, for the plan (its
// findings are part of the capacity check).
func feedOutput(cfg stackconfig.Config) pulumi.Map {
	in := FeedInput(cfg)
	m := capacity.ModelFeed(in)
	return pulumi.Map{
		"connections": pulumi.Int(in.Connections), "partitions": pulumi.Int(in.Partitions), "queues": pulumi.Int(in.Queues),
		"perPartition": pulumi.Int(m.PerPartition), "waves": pulumi.Int(m.Waves),
		"swarmMs": pulumi.Int(int(m.Swarm.Milliseconds())), "computeMs": pulumi.Int(int(m.ComputeBound.Milliseconds())),
		"rateBoundMs": pulumi.Int(int(m.RateBound.Milliseconds())), "deliveryMs": pulumi.Int(int(m.Delivery.Milliseconds())),
		"targetMs": pulumi.Int(int(in.Target.Milliseconds())), "partitionsForHundredEach": pulumi.Int(m.PartitionsSized),
		"mappingConcurrency": pulumi.Int(capacity.FeedMappingConcurrency(in.QueryConcurrency, in.Queues)),
		"loads":              feedLoadsOutput(cfg),
	}
}

// feedLoadsOutput is the sustained feed's figures at each load, for the plan.
func feedLoadsOutput(cfg stackconfig.Config) pulumi.Array {
	out := pulumi.Array{}
	for _, l := range FeedLoads(cfg) {
		m := capacity.ModelFeedLoad(l.Input)
		out = append(out, pulumi.Map{
			"name": pulumi.String(l.Name), "callRate": pulumi.Float64(l.Input.CallRate), "streams": pulumi.Int(m.Streams),
			"activeAreas": pulumi.Float64(math.Round(m.ActiveAreas)), "areas": pulumi.Int(l.Input.Areas),
			"messages": pulumi.Float64(math.Ceil(m.Messages)), "invocations": pulumi.Float64(math.Ceil(m.Invocations)),
			"posts": pulumi.Float64(math.Ceil(m.Posts)), "postRateLimit": pulumi.Float64(l.Input.PostRateLimit),
			"workers": pulumi.Float64(math.Ceil(m.Workers)), "deliveryMs": pulumi.Int(int(m.Delivery.Milliseconds())),
		})
	}
	return out
}

// TableBilling decides the global table's billing once, identically in every
// stack: replicas share billing mode and write capacity, the active region
// carries every region's callers after a failover, and the platform is
// designed for 10x spikes, so the seed's rule is applied to the design peak.
func TableBilling(cfg stackconfig.Config) (capacity.Billing, error) {
	return capacity.DecideBilling(capacity.DesignPeakRps(cfg.FailoverLoadRps))
}

// CapacityReport runs the capacity consistency check on a stack's config.
func CapacityReport(cfg stackconfig.Config, billing capacity.Billing) capacity.Report {
	return capacity.Check(capacity.CheckInput{
		FailoverLoadRps:     cfg.FailoverLoadRps,
		RateLimit:           float64(cfg.APIThrottleRateRps),
		BurstLimit:          cfg.APIThrottleBurst,
		ReservedConcurrency: cfg.LambdaReservedConcurrency,
		MemoryMB:            cfg.LambdaMemoryMB,
		Timeout:             time.Duration(cfg.LambdaTimeoutSeconds) * time.Second,
		P99Duration:         time.Duration(cfg.ExpectedP99Ms) * time.Millisecond,
		Billing:             billing,
	}, cfg.CapacityCheck)
}

// billingOutput is the billing decision, so the plan reads it from the
// stack instead of deciding again.
func billingOutput(b capacity.Billing) pulumi.Map {
	return pulumi.Map{
		"mode": pulumi.String(b.Mode), "summary": pulumi.String(b.String()),
		"designPeakRps": pulumi.Int(b.LoadRps),
	}
}

func capacityOutput(r capacity.Report) pulumi.Map {
	findings := pulumi.Array{}
	for _, f := range r.Findings {
		findings = append(findings, pulumi.Map{
			"check": pulumi.String(f.Check), "needed": pulumi.Float64(f.Needed), "configured": pulumi.Float64(f.Configured),
			"unit": pulumi.String(f.Unit), "severity": pulumi.String(f.Severity), "detail": pulumi.String(f.Detail),
		})
	}
	return pulumi.Map{"mode": pulumi.String(r.Mode), "findings": findings}
}
