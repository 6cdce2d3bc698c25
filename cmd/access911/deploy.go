package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/internal/cost"
	"github.com/access911/access911-infra/internal/deploy"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/internal/policy"
)

// deployFlags are the flags preflight, preview and up share.
type deployFlags struct {
	*cli.Flags
	regions, dir, endpoint, pulumiRoot *string
}

func newDeployFlags(name string, stdout, stderr io.Writer) deployFlags {
	fs := cli.NewFlags(name, stdout, stderr)
	return deployFlags{Flags: fs,
		regions:    fs.String("regions", "", "comma-separated regions to run (default: every serving region, access911:regions)"),
		dir:        fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one)"),
		endpoint:   fs.String("endpoint-url", "", "send every AWS call of the checks to this endpoint (an emulator); empty for AWS"),
		pulumiRoot: fs.String("pulumi-root", "", "use <dir>/bin/pulumi instead of the pulumi on PATH"),
	}
}

// deployment is what preflight, preview and up work from: the planned
// stacks (offline, validated, in region order), the CLI and the clients.
type deployment struct {
	dir     string
	planned []plan.Stack
	cli     deploy.PulumiCLI
	pins    deploy.Pins
	clients deploy.Clients
}

func (f deployFlags) load(ctx context.Context, args []string) (*deployment, error) {
	if err := f.ParseArgs(args); err != nil {
		return nil, err
	}
	if f.NArg() > 0 {
		return nil, cli.UsageError{Msg: fmt.Sprintf("unexpected argument %q", f.Arg(0))}
	}
	dir, err := cli.ProjectDirOr(*f.dir)
	if err != nil {
		return nil, err
	}
	planned, err := plan.Load(dir, nil)
	if err != nil {
		return nil, err
	}
	if policies := policy.CheckPolicies(planned); policies.Failed("") {
		return nil, errors.New("the policy pack found a FAIL (access911 plan shows it): fix it before deploying")
	}
	d := &deployment{dir: dir, planned: planned, cli: deploy.PulumiCLI{Root: *f.pulumiRoot}}
	if d.pins, err = deploy.ReadPins(dir); err != nil {
		return nil, err
	}
	if d.clients, err = deploy.NewClients(ctx, *f.endpoint, d.cli); err != nil {
		return nil, err
	}
	return d, nil
}

// home is the project's shared configuration, the same in every stack.
func (d *deployment) home() (regions []string, home string) {
	c := d.planned[0].Config
	return c.Regions, c.HomeRegion
}

// stacksOf are the planned stacks of the given regions, in that order.
func (d *deployment) stacksOf(regions []string) []plan.Stack {
	var out []plan.Stack
	for _, r := range regions {
		for _, s := range d.planned {
			if s.Config.Region == r {
				out = append(out, s)
			}
		}
	}
	return out
}

// preflight runs the checks for the given regions and prints them.
func (d *deployment) preflight(ctx context.Context, regions []string, stdout io.Writer) error {
	outputs := func(ctx context.Context) (map[string]map[string]any, error) {
		cmd, err := d.cli.Command(d.pins)
		if err != nil {
			return nil, err
		}
		return deploy.DeployedOutputs(ctx, deploy.LocalStacks(d.dir, cmd, false), regions)
	}
	rep := deploy.Preflight(ctx, deploy.PreflightOptions{Stacks: d.stacksOf(regions), Deployed: outputs, Pins: d.pins, Clients: d.clients.Preflight})
	fmt.Fprintln(stdout, "preflight:")
	rep.Write(stdout)
	if rep.Failed() {
		return errors.New("the preflight FAILed: nothing was touched; each FAIL line says the fix")
	}
	return nil
}

func splitRegions(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func runPreflight(args []string, stdout, stderr io.Writer) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	f := newDeployFlags("preflight", stdout, stderr)
	d, err := f.load(ctx, args)
	if err != nil {
		return err
	}
	regions, home := d.home()
	deployer := &deploy.Deployer{Regions: regions, Home: home}
	order, err := deployer.Order(splitRegions(*f.regions), "")
	if err != nil {
		return cli.UsageError{Msg: err.Error()}
	}
	return d.preflight(ctx, order, stdout)
}

func runPreview(args []string, stdout, stderr io.Writer) error {
	return runDeployer("preview", args, stdout, stderr)
}

func runUp(args []string, stdout, stderr io.Writer) error {
	return runDeployer("up", args, stdout, stderr)
}

