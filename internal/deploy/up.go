package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/access911/access911-infra/contract"
)

// Deployer runs every region's stack in the order the global table needs:
// the home region first (its stack creates the table), then the others one
// at a time (DynamoDB allows one replica change on a global table at a
// time), each only once the one before is ready.
type Deployer struct {
	// Regions are the serving regions (access911:regions); Home owns the table.
	Regions []string
	Home    string
	// Open selects (creating if need be) a region's stack.
	Open func(ctx context.Context, region string) (auto.Stack, error)
	// Ready waits until a region just deployed serves: its table or replica
	// ACTIVE and its API healthy.
	Ready func(ctx context.Context, region string, outputs map[string]any) error
	// Confirm, when set, is asked after each region's preview whether to
	// apply it (up without --yes); nil applies without asking.
	Confirm func(region string) (bool, error)
	// Out receives the progress and the diagnostics.
	Out io.Writer
}

// Order is the regions to run: home first, then the others in
// access911:regions order; only (if given) restricts them and from (if
// given) starts there, for resuming.
func (d *Deployer) Order(only []string, from string) ([]string, error) {
	for _, r := range append(slices.Clone(only), from) {
		if r != "" && !slices.Contains(d.Regions, r) {
			return nil, fmt.Errorf("%q is not a serving region (access911:regions: %s)", r, strings.Join(d.Regions, ", "))
		}
	}
	order := []string{d.Home}
	for _, r := range d.Regions {
		if r != d.Home {
			order = append(order, r)
		}
	}
	if len(only) > 0 {
		order = slices.DeleteFunc(order, func(r string) bool { return !slices.Contains(only, r) })
	}
	if from != "" {
		i := slices.Index(order, from)
		if i < 0 {
			return nil, fmt.Errorf("--from %s is not among the regions to run (%s)", from, strings.Join(order, ", "))
		}
		order = order[i:]
	}
	return order, nil
}

// Outcome is how one region went.
type Outcome struct {
	Region, Result string
	Changes        map[string]int
	Duration       time.Duration
	APIURL         string
	Err            error
}

// Results of a region.
const (
	ResultUpdated    = "updated"
	ResultPreviewed  = "previewed"
	ResultFailed     = "failed"
	ResultDeclined   = "not applied"
	ResultNotStarted = "not started"
)

// Up applies the regions in order. It stops at the first region that
// fails, is declined, or does not become ready, and leaves the later ones
// untouched; the error says which and how to resume.
func (d *Deployer) Up(ctx context.Context, order []string) ([]Outcome, error) {
	return d.each(ctx, order, d.upRegion)
}

// Preview previews the regions in order, changing nothing. A region's
// preview shows what its up would do against what is deployed now; a
// later region's may change once the earlier ones are applied.
func (d *Deployer) Preview(ctx context.Context, order []string) ([]Outcome, error) {
	return d.each(ctx, order, func(ctx context.Context, stack auto.Stack, o *Outcome) error {
		changes, err := d.preview(ctx, stack, o.Region)
		o.Changes, o.Result = changes, ResultPreviewed
		return err
	})
}

func (d *Deployer) each(ctx context.Context, order []string, step func(context.Context, auto.Stack, *Outcome) error) ([]Outcome, error) {
	outcomes := make([]Outcome, len(order))
	for i, region := range order {
		outcomes[i] = Outcome{Region: region, Result: ResultNotStarted}
	}
	for i, region := range order {
		o := &outcomes[i]
		start := time.Now()
		fmt.Fprintf(d.Out, "== %s (%d of %d)\n", region, i+1, len(order))
		stack, err := d.Open(ctx, region)
		if err == nil {
			err = step(ctx, stack, o)
		}
		o.Duration = time.Since(start).Round(100 * time.Millisecond)
		if err != nil {
			if o.Result != ResultDeclined {
				o.Result = ResultFailed
			}
			o.Err = err
			return outcomes, stopped(order, i, o)
		}
	}
	return outcomes, nil
}

// stopped says what was done, what failed and how to resume.
func stopped(order []string, i int, o *Outcome) error {
	msg := fmt.Sprintf("%s %s: %v", o.Region, o.Result, o.Err)
	if i > 0 {
		msg += fmt.Sprintf("\ndone: %s", strings.Join(order[:i], ", "))
	}
	if i+1 < len(order) {
		msg += fmt.Sprintf("\nnot touched: %s", strings.Join(order[i+1:], ", "))
	}
	msg += fmt.Sprintf("\nresume with: access911 up --from %s", o.Region)
	return errors.New(msg)
}

