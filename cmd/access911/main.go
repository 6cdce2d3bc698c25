// Command access911 is the project's one CLI. Today: `plan`, the offline look
// at what each region stack would create.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/load"
	"github.com/access911/access911-infra/internal/local"
	"github.com/access911/access911-infra/internal/preview"
	"github.com/access911/access911-infra/internal/project"
)

const usage = `access911: the access911-infra command line

Usage:
  access911 plan [--stack NAME] [--json] [--dir DIR]
      Run the real Pulumi program offline (Pulumi mocks, no AWS calls) with
      each stack's Pulumi.<stack>.yaml and print what it would create.
  access911 demo [--stack NAME] [--dir DIR]
      The main job on the embedded default: start DynamoDB Local (installing
      it with npm if missing), serve the API locally, run the seed's
      nashville_tornado simulation of 1000 calls, read them back by type,
      print a summary and shut everything down.
  access911 serve [--stack NAME] [--addr 127.0.0.1:8911] [--dynamodb-endpoint URL] [--dir DIR]
      Serve the API on loopback against DynamoDB Local with the stack's
      throttling (429 past burst/rate) and request validation, until Ctrl-C.
  access911 load [--profile quick|users|artillery|SPEC] [--mix default|artillery]
                 [--target URL] [--out DIR] [--throttle-rate RPS] [--throttle-burst N] [--stack NAME]
      Load the API (default: a local server on DynamoDB Local started for the
      run) with a realistic request mix; bounded in count and time. SPEC is
      e.g. 100rps:10s,500rps:10s or 200u:10s. Writes load.csv, load.json and
      load.png to --out (default perf/).
  access911 simulate [--scenario NAME] [--num-calls N] [--seed N] [--target URL] [--stack NAME]
      POST /simulate once (the seed's curl) against --target, or against a
      local server on DynamoDB Local started for the call, and print the result.
  access911 drill (--to REGION | --rollback) [--dry-run] [--force] [--rpo-bound 5s]
                  [--outputs DIR] [--dir DIR] [--report-dir DIR] [--endpoint-url URL]
      Switch the active region: preflight the target, probe replication lag
      (RPO), move Route53 weights, verify, set access911:activeRegion in every
      stack file, and write a report. --dry-run changes nothing; --rollback
      returns to the region the last switch left. DIR/<stack>.json are the
      outputs of pulumi stack output --json (default --outputs drill-outputs).
  access911 benchsummary FILE
      Medians and ratios of a go test -bench output (make bench uses it).
  access911 artifact [--dir DIR]
      Build the Lambda deployment package (linux/arm64, reproducible) into
      dist/ and print its path, size and SHA-256. pulumi up builds it too.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "plan":
		return runPlan(args[1:], stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "artifact":
		return runArtifact(args[1:], stdout, stderr)
	case "load":
		return runLoad(args[1:], stdout, stderr)
	case "simulate":
		return runSimulate(args[1:], stdout, stderr)
	case "drill":
		return runDrill(args[1:], stdout, stderr)
	case "benchsummary":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: access911 benchsummary FILE")
			return 2
		}
		f, err := os.Open(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "access911 benchsummary: %v\n", err)
			return 1
		}
		defer f.Close()
		samples, err := load.ParseBench(f)
		if err != nil {
			fmt.Fprintf(stderr, "access911 benchsummary: %v\n", err)
			return 1
		}
		load.WriteBenchSummary(stdout, samples)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "access911: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "plan only this stack (default: every Pulumi.<stack>.yaml)")
	asJSON := fs.Bool("json", false, "print one JSON object per stack instead of the table")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one at or above the working directory)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "access911 plan: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			fmt.Fprintf(stderr, "access911 plan: %v\n", err)
			return 1
		}
	}
	var names []string
	if *stack != "" {
		names = []string{*stack}
	}
	planned, err := preview.Load(projectDir, names)
	if err != nil {
		fmt.Fprintf(stderr, "access911 plan: %v\n", err)
		return 1
	}
	if *asJSON {
		err = preview.WriteJSON(stdout, planned)
	} else {
		err = preview.WriteTable(stdout, planned)
	}
	if err != nil {
		fmt.Fprintf(stderr, "access911 plan: %v\n", err)
		return 1
	}
	return 0
}

func localFlags(name string, stderr io.Writer) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "us-east-1", "stack whose configuration (throttling, table, region) to use")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one)")
	return fs, stack, dir
}

func projectDirOr(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return findProject()
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs, stack, dir := localFlags("demo", stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	projectDir, err := projectDirOr(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "access911 demo: %v\n", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 10*time.Minute)
	defer cancelT()
	fmt.Fprintln(stdout, "starting DynamoDB Local and the local API ...")
	srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack})
	if err != nil {
		fmt.Fprintf(stderr, "access911 demo: %v\n", err)
		return 1
	}
	defer srv.Close()
	sum, err := local.RunDemo(ctx, srv)
	if err != nil {
		fmt.Fprintf(stderr, "access911 demo: %v\n", err)
		return 1
	}
	sum.Print(stdout, srv)
	fmt.Fprintln(stdout, "stopped the local API and DynamoDB Local.")
	return 0
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs, stack, dir := localFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8911", "loopback address to listen on")
	endpoint := fs.String("dynamodb-endpoint", "", "a running DynamoDB Local (default: start one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	projectDir, err := projectDirOr(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "access911 serve: %v\n", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack, Addr: *addr, DynamoDBEndpoint: *endpoint, Log: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "access911 serve: %v\n", err)
		return 1
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "serving %s (stack %s: burst %d, rate %d rps; table %s). Ctrl-C stops.\n",
		srv.URL, *stack, srv.Config.APIThrottleBurst, srv.Config.APIThrottleRateRps, srv.Table)
	<-ctx.Done()
	return 0
}

func runLoad(args []string, stdout, stderr io.Writer) int {
	fs, stack, dir := localFlags("load", stderr)
	profile := fs.String("profile", "quick", "quick, users, artillery, or steps like 100rps:10s,200u:10s")
	target := fs.String("target", "", "base URL to load (default: start a local server)")
	allowRemote := fs.Bool("allow-remote", false, "allow a --target that is not loopback")
	out := fs.String("out", "perf", "directory for load.csv, load.json and load.png")
	rate := fs.Float64("throttle-rate", 0, "local server: override the stack's throttle rate (rps)")
	burst := fs.Int("throttle-burst", 0, "local server: override the stack's throttle burst")
	seed := fs.Uint64("seed", 911, "seed of the request mix")
	mixName := fs.String("mix", "default", "default (webhooks, queries, some /simulate) or artillery (only the seed's /simulate of 10 calls)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	mix, ok := load.Mixes[*mixName]
	if !ok {
		fmt.Fprintf(stderr, "access911 load: unknown --mix %q (default, artillery)\n", *mixName)
		return 2
	}
	steps, err := load.ParseSteps(*profile)
	if err != nil {
		fmt.Fprintf(stderr, "access911 load: %v\n", err)
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	if base == "" {
		projectDir, err := projectDirOr(*dir)
		if err != nil {
			fmt.Fprintf(stderr, "access911 load: %v\n", err)
			return 1
		}
		srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack, ThrottleRate: *rate, ThrottleBurst: *burst})
		if err != nil {
			fmt.Fprintf(stderr, "access911 load: %v\n", err)
			return 1
		}
		defer srv.Close()
		base = srv.URL
		fmt.Fprintf(stdout, "local server %s (stack %s, throttle burst %d, rate %.0f rps, DynamoDB Local)\n", base, *stack, srv.Burst, srv.Rate)
	}
	rep, err := load.Run(ctx, load.Options{Target: base, AllowRemote: *allowRemote, Steps: steps, Mix: mix, Progress: stderr, Seed: *seed})
	if err != nil {
		fmt.Fprintf(stderr, "access911 load: %v\n", err)
		return 1
	}
	rep.WriteTable(stdout)
	if err := rep.WriteFiles(*out); err != nil {
		fmt.Fprintf(stderr, "access911 load: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s/load.csv, %s/load.json, %s/load.png\n", *out, *out, *out)
	return 0
}

func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs, stack, dir := localFlags("simulate", stderr)
	scenario := fs.String("scenario", local.DemoScenario, "nashville_tornado, california_earthquake or gulf_hurricane")
	n := fs.Int("num-calls", local.DemoCalls, "number of calls (1-10000)")
	seed := fs.Int64("seed", -1, "seed for reproducible calls (default: time-based)")
	target := fs.String("target", "", "base URL of the API (default: a local server); a deployed API needs --api-key")
	apiKey := fs.String("api-key", "", "x-api-key header for a deployed API")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	if base == "" {
		projectDir, err := projectDirOr(*dir)
		if err != nil {
			fmt.Fprintf(stderr, "access911 simulate: %v\n", err)
			return 1
		}
		srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack})
		if err != nil {
			fmt.Fprintf(stderr, "access911 simulate: %v\n", err)
			return 1
		}
		defer srv.Close()
		base = srv.URL
	}
	req := map[string]any{"scenario": *scenario, "num_calls": *n}
	if *seed >= 0 {
		req["seed"] = *seed
	}
	status, body, err := local.PostJSON(ctx, strings.TrimSuffix(base, "/")+"/simulate", req, *apiKey)
	if err != nil {
		fmt.Fprintf(stderr, "access911 simulate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "HTTP %d %s\n", status, body)
	if status != 200 {
		return 1
	}
	return 0
}

func runDrill(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "region to switch the traffic to")
	rollback := fs.Bool("rollback", false, "return to the region the last completed switch came from")
	dryRun := fs.Bool("dry-run", false, "run the preflight and the RPO probe, change nothing")
	force := fs.Bool("force", false, "switch even when replication lags past --rpo-bound")
	rpo := fs.Duration("rpo-bound", drill.DefaultRPOBound, "largest acceptable replication lag")
	outputs := fs.String("outputs", "drill-outputs", "directory of <stack>.json stack outputs")
	dir := fs.String("dir", "", "directory holding the Pulumi.<stack>.yaml files (default: the nearest Pulumi.yaml)")
	reports := fs.String("report-dir", "drill-reports", "where reports are written and --rollback looks")
	endpoint := fs.String("endpoint-url", "", "send every AWS call to this endpoint (an emulator); empty for AWS")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*to == "") == !*rollback {
		fmt.Fprintln(stderr, "access911 drill: give either --to REGION or --rollback")
		return 2
	}
	projectDir, err := projectDirOr(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "access911 drill: %v\n", err)
		return 1
	}
	inv, err := drill.LoadOutputs(*outputs)
	if err != nil {
		fmt.Fprintf(stderr, "access911 drill: %v\n", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	clients, err := drill.NewClients(ctx, *endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "access911 drill: %v\n", err)
		return 1
	}
	// Against AWS, verify through the shared name as callers resolve it,
	// allowing for the record TTL; emulators have no DNS.
	opts := drill.Options{To: *to, Rollback: *rollback, DryRun: *dryRun, Force: *force, RPOBound: *rpo,
		StackDir: projectDir, ReportDir: *reports, Inventory: inv, Clients: clients, Log: stdout}
	if *endpoint == "" {
		opts.ThroughName, opts.VerifyWait = true, 2*time.Minute
	}
	rep, err := drill.Run(ctx, opts)
	rep.WriteTable(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "access911 drill: %v\n", err)
		return 1
	}
	return 0
}

func runArtifact(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("artifact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory holding go.mod and Pulumi.yaml (default: the nearest one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			fmt.Fprintf(stderr, "access911 artifact: %v\n", err)
			return 1
		}
	}
	a, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: projectDir})
	if err != nil {
		fmt.Fprintf(stderr, "access911 artifact: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n  %d bytes, sha256 (base64) %s\n", a.Path, a.Size, a.SHA256)
	return 0
}

// findProject is the nearest directory holding Pulumi.yaml at or above the
// working directory.
func findProject() (string, error) {
	dir, err := project.FindUp(".", "Pulumi.yaml")
	if err != nil {
		return "", fmt.Errorf("%w (use --dir)", err)
	}
	return dir, nil
}
