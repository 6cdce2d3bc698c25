package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Stack is one planned stack.
type Stack struct {
	Result *Result
	Config stackconfig.Config
	// Raw is the configuration the program received, with its sources.
	Raw Config
}

// Load reads, validates and synthesizes the named stacks of the project in
// dir (all stacks when names is empty). When every stack is planned, the
// stack files must also agree with each other.
func Load(dir string, names []string) ([]Stack, error) {
	proj, err := LoadProject(dir)
	if err != nil {
		return nil, err
	}
	all, err := proj.Stacks()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no Pulumi.<stack>.yaml files in %s", dir)
	}
	if len(names) == 0 {
		names = all
	}
	var out []Stack
	configs := map[string]stackconfig.Config{}
	for _, name := range names {
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("no stack %q: there is no %s (stacks here: %s)", name, filepath.Base(proj.StackFile(name)), strings.Join(all, ", "))
		}
		raw, err := proj.StackConfig(name)
		if err != nil {
			return nil, err
		}
		cfg, err := stackconfig.Parse(raw.Values)
		if err != nil {
			return nil, fmt.Errorf("stack %s (%s): invalid configuration:\n%w", name, proj.StackFile(name), err)
		}
		configs[name] = cfg
		res, err := Run(proj.Name(), name, raw.Values, stacks.Build)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", name, err)
		}
		out = append(out, Stack{Result: res, Config: cfg, Raw: raw})
	}
	if len(names) == len(all) {
		if err := stackconfig.CheckStacksAgree(configs); err != nil {
			return nil, fmt.Errorf("the stack files disagree:\n%w", err)
		}
	}
	// In the order of access911:regions (home and active region first, as
	// committed), stacks outside it last.
	rank := func(s Stack) int {
		if i := slices.Index(s.Config.Regions, s.Config.Region); i >= 0 {
			return i
		}
		return len(s.Config.Regions)
	}
	slices.SortStableFunc(out, func(a, b Stack) int { return rank(a) - rank(b) })
	return out, nil
}

// JSONResource is one resource in the JSON plan.
type JSONResource struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Region string         `json:"region"`
	Parent string         `json:"parent,omitempty"`
	Inputs map[string]any `json:"inputs"`
}