func (d *Deployer) upRegion(ctx context.Context, stack auto.Stack, o *Outcome) error {
	if d.Confirm != nil {
		if _, err := d.preview(ctx, stack, o.Region); err != nil {
			return err
		}
		ok, err := d.Confirm(o.Region)
		if err != nil {
			return err
		}
		if !ok {
			o.Result = ResultDeclined
			return errors.New("not confirmed")
		}
	}
	progress := d.progress(o.Region)
	res, err := stack.Up(ctx, optup.EventStreams(progress.events), optup.SuppressProgress())
	progress.wait()
	if err != nil {
		return progress.failure(err)
	}
	o.Result = ResultUpdated
	if res.Summary.ResourceChanges != nil {
		o.Changes = *res.Summary.ResourceChanges
	}
	outputs := map[string]any{}
	for k, v := range res.Outputs {
		outputs[k] = v.Value
	}
	o.APIURL, _ = outputs[contract.OutputAPIURL].(string)
	fmt.Fprintf(d.Out, "  %s: %s; waiting until it serves ...\n", o.Region, changeList(o.Changes))
	if err := d.Ready(ctx, o.Region, outputs); err != nil {
		return fmt.Errorf("deployed but not ready: %w", err)
	}
	fmt.Fprintf(d.Out, "  %s: ready\n", o.Region)
	return nil
}

func (d *Deployer) preview(ctx context.Context, stack auto.Stack, region string) (map[string]int, error) {
	progress := d.progress(region)
	res, err := stack.Preview(ctx, optpreview.EventStreams(progress.events), optpreview.SuppressProgress())
	progress.wait()
	if err != nil {
		return nil, progress.failure(err)
	}
	changes := map[string]int{}
	for op, n := range res.ChangeSummary {
		changes[string(op)] = n
	}
	fmt.Fprintf(d.Out, "  %s preview: %s\n", region, changeList(changes))
	return changes, nil
}

// changeList is a change summary without the unchanged, in a fixed order.
func changeList(changes map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(changes)) {
		if op != string(apitype.OpSame) && changes[op] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", changes[op], op))
		}
	}
	if same := changes[string(apitype.OpSame)]; same > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged", same))
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// progress prints the engine's steps as they happen and keeps its errors.
type progress struct {
	events chan events.EngineEvent
	done   sync.WaitGroup
	errors []string
}

func (d *Deployer) progress(region string) *progress {
	p := &progress{events: make(chan events.EngineEvent)}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		for ev := range p.events {
			switch {
			case ev.ResourcePreEvent != nil:
				m := ev.ResourcePreEvent.Metadata
				if m.Op != apitype.OpSame && m.Op != apitype.OpRead {
					fmt.Fprintf(d.Out, "  %s  %-8s %s %s\n", region, m.Op, m.Type, urnName(m.URN))
				}
			case ev.ResOpFailedEvent != nil:
				m := ev.ResOpFailedEvent.Metadata
				fmt.Fprintf(d.Out, "  %s  failed   %s %s\n", region, m.Type, urnName(m.URN))
			case ev.DiagnosticEvent != nil && ev.DiagnosticEvent.Severity == "error":
				msg := strings.TrimSpace(ev.DiagnosticEvent.Message)
				p.errors = append(p.errors, msg)
				fmt.Fprintf(d.Out, "  %s  error    %s\n", region, msg)
			}
		}
	}()
	return p
}

// wait returns once the engine's events are all printed (the Automation
// API closes the channel when the operation ends).
func (p *progress) wait() { p.done.Wait() }

// failure is the engine's diagnostics for a failed operation, or its
// error when it gave none.
func (p *progress) failure(err error) error {
	if len(p.errors) > 0 {
		return errors.New(strings.Join(p.errors, "; "))
	}
	return err
}

func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// WriteOutcomes prints the closing table: region, result, changes,
// duration, API URL.
func WriteOutcomes(w io.Writer, outcomes []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tRESULT\tCHANGES\tDURATION\tAPI URL")
	for _, o := range outcomes {
		changes := "-"
		if o.Changes != nil {
			changes = changeList(o.Changes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Region, o.Result, changes, o.Duration, orDash(o.APIURL))
	}
	tw.Flush()
}
