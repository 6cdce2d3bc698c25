package capacity

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/access911/access911-infra/contract"
)

// Capacity-check modes.
const (
	ModeEnforce = "enforce"
	ModeWarn    = "warn"
)

const (
	// DefaultP99Duration is the p99 handler duration assumed when the stack
	// does not give a measured one. A warm Go Lambda doing one DynamoDB write
	// runs well under this (seed 002 reports a 27 ms median for Go on Lambda
	// at 1500 users); Little's law turns it into the concurrency needed.
	DefaultP99Duration = 45 * time.Millisecond
	// WriteFraction: seed 000 provisions read = write = load/2, i.e. it
	// assumes half the requests write.
	WriteFraction = 0.5
	// OnDemandInstantWCU is what a new on-demand table serves at once
	// (4,000 writes/s); beyond it DynamoDB scales over minutes.
	OnDemandInstantWCU = 4000
)

// CheckInput is everything the capacity check reads from one stack.
type CheckInput struct {
	FailoverLoadRps     int
	RateLimit           float64 // API stage steady rate, requests/s
	BurstLimit          int     // API stage burst (token bucket size)
	ReservedConcurrency int
	MemoryMB            int
	Timeout             time.Duration
	P99Duration         time.Duration
	Billing             Billing
}

// Finding is one line of the capacity report.
type Finding struct {
	Check      string  `json:"check"`
	Needed     float64 `json:"needed"`
	Configured float64 `json:"configured"`
	Unit       string  `json:"unit"`
	// Severity: "ok", "warn" (reported, never fails) or "fail".
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// Report is the capacity check of one stack.
type Report struct {
	Mode     string    `json:"mode"`
	Findings []Finding `json:"findings"`
}

// Failures are the findings that fail the stack in enforce mode.
func (r Report) Failures() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == "fail" {
			out = append(out, f)
		}
	}
	return out
}

// Err is non-nil when the report has failures and the mode enforces them.
func (r Report) Err() error {
	fails := r.Failures()
	if len(fails) == 0 || r.Mode == ModeWarn {
		return nil
	}
	lines := make([]string, len(fails))
	for i, f := range fails {
		lines[i] = "  " + f.String()
	}
	return fmt.Errorf("capacity check failed (set access911:capacityCheck: warn to deploy anyway):\n%s", strings.Join(lines, "\n"))
}

func (f Finding) String() string {
	return fmt.Sprintf("%-4s %-37s needed %s %s, configured %s %s: %s",
		strings.ToUpper(f.Severity), f.Check, num(f.Needed), f.Unit, num(f.Configured), f.Unit, f.Detail)
}

func num(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

// DesignPeakRps is the load the platform is designed for: seed 000, "Plan for
// Spikes: Design for 10x normal load", applied to what the active region
// carries after a failover.
func DesignPeakRps(failoverLoadRps int) int { return failoverLoadRps * SpikeFactor }

// Check runs the capacity consistency check.
//
// Little's law: concurrent executions = arrival rate x duration. API Gateway
// admits up to RateLimit requests/s, so the Lambda needs RateLimit x p99
// executions in flight; more than the reserved concurrency and Lambda
// throttles requests API Gateway has already accepted.
func Check(in CheckInput, mode string) Report {
	r := Report{Mode: mode}
	add := func(check string, needed, configured float64, unit, fail, detail string) {
		sev := "ok"
		if needed > configured {
			sev = fail
		}
		r.Findings = append(r.Findings, Finding{check, needed, configured, unit, sev, detail})
	}
	d := in.P99Duration.Seconds()
	peak := float64(DesignPeakRps(in.FailoverLoadRps))

	add("concurrency at the API rate limit", math.Ceil(in.RateLimit*d), float64(in.ReservedConcurrency), "executions", "fail",
		fmt.Sprintf("Little's law: %s rps x p99 %s", num(in.RateLimit), in.P99Duration))
	add("API rate limit after failover", float64(in.FailoverLoadRps), in.RateLimit, "rps", "fail",
		"the active region carries every region's callers")
	add("API rate limit at a 10x spike", peak, in.RateLimit, "rps", "fail",
		fmt.Sprintf("%d x failover load %d rps; above the limit callers get 429", SpikeFactor, in.FailoverLoadRps))
	add("concurrency at a 10x spike", math.Ceil(math.Min(peak, in.RateLimit)*d), float64(in.ReservedConcurrency), "executions", "fail",
		fmt.Sprintf("Little's law: min(spike, rate limit) rps x p99 %s", in.P99Duration))
	add("concurrency for a full burst", math.Ceil(float64(in.BurstLimit)*d), float64(in.ReservedConcurrency), "executions", "warn",
		fmt.Sprintf("%d requests arriving within one second; Lambda throttles the excess and API Gateway answers 5xx", in.BurstLimit))

	peakWrites := math.Ceil(peak * WriteFraction)
	switch in.Billing.Mode {
	case Provisioned:
		add("table write capacity after failover", math.Ceil(float64(in.FailoverLoadRps)*WriteFraction), float64(in.Billing.WriteCapacity), "WCU", "fail",
			fmt.Sprintf("%.0f %% of requests write", WriteFraction*100))
		ceiling := 0.0
		if in.Billing.Autoscaling != nil {
			ceiling = float64(in.Billing.Autoscaling.Max)
		}
		add("table write capacity at a 10x spike", peakWrites, ceiling, "WCU", "fail",
			"autoscaling ceiling; it reacts in minutes, so the base capacity must carry the first minutes of a spike")
	case PayPerRequest:
		add("on-demand writes at a 10x spike", peakWrites, OnDemandInstantWCU, "WCU", "warn",
			"a new on-demand table serves 4000 writes/s at once and doubles its previous peak; pre-warm above that")
	}

	timeout := in.Timeout.Seconds()
	add("Lambda timeout within API Gateway's", timeout, contract.IntegrationTimeout.Seconds(), "s", "warn",
		fmt.Sprintf("API Gateway answers 504 at %.0f s while the function runs on", contract.IntegrationTimeout.Seconds()))
	if suggested := OptimizeMemory(in.P99Duration, in.MemoryMB); suggested != in.MemoryMB {
		r.Findings = append(r.Findings, Finding{"seed memory rule", float64(suggested), float64(in.MemoryMB), "MB", "warn",
			fmt.Sprintf("optimize_memory_configuration at %s suggests %d MB; measure before changing", in.P99Duration, suggested)})
	}
	return r
}

// String renders the report for the plan.
func (r Report) String() string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}
