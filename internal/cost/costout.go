package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/access911/access911-infra/capacity"
)

// biggest are a case's n most expensive lines, most first.
func (c CostCase) biggest(n int) []CostLine {
	lines := slices.Clone(c.Lines)
	slices.SortStableFunc(lines, func(a, b CostLine) int {
		switch {
		case a.USD > b.USD:
			return -1
		case a.USD < b.USD:
			return 1
		}
		return 0
	})
	return lines[:min(n, len(lines))]
}

func usd(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("$%.0f", v)
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.4f", v)
}

// spike is the stack's spike hour cost.
func (sc StackCost) spike() float64 {
	for _, c := range sc.Cases {
		if c.Name == CaseSpike {
			return c.Total()
		}
	}
	return 0
}

// WriteCostSummary prints, per stack, each case's total and its three
// biggest lines, then the three stacks' totals: what `plan` shows.
func WriteCostSummary(w io.Writer, costs []StackCost, prices capacity.PriceTable) {
	fmt.Fprintf(w, "cost (prices of %s, On-Demand, free tiers ignored; `access911 cost` has every line and its source):\n", prices.Date)
	totals := map[string]float64{}
	for _, sc := range costs {
		fmt.Fprintf(w, "  %s\n", sc.Stack)
		for _, c := range sc.Cases {
			totals[c.Name] += c.Total()
			var top []string
			for _, l := range c.biggest(3) {
				top = append(top, fmt.Sprintf("%s %s %s", l.Service, l.Item, usd(l.USD)))
			}
			fmt.Fprintf(w, "    %-20s %10s  biggest: %s\n", c.Name, usd(c.Total()), joinOr(top, "none"))
		}
		n, m := sc.FreeCount()
		fmt.Fprintf(w, "    %d resources free (%d types; `access911 cost` lists them)\n", n, m)
		if len(sc.Unpriced) > 0 {
			fmt.Fprintf(w, "    UNPRICED resource types (not in the cost): %v\n", sc.Unpriced)
		}
		if sc.Ceiling > 0 && sc.spike() > float64(sc.Ceiling) {
			fmt.Fprintf(w, "    WARN the spike hour costs %s, above access911:spikeHourCostCeilingUsd %d\n", usd(sc.spike()), sc.Ceiling)
		}
	}
	fmt.Fprintf(w, "  all stacks:")
	for _, name := range Cases {
		fmt.Fprintf(w, "  %s %s", name, usd(totals[name]))
	}
	fmt.Fprintln(w)
	writeControlOptions(w, servingRegions(costs), prices)
}

func joinOr(parts []string, none string) string {
	if len(parts) == 0 {
		return none
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += "; " + p
	}
	return out
}

// WriteCostTable prints every line of every case: quantity, unit price and
// its source.
func WriteCostTable(w io.Writer, costs []StackCost, prices capacity.PriceTable) {
	fmt.Fprintf(w, "prices of %s: %s\n", prices.Date, prices.Provenance)
	for _, sc := range costs {
		for _, c := range sc.Cases {
			fmt.Fprintf(w, "\n%s, %s: %s\n", sc.Stack, c.Name, usd(c.Total()))
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  SERVICE\tITEM\tREGION\tQUANTITY\tUNIT PRICE\tCOST\tSOURCE")
			for _, l := range c.Lines {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%.4g %s\t$%g %s\t%s\t%s\n", l.Service, l.Item, l.Region, l.Quantity, l.Unit,
					l.Price.USD, l.Price.Unit, usd(l.USD), l.Price.Source)
			}
			tw.Flush()
		}
		n, m := sc.FreeCount()
		fmt.Fprintf(w, "\n%s: %d resources free (%d types):\n", sc.Stack, n, m)
		for _, f := range sc.Free {
			fmt.Fprintf(w, "  %3d %-62s %s\n", f.Count, f.Type, f.Reason)
		}
		if len(sc.Unpriced) > 0 {
			fmt.Fprintf(w, "\n%s: UNPRICED resource types (not in the cost): %v\n", sc.Stack, sc.Unpriced)
		}
	}
	fmt.Fprintln(w)
	writeControlOptions(w, servingRegions(costs), prices)
}

// WriteCostJSON prints the whole breakdown as one JSON document.
func WriteCostJSON(w io.Writer, costs []StackCost, prices capacity.PriceTable) error {
	options, err := FailoverControlOptions(servingRegions(costs), prices)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(map[string]any{"pricesDate": prices.Date, "provenance": prices.Provenance, "stacks": costs,
		"failoverControl": options})
}

// servingRegions is how many regions serve, whatever stacks were priced.
func servingRegions(costs []StackCost) int {
	if len(costs) == 0 {
		return 0
	}
	return costs[0].Regions
}