// runDeployer is preview and up: the preflight, then every region in order.
func runDeployer(name string, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	f := newDeployFlags(name, stdout, stderr)
	from := f.String("from", "", "start at this region (resume after a failure); the earlier ones are not run")
	yes, wait := new(bool), new(time.Duration)
	if name == "up" {
		yes = f.Bool("yes", false, "apply each region without showing its preview and asking")
		wait = f.Duration("wait", 30*time.Minute, "longest wait, after a region's up, for its table or replica and its API")
	}
	d, err := f.load(ctx, args)
	if err != nil {
		return err
	}
	regions, home := d.home()
	deployer := &deploy.Deployer{Regions: regions, Home: home, Out: stdout}
	order, err := deployer.Order(splitRegions(*f.regions), *from)
	if err != nil {
		return cli.UsageError{Msg: err.Error()}
	}
	if err := d.preflight(ctx, order, stdout); err != nil {
		return err
	}
	cmd, err := d.cli.Command(d.pins)
	if err != nil {
		return err
	}
	deployer.Open = deploy.LocalStacks(d.dir, cmd, true)
	deployer.Ready = deploy.Readiness{DynamoDB: d.clients.DynamoDB, HTTP: &http.Client{Timeout: 10 * time.Second},
		Poll: 10 * time.Second, Timeout: *wait}.Wait
	if name == "up" && !*yes {
		deployer.Confirm = askOn(bufio.NewReader(os.Stdin), stdout)
	}
	run := deployer.Up
	if name == "preview" {
		run = deployer.Preview
	}
	outcomes, err := run(ctx, order)
	fmt.Fprintln(stdout)
	deploy.WriteOutcomes(stdout, outcomes)
	if name == "up" {
		d.alarmSubscriptions(ctx, outcomes, stdout)
	}
	return err
}

// alarmSubscriptions prints, after up, each updated region's alarm topic
// subscribers, WARNing on one still pending confirmation.
func (d *deployment) alarmSubscriptions(ctx context.Context, outcomes []deploy.Outcome, stdout io.Writer) {
	var updated []string
	for _, o := range outcomes {
		if o.Result == deploy.ResultUpdated {
			updated = append(updated, o.Region)
		}
	}
	if len(updated) == 0 {
		return
	}
	cmd, err := d.cli.Command(d.pins)
	if err != nil {
		return
	}
	outputs, err := deploy.DeployedOutputs(ctx, deploy.LocalStacks(d.dir, cmd, false), updated)
	var rep deploy.PreflightReport
	for _, region := range updated {
		if err != nil {
			rep = append(rep, deploy.Check{Name: "alarm subscriptions", Region: region, Severity: deploy.Warn, Detail: "stack outputs: " + err.Error()})
			continue
		}
		rep = append(rep, deploy.CheckSubscriptions(ctx, d.clients.Preflight.SNS(region), region, outputs[region]))
	}
	fmt.Fprintln(stdout, "\nalarm subscriptions:")
	rep.Write(stdout)
}

// askOn asks on out and reads the answer from in: only "y" or "yes" applies.
func askOn(in *bufio.Reader, out io.Writer) func(region string) (bool, error) {
	return func(region string) (bool, error) {
		fmt.Fprintf(out, "apply this preview to %s? [y/N] ", region)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return false, fmt.Errorf("no answer (stdin closed): use --yes to apply without asking")
		}
		return slices.Contains([]string{"y", "yes"}, strings.ToLower(strings.TrimSpace(line))), nil
	}
}

func runCost(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("cost", stdout, stderr)
	stack := fs.String("stack", "", "price only this stack (default: every stack; replicated writes count the others' calls either way)")
	asJSON := fs.Bool("json", false, "print the whole breakdown as JSON")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	projectDir, err := cli.ProjectDirOr(*dir)
	if err != nil {
		return err
	}
	_, prices, costs, err := planAndCost(projectDir, nil)
	if err != nil {
		return err
	}
	if *stack != "" {
		costs = slices.DeleteFunc(costs, func(c cost.StackCost) bool { return c.Stack != *stack })
		if len(costs) == 0 {
			return cli.UsageError{Msg: fmt.Sprintf("no stack %q", *stack)}
		}
	}
	if *asJSON {
		return cost.WriteCostJSON(stdout, costs, prices)
	}
	cost.WriteCostTable(stdout, costs, prices)
	fmt.Fprintln(stdout)
	cost.WriteCostSummary(stdout, costs, prices)
	return nil
}

// planAndCost plans the named stacks (all when none) and prices them.
func planAndCost(projectDir string, names []string) ([]plan.Stack, capacity.PriceTable, []cost.StackCost, error) {
	planned, err := plan.Load(projectDir, names)
	if err != nil {
		return nil, capacity.PriceTable{}, nil, err
	}
	prices, err := capacity.LoadPrices()
	if err != nil {
		return nil, prices, nil, err
	}
	costs, err := cost.Cost(planned, prices)
	return planned, prices, costs, err
}
