// Package capacity holds the seed's sizing rules as pure functions, so the
// infrastructure code, the offline plan and the tests share one implementation.
package capacity

import "fmt"

// DynamoDB billing modes as the DynamoDB API spells them. The seed writes
// 'ON_DEMAND', which the API rejects; on-demand is PAY_PER_REQUEST.
const (
	PayPerRequest = "PAY_PER_REQUEST"
	Provisioned   = "PROVISIONED"
)

const (
	// OnDemandThresholdRps: seed 000 line 102, configure_dynamodb_scaling: an expected
	// load above 1000 requests per second selects on-demand billing.
	OnDemandThresholdRps = 1000
	// SpikeFactor: seed 000 line 216, "Plan for Spikes: Design for 10x normal load".
	// Autoscaling may grow provisioned capacity to this multiple of the base.
	SpikeFactor = 10
	// AutoscalingTargetPercent is the target-tracking utilisation for
	// provisioned capacity (AWS's recommended default for DynamoDB is 70 %).
	AutoscalingTargetPercent = 70.0
	// MaxTableCapacityUnits is DynamoDB's default per-table quota for read and
	// for write capacity units; autoscaling never asks for more.
	MaxTableCapacityUnits = 40000
	// MinCapacityUnits is the smallest provisioned capacity DynamoDB accepts.
	MinCapacityUnits = 1
)

// Billing is the decision for the calls table's capacity.
type Billing struct {
	// LoadRps is the load the decision was made for.
	LoadRps int
	// Mode is PayPerRequest or Provisioned.
	Mode string
	// ReadCapacity and WriteCapacity are set only in Provisioned mode.
	ReadCapacity  int
	WriteCapacity int
	// Autoscaling is set only in Provisioned mode.
	Autoscaling *Autoscaling
}

// Autoscaling is an Application Auto Scaling target-tracking range.
type Autoscaling struct {
	Min           int
	Max           int
	TargetPercent float64
}

// DecideBilling applies seed 000's configure_dynamodb_scaling: a load above
// 1000 rps selects on-demand billing (the seed adds point-in-time recovery
// there; the table component enables it in both modes); otherwise
// provisioned capacity with read = write = load/2 (integer division) and
// autoscaling. Capacities are clamped to DynamoDB's minimum of 1 unit and the
// autoscaling ceiling is SpikeFactor times the base, within the table quota.
func DecideBilling(loadRps int) (Billing, error) {
	if loadRps <= 0 {
		return Billing{}, fmt.Errorf("expected load must be a positive number of requests per second, got %d", loadRps)
	}
	if loadRps > OnDemandThresholdRps {
		return Billing{LoadRps: loadRps, Mode: PayPerRequest}, nil
	}
	units := max(loadRps/2, MinCapacityUnits)
	return Billing{
		LoadRps:       loadRps,
		Mode:          Provisioned,
		ReadCapacity:  units,
		WriteCapacity: units,
		Autoscaling: &Autoscaling{
			Min:           units,
			Max:           min(units*SpikeFactor, MaxTableCapacityUnits),
			TargetPercent: AutoscalingTargetPercent,
		},
	}, nil
}

// String describes the decision for people reading the plan.
func (b Billing) String() string {
	if b.Mode == PayPerRequest {
		return fmt.Sprintf("%s (load %d rps > %d)", b.Mode, b.LoadRps, OnDemandThresholdRps)
	}
	return fmt.Sprintf("%s %d RCU / %d WCU, autoscaling %d-%d at %.0f%% (load %d rps <= %d)",
		b.Mode, b.ReadCapacity, b.WriteCapacity, b.Autoscaling.Min, b.Autoscaling.Max,
		b.Autoscaling.TargetPercent, b.LoadRps, OnDemandThresholdRps)
}