// JSONStack is the JSON plan of one stack.
type JSONStack struct {
	Stack     string         `json:"stack"`
	Region    string         `json:"region"`
	Resources []JSONResource `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	// Cost is the stack's four cost cases, line by line (internal/cost).
	Cost any `json:"cost,omitempty"`
}

// WriteJSON prints one JSON object per stack, one per line, with the cost
// costOf gives for it (nil: none).
func WriteJSON(w io.Writer, planned []Stack, costOf func(Stack) any) error {
	enc := json.NewEncoder(w)
	for _, s := range planned {
		js := JSONStack{Stack: s.Result.Stack, Region: s.Result.Region, Outputs: s.Result.Outputs, Resources: []JSONResource{}}
		if costOf != nil {
			js.Cost = costOf(s)
		}
		for _, r := range s.Result.Custom() {
			js.Resources = append(js.Resources, JSONResource{
				Type: r.Type, Name: r.Name, Region: r.Region, Parent: parentName(r.Parent), Inputs: r.Inputs,
			})
		}
		if err := enc.Encode(js); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable prints a readable plan of every stack.
func WriteTable(w io.Writer, planned []Stack) error {
	var total time.Duration
	for i, s := range planned {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeStack(w, s)
		total += s.Result.Duration
	}
	if len(planned) > 1 {
		fmt.Fprintf(w, "\n%d stacks synthesized offline in %s (no AWS calls; account %s is a placeholder).\n",
			len(planned), total.Round(time.Millisecond), MockAccountID)
	}
	return nil
}

func writeStack(w io.Writer, s Stack) {
	c, r := s.Config, s.Result
	var roles []string
	if c.IsActive() {
		roles = append(roles, "ACTIVE (takes the traffic)")
	} else {
		roles = append(roles, "standby (active: "+c.ActiveRegion+")")
	}
	if c.IsHome() {
		roles = append(roles, "home: owns the global table")
	} else {
		roles = append(roles, "replica of the table in "+c.HomeRegion)
	}
	fmt.Fprintf(w, "Stack %s  region %s  %s\n", r.Stack, c.Region, strings.Join(roles, ", "))
	writeConfig(w, s.Raw)
	writeDecisions(w, c, r.Outputs)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tNAME\tREGION\tKEY SETTINGS")
	custom := r.Custom()
	for _, res := range custom {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ShortType(res.Type), res.Name, res.Region, KeySettings(res))
	}
	tw.Flush()
	providers, components := 0, 0
	for _, res := range r.Resources {
		switch {
		case strings.HasPrefix(res.Type, ProviderTypePrefix):
			providers++
		case !res.Custom:
			components++
		}
	}
	fmt.Fprintf(w, "\n  %d AWS resources (+ %d providers, %d components), synthesized in %s\n",
		len(custom), providers, components, r.Duration.Round(time.Millisecond))
	fmt.Fprintln(w, "  outputs:")
	for _, k := range slices.Sorted(maps.Keys(r.Outputs)) {
		if k == contract.OutputCapacityCheck || k == contract.OutputTableBilling || k == contract.OutputIntakeModel || k == contract.OutputFeedModel {
			continue // printed above
		}
		fmt.Fprintf(w, "    %-26s %v\n", k, r.Outputs[k])
	}
}

// writeConfig prints the effective value of every key the stack received
// and where it came from.
func writeConfig(w io.Writer, raw Config) {
	fmt.Fprintln(w, "  config (effective value, from):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, k := range slices.Sorted(maps.Keys(raw.Values)) {
		v := raw.Values[k]
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", k, v, raw.Sources[k])
	}
	tw.Flush()
}

// writeDecisions prints what the stack decided, as it exported it: the
// table's billing, the capacity check, the archive and DNS.
func writeDecisions(w io.Writer, c stackconfig.Config, outputs map[string]any) {
	billing, _ := outputs[contract.OutputTableBilling].(map[string]any)
	fmt.Fprintf(w, "  table billing: %v\n    decided from the design peak = %dx the failover load of %d rps (the sum of %s; every stack decides the same)\n",
		billing["summary"], capacity.SpikeFactor, c.FailoverLoadRps, stackconfig.KeyNormalLoadRps)
	if alone, err := capacity.DecideBilling(capacity.DesignPeakRps(c.ExpectedLoadRps)); err == nil && alone.Mode != billing["mode"] {
		fmt.Fprintf(w, "    this region alone (%dx its %d rps) would give %s; replicas share one billing mode\n",
			capacity.SpikeFactor, c.ExpectedLoadRps, alone)
	}
	report, _ := outputs[contract.OutputCapacityCheck].(map[string]any)
	fmt.Fprintf(w, "  capacity check (%v):\n", report["mode"])
	findings, _ := report["findings"].([]any)
	for _, f := range findings {
		fmt.Fprintf(w, "    %s\n", findingFromOutput(f))
	}
	writeIntake(w, c, outputs)
	writeFeed(w, outputs)
	fmt.Fprintf(w, "  archive: replicates %s -> %s\n", c.Region, c.ArchiveReplicaRegion)
	if c.DNSEnabled() {
		fmt.Fprintf(w, "  DNS: %s\n\n", describeFailover(c))
	} else {
		fmt.Fprintf(w, "  DNS failover: off (set %s and %s in Pulumi.yaml)\n\n", stackconfig.KeyAPIHostname, stackconfig.KeyHostedZoneID)
	}
}

// describeFailover says where the region stands in the shared hostname's
// failover chain and what its gate is.
func describeFailover(c stackconfig.Config) string {
	order := strings.Join(c.FailoverOrder, " > ")
	gate := fmt.Sprintf("gate: its /health AND no region's API (%s) reporting it denied", strings.Join(c.Regions, ", "))
	switch pos := c.FailoverPosition(); {
	case pos < 0:
		return fmt.Sprintf("%s only (not in the failover order %s: the shared hostname %s never sends callers here)",
			contract.RegionalHostname(c.Region, c.APIHostname), order, c.APIHostname)
	case pos == 0:
		return fmt.Sprintf("%s PRIMARY of %s (order %s), %s", c.Region, c.APIHostname, order, gate)
	default:
		return fmt.Sprintf("%s PRIMARY of %s, SECONDARY of %s (order %s), %s", c.Region,
			contract.ChainName(c.APIHostname, pos), contract.ChainName(c.APIHostname, pos-1), order, gate)
	}
}

// writeIntake prints the intake queue model the stack exported: the drain
// fleet, the spike, the outage a queued call survives, and seed 000's
// calculate_scaling_factor applied minute by minute.
func writeIntake(w io.Writer, c stackconfig.Config, outputs map[string]any) {
	m, _ := outputs[contract.OutputIntakeModel].(map[string]any)
	f := func(k string) float64 { v, _ := m[k].(float64); return v }
	i := func(k string) int { return ToInt(m[k]) }
	sized := "configured"
	if c.DrainMaxConcurrency == 0 {
		sized = "sized by the capacity check"
	}
	fmt.Fprintf(w, "  intake (%s): queue + dead-letter queue (maxReceiveCount %d, retention %d d, dead letters %d d); drain batch %d, window %d s, %d concurrent (%s; %.0f calls/s each)\n",
		c.IntakeMode, c.IntakeMaxReceiveCount, capacity.QueueRetentionDays, capacity.DeadLetterRetentionDays, c.IntakeBatchSize, c.IntakeBatchWindowSeconds,
		i("drainConcurrency"), sized, f("perInstanceRps"))
	fmt.Fprintf(w, "    10x spike: %.0f calls/s arrive, the drain stores %.0f calls/s; backlog peaks at %.0f calls, drains in %s after the spike\n",
		f("arrivalRps"), f("drainRps"), f("peakBacklog"), time.Duration(f("drainSeconds")*float64(time.Second)).Round(time.Second))
	fmt.Fprintf(w, "    a table outage of up to %s leaves queued calls in the queue; longer, they move to the dead-letter queue (access911 replay)\n",
		time.Duration(f("outageToleranceSeconds")*float64(time.Second)))
	steps, _ := m["scaling"].([]any)
	peakAt, peakDepth, maxAt, maxInstances := 0, 0.0, 0, 0
	for n, s := range steps {
		st, _ := s.(map[string]any)
		depth, _ := st["depth"].(float64)
		instances := ToInt(st["instances"])
		if depth > peakDepth {
			peakAt, peakDepth = n+1, depth
		}
		if instances > maxInstances {
			maxAt, maxInstances = n+1, instances
		}
	}
	fmt.Fprintf(w, "    seed calculate_scaling_factor, from %d instances each minute of a %d-minute spike: %d instances by minute %d, "+
		"peak depth %.0f at minute %d, steady depth again at minute %d\n",
		capacity.MinDrainConcurrency, c.SpikeMinutes, maxInstances, maxAt, peakDepth, peakAt, len(steps))
}

// writeFeed prints the dispatcher feed's model of one broadcast the stack
// exported (seed 002); its findings are in the capacity check above.
func writeFeed(w io.Writer, outputs map[string]any) {
	m, _ := outputs[contract.OutputFeedModel].(map[string]any)
	fmt.Fprintf(w, "  dispatcher feed: one call to %v dispatchers over %v partitions (%v each; %v would give seed 002's 100 each), %v queues, "+
		"%v worker invocations per queue at most\n", m["connections"], m["partitions"], m["perPartition"], m["partitionsForHundredEach"],
		m["queues"], m["mappingConcurrency"])
	fmt.Fprintf(w, "    swarm %v ms, %v wave(s) of queries and posts, compute %v ms, post-rate bound %v ms: delivered in %v ms (target %v ms)\n",
		m["swarmMs"], m["waves"], m["computeMs"], m["rateBoundMs"], m["deliveryMs"], m["targetMs"])
	loads, _ := m["loads"].([]any)
	for _, l := range loads {
		x, _ := l.(map[string]any)
		fmt.Fprintf(w, "    sustained %s: %v calls/s in %v stream batch(es)/s, %v of %v areas with news a batch: %v SQS messages and queries/s, "+
			"%v worker invocations/s (%v at once), %v posts/s of %v allowed, delivered in %v ms\n",
			x["name"], x["callRate"], x["streams"], x["activeAreas"], x["areas"], x["messages"], x["invocations"], x["workers"],
			x["posts"], x["postRateLimit"], x["deliveryMs"])
	}
}

func ToInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	}
	return 0
}

// findingFromOutput reads one capacity finding back from the stack output.
func findingFromOutput(v any) capacity.Finding {
	m, _ := v.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) float64 { f, _ := m[k].(float64); return f }
	return capacity.Finding{Check: str("check"), Needed: num("needed"), Configured: num("configured"),
		Unit: str("unit"), Severity: str("severity"), Detail: str("detail")}
}

// ShortType turns aws:dynamodb/table:Table into dynamodb.Table.
func ShortType(token string) string {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return token
	}
	mod := parts[1]
	if i := strings.Index(mod, "/"); i >= 0 {
		mod = mod[:i]
	}
	return mod + "." + parts[2]
}

func parentName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 && !strings.Contains(urn, "pulumi:pulumi:Stack") {
		return urn[i+2:]
	}
	return ""
}
