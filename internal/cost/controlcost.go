package cost

import (
	"fmt"
	"io"

	"github.com/access911/access911-infra/capacity"
)

// ControlOption is one way to gate the failover records on an operator's
// signal, priced by the month for a deployment of some regions.
type ControlOption struct {
	Name         string  `json:"name"`
	Chosen       bool    `json:"chosen"`
	HealthChecks int     `json:"healthChecks"`
	MonthlyUSD   float64 `json:"monthlyUsd"`
	Detail       string  `json:"detail"`
}

// GateChecksPerRegion is how many Route 53 health checks the Failover
// component registers for one region with n readers: its /health, one
// inverted control check per reader, and the CALCULATED gate.
func GateChecksPerRegion(readers int) int { return 1 + readers + 1 }

// FailoverControlOptions prices the two failover controls for n serving
// regions, with DNS failover on: the data-plane gates this project builds
// (each region's /health, an inverted string-matching check of every
// region's GET /control/{region}, a CALCULATED gate), and Route 53 ARC
// routing controls (a cluster billed by the hour, a RECOVERY_CONTROL check
// per region combined with the /health check in a CALCULATED one).
func FailoverControlOptions(n int, prices capacity.PriceTable) ([]ControlOption, error) {
	p := func(item string) (float64, error) {
		pr, err := prices.Of("us-east-1", item) // Route 53 and ARC are global, billed at us-east-1's prices
		return pr.USD, err
	}
	var err error
	get := func(item string) float64 {
		v, e := p(item)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	basic, endpoint, option := get(capacity.PriceRoute53HealthChk), get(capacity.PriceRoute53NonAWS), get(capacity.PriceRoute53OptionNonAWS)
	cluster := get(capacity.PriceARCClusterHour)
	if err != nil {
		return nil, err
	}
	health := endpoint + 3*option  // each region's /health: HTTPS, 10 s, latency
	control := endpoint + 3*option // a reader's inverted control check: HTTPS, string matching, 10 s
	ours := float64(n) * (health + float64(n)*control + basic)
	arc := cluster*hoursPerMonth + float64(n)*(health+basic+basic) // + RECOVERY_CONTROL + CALCULATED
	return []ControlOption{
		{Name: "data-plane gates (built)", Chosen: true, HealthChecks: n * GateChecksPerRegion(n), MonthlyUSD: ours,
			Detail: fmt.Sprintf("per region: /health $%.2f, %d control checks at $%.2f, a calculated gate $%.2f; flipped by a table write", health, n, control, basic)},
		{Name: "ARC routing controls", HealthChecks: 3 * n, MonthlyUSD: arc,
			Detail: fmt.Sprintf("a cluster at $%.2f an hour (%d hours: $%.0f), per region /health, a RECOVERY_CONTROL and a calculated check", cluster, hoursPerMonth, cluster*hoursPerMonth)},
	}, nil
}

// writeControlOptions prints the failover controls' monthly cost.
func writeControlOptions(w io.Writer, n int, prices capacity.PriceTable) {
	options, err := FailoverControlOptions(n, prices)
	if err != nil {
		fmt.Fprintf(w, "  failover control: not priced: %v\n", err)
		return
	}
	fmt.Fprintf(w, "  failover control, a month, once access911:apiHostname is set (%d regions):\n", n)
	for _, o := range options {
		mark := "  "
		if o.Chosen {
			mark = "* "
		}
		fmt.Fprintf(w, "  %s%-26s %10s  %d health checks; %s\n", mark, o.Name, usd(o.MonthlyUSD), o.HealthChecks, o.Detail)
	}
}
