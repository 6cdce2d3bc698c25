// Command access911 is the project's tooling CLI: the offline plan, the local
// run on DynamoDB Local (demo, serve, simulate, load), the DR drill, the
// Lambda artifact build and the benchmark summary. See the usage text.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/deploy"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/load"
	"github.com/access911/access911-infra/internal/local"
	"github.com/access911/access911-infra/internal/replay"
)

const usage = `access911: the access911-infra command line

Usage:
  access911 plan [--stack NAME] [--json] [--dir DIR]
      Run the real Pulumi program offline (Pulumi mocks, no AWS calls) with
      each stack's Pulumi.<stack>.yaml and print what it would create.
  access911 preflight [--regions R1,R2] [--endpoint-url URL] [--pulumi-root DIR] [--dir DIR]
      Before anything is touched, check what deploying needs, one line each
      (OK / WARN / FAIL with the fix): credentials and one account in every
      region, each region's Lambda concurrency and API Gateway request quota
      against what the stacks reserve and post, the Pulumi CLI and the aws
      plugin go.mod pins, the hosted zone when DNS failover is on, and after a
      first deployment the webhook and feed secrets. A FAIL exits 1.
  access911 preview [--regions R1,R2] [--from REGION] [--pulumi-root DIR] [--dir DIR]
  access911 up [--yes] [--regions R1,R2] [--from REGION] [--wait 30m] [--pulumi-root DIR] [--dir DIR]
      The preflight, then every region's stack through Pulumi's Automation API:
      the home region first, then the others one at a time, each once the one
      before has its table or replica ACTIVE and answers GET /v1/health. On a
      failure it stops, leaves the later regions untouched and prints the
      command that resumes (--from). Without --yes, up shows each region's
      preview and asks before applying it. There is no destroy (README).
  access911 cost [--stack NAME] [--json] [--dir DIR]
      Price every stack in four cases: a month on idle standby, a month at its
      own normal load, a month after a failover, and an hour of the 10x spike;
      each line with its quantity, unit price and the price's source (the
      embedded, dated price table; free tiers ignored). plan prints a summary.
  access911 prices [--refresh] [--regions R1,R2] [--out FILE] [--endpoint-region us-east-1|ap-south-1]
      Print the price table's date and provenance, or with --refresh look every
      mapped item up in the AWS Price List Query API (GetProducts, OnDemand),
      write the table with each price's SKU, offer version and publication
      date as its source, and print what changed. An item it cannot find
      fails the refresh and nothing is written.
  access911 demo [--stack NAME] [--dir DIR]
      The main job on the embedded default: start DynamoDB Local (installing
      it with npm if missing), serve the API locally, run the seed's
      nashville_tornado simulation of 1000 calls, read them back by type,
      print a summary and shut everything down.
  access911 serve [--stack NAME] [--addr 127.0.0.1:8911] [--dynamodb-endpoint URL] [--sqs-endpoint URL] [--no-intake]
                  [--feed-connections N] [--read-cache [--redis-addr HOST:PORT]] [--ready-json] [--cpuprofile FILE] [--dir DIR]
      Serve the API on loopback against DynamoDB Local with the stack's
      throttling (429 past burst/rate) and request validation, and the durable
      intake queue on moto's SQS with its drainer, until Ctrl-C.
  access911 load [--profile quick|users|artillery|SPEC] [--mix default|artillery]
                 [--target URL] [--out DIR] [--throttle-rate RPS] [--throttle-burst N] [--stack NAME]
      Load the API (default: a local server on DynamoDB Local started for the
      run) with a realistic request mix; bounded in count and time. SPEC is
      e.g. 100rps:10s,500rps:10s or 200u:10s. Writes load.csv, load.json and
      load.png to --out (default perf/).
  access911 simulate [--scenario NAME] [--num-calls N] [--seed N] [--target URL] [--stack NAME]
      POST /simulate once (the seed's curl) against --target, or against a
      local server on DynamoDB Local started for the call, and print the result.
  access911 spike [--fault throttle|outage] [--calls N] [--rate RPS] [--throttle-rate 0.5] [--outage 10s] [--stack NAME]
      On the local stack with the durable intake (DynamoDB Local + moto's SQS), inject
      table throttling or an outage, send a bounded spike of distinct calls (default
      10x the stack's failover load, one second's worth), wait for the intake queue to
      drain, and read every accepted call back. Exits 1 if a call was lost or stored twice.
  access911 replay --queue-url URL --dlq-url URL [--apply] [--max N] [--region R] [--endpoint-url URL]
      List the calls in the intake's dead-letter queue (a dry run: nothing moves) or,
      with --apply, move them back to the intake queue, where the drain stores each
      once. The URLs are the stack outputs intakeQueueUrl and intakeDlqUrl.
      Example: access911 replay --queue-url "$(pulumi stack output intakeQueueUrl)" --dlq-url "$(pulumi stack output intakeDlqUrl)"
  access911 watch --url WS_URL --token TOKEN [--types fire,flood]
      The dispatcher console: connect to the feed, optionally subscribe to some
      emergency types, and print each call as it arrives with its delivery latency.
  access911 feed-bench [--connections N] [--calls M] [--interval D] [--server-cpuprofile FILE] [--stack NAME]
      Start serve in its own process, open N WebSocket connections to its feed,
      send M calls through POST /calls (each once the previous reached everyone,
      or every --interval) and measure delivery from each 201 to each receipt;
      exit 1 if any delivery is missing or duplicated.
  access911 feed-token --subject NAME [--ttl 12h]
      Mint a dispatcher token for the feed, signed with $ACCESS911_FEED_SECRET
      (the value of the stack's feedSecretArn secret; during a rotation the
      {"current","previous"} form, signed with current). Dispatchers connect
      with wss://HOST/v1?token=TOKEN.
  access911 webhook-send --type post_call_transcription|post_call_audio|call_initiation_failure
                         [--target URL] [--conversation-id ID] [--audio-bytes N] [--stack NAME]
      Send one realistic provider delivery, signed with $ELEVENLABS_WEBHOOK_SECRET
      as the provider signs it, to --target (a stack's webhookUrl or apiUrl),
      or to a local server started for it (then the stored call is printed).
  access911 drill (--to REGION | --evacuate REGION | --rollback) [--dry-run] [--force]
                  [--rpo-bound 5s] [--outputs DIR] [--report-dir DIR] [--endpoint-url URL]
      Move the callers with the failover control: a table write into the
      target region's replica, read by every region's gate (no Route 53 call,
      nothing sent to the region being left). --to denies every region before
      REGION in access911:failoverOrder; --evacuate denies one region (a gray
      failure); --rollback undoes the last drill once the region has caught
      up. Preflight, RPO, readers, target and a canary call (the RTO) are
      checked and reported. DIR/<stack>.json are the outputs of pulumi stack
      output --json (default --outputs drill-outputs).
  access911 benchsummary FILE
      Medians and ratios of a go test -bench output (make bench uses it).
  access911 artifact [--dir DIR]
      Build the Lambda deployment package (linux/arm64, reproducible) into
      dist/ and print its path, size and SHA-256. pulumi up builds it too.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// subcommands are the CLI's commands; each returns errUsage (or a
// usageError) for bad arguments, another error for a failure.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"plan":         runPlan,
	"demo":         runDemo,
	"serve":        runServe,
	"artifact":     runArtifact,
	"load":         runLoad,
	"simulate":     runSimulate,
	"drill":        runDrill,
	"benchsummary": runBenchSummary,
	"webhook-send": runWebhookSend,
	"spike":        runSpike,
	"watch":        runWatch,
	"feed-bench":   runFeedBench,
	"feed-token":   runFeedToken,
	"replay":       runReplay,
	"preflight":    runPreflight,
	"cost":         runCost,
	"prices":       runPrices,
	"preview":      runPreview,
	"up":           runUp,
}

// errUsage is a bad invocation whose reason the flag package already printed.
var errUsage = errors.New("usage")

// usageError is a bad invocation: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "access911: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(args[1:], stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "access911 %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "access911 %s: %v\n", args[0], err)
		return 1
	}
}

func runBenchSummary(args []string, stdout, _ io.Writer) error {
	if len(args) == 1 && isHelp(args[0]) {
		printHelp(stdout, "benchsummary")
		fmt.Fprintln(stdout, "\nArguments:\n  FILE  the output of go test -bench (make bench writes perf/bench.out)")
		return nil
	}
	if len(args) != 1 {
		return usageError{"usage: access911 benchsummary FILE"}
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	samples, err := load.ParseBench(f)
	if err != nil {
		return err
	}
	load.WriteBenchSummary(stdout, samples)
	return nil
}

func runPlan(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plan", stdout, stderr)
	stack := fs.String("stack", "", "plan only this stack (default: every Pulumi.<stack>.yaml)")
	asJSON := fs.Bool("json", false, "print one JSON object per stack instead of the table")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one at or above the working directory)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			return err
		}
	}
	var names []string
	if *stack != "" {
		names = []string{*stack}
	}
	planned, prices, costs, err := planAndCost(projectDir, names)
	if err != nil {
		return err
	}
	if *asJSON {
		err = deploy.WriteJSON(stdout, planned, costs)
	} else if err = deploy.WriteTable(stdout, planned); err == nil {
		fmt.Fprintln(stdout)
		deploy.WriteCostSummary(stdout, costs, prices)
		if len(names) > 0 {
			fmt.Fprintln(stdout, "  (one stack planned: the writes the other regions' calls replicate into it are not counted; access911 cost counts them)")
		}
	}
	if err != nil {
		return err
	}
	// The policy pack: what AWS would do that the mocks accept. On stderr
	// with --json, so stdout stays one JSON object per stack.
	policies := deploy.CheckPolicies(planned)
	out := stdout
	if *asJSON {
		out = stderr
	}
	fmt.Fprintln(out)
	deploy.WritePolicies(out, policies)
	if policies.Failed("") {
		return errors.New("the policy pack found a FAIL: fix it before pulumi up (each line names the AWS document)")
	}
	return nil
}

func localFlags(name string, stdout, stderr io.Writer) (*cmdFlags, *string, *string) {
	fs := newFlags(name, stdout, stderr)
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

// parseLocal parses a local command's flags and resolves its project directory.
func parseLocal(fs *cmdFlags, dir *string, args []string) (string, error) {
	if err := fs.parse(args); err != nil {
		return "", err
	}
	return projectDirOr(*dir)
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("demo", stdout, stderr)
	projectDir, err := parseLocal(fs, dir, args)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 10*time.Minute)
	defer cancelT()
	fmt.Fprintln(stdout, "starting DynamoDB Local and the local API ...")
	srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack})
	if err != nil {
		return err
	}
	defer srv.Close()
	sum, err := local.RunDemo(ctx, srv)
	if err != nil {
		return err
	}
	sum.Print(stdout, srv)
	fmt.Fprintln(stdout, "stopped the local API and DynamoDB Local.")
	return nil
}

// envAPIKey holds the API key our own clients send (x-api-key): serve
// requires it when set, and the drill probes a keyed route with it.
const envAPIKey = "ACCESS911_API_KEY"

func runServe(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("serve", stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8911", "loopback address to listen on")
	endpoint := fs.String("dynamodb-endpoint", "", "a running DynamoDB Local (default: start one)")
	sqsEndpoint := fs.String("sqs-endpoint", "", "a running moto server for the intake queue (default: start one)")
	noIntake := fs.Bool("no-intake", false, "run without the durable intake queue (no moto needed; a failed write is a 503)")
	feedConnections := fs.Int("feed-connections", 1000, "dispatcher connections to size the local feed's partitions for (100 each)")
	readyJSON := fs.Bool("ready-json", false, "once serving, print one JSON line with the API and feed URLs and a token (for tools)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file until it stops (go tool pprof)")
	apiKey := fs.String("api-key", os.Getenv(envAPIKey), "require this x-api-key on the keyed routes, as API Gateway does (default $"+envAPIKey+"; empty: none)")
	readCache := fs.Bool("read-cache", false, "serve the GET routes through the read cache: a redis-server started for the run, kept current by the table's stream")
	redisAddr := fs.String("redis-addr", "", "with --read-cache, a running redis-server (host:port) instead of starting one")
	projectDir, err := parseLocal(fs, dir, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	o := local.Options{ProjectDir: projectDir, Stack: *stack, Addr: *addr, DynamoDBEndpoint: *endpoint, Log: stderr, APIKey: *apiKey}
	if *readCache {
		o.ReadCache = &local.ReadCacheOptions{Addr: *redisAddr}
	}
	if !*noIntake {
		secret, err := localFeedSecret()
		if err != nil {
			return err
		}
		o.Intake = &local.IntakeOptions{SQSEndpoint: *sqsEndpoint}
		o.Feed = &local.FeedOptions{Connections: *feedConnections, Secret: secret}
	}
	srv, err := local.Start(ctx, o)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *readyJSON {
		if srv.Feed == nil {
			return usageError{"--ready-json needs the feed (drop --no-intake)"}
		}
		return serveReady(ctx, srv, stdout)
	}
	fmt.Fprintf(stdout, "serving %s (stack %s: burst %d, rate %d rps; table %s). Ctrl-C stops.\n",
		srv.URL, *stack, srv.Config.APIThrottleBurst, srv.Config.APIThrottleRateRps, srv.Table)
	if srv.Intake != nil {
		fmt.Fprintf(stdout, "durable intake (%s) on moto's SQS: queue %s, dead letters %s\n", srv.Config.IntakeMode, srv.Intake.QueueURL, srv.Intake.DLQURL)
	}
	if srv.ReadCache != nil {
		fmt.Fprintf(stdout, "read cache: GET /calls and /calls/{id} through redis-server at %s, kept current by the table's stream\n",
			srv.ReadCache.Client.Options().Addr)
	}
	if srv.Feed != nil {
		source := "a secret of this run's; set $" + feedSecretEnv + " to sign with your own, so access911 feed-token mints tokens for it"
		if os.Getenv(feedSecretEnv) != "" {
			source = "signed with $" + feedSecretEnv + ": access911 feed-token mints tokens for it"
		}
		fmt.Fprintf(stdout, "dispatcher feed: %s (tokens: %s)\n  access911 watch --url %s --token %s\n",
			srv.Feed.URL, source, srv.Feed.URL, srv.Feed.Token("local-dispatcher"))
	}
	<-ctx.Done()
	return nil
}

func runLoad(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("load", stdout, stderr)
	profile := fs.String("profile", "quick", "quick, users, artillery, or steps like 100rps:10s,200u:10s")
	target := fs.String("target", "", "base URL to load (default: start a local server)")
	allowRemote := fs.Bool("allow-remote", false, "allow a --target that is not loopback")
	out := fs.String("out", "perf", "directory for load.csv, load.json and load.png")
	rate := fs.Float64("throttle-rate", 0, "local server: override the stack's throttle rate (rps)")
	burst := fs.Int("throttle-burst", 0, "local server: override the stack's throttle burst")
	seed := fs.Uint64("seed", 911, "seed of the request mix")
	mixName := fs.String("mix", "default", "default (webhooks, queries, some /simulate) or artillery (only the seed's /simulate of 10 calls)")
	readCache := fs.Bool("read-cache", false, "local server: put the read cache (a redis-server started for the run) in front of the reads, and report its hit rate")
	if err := fs.parse(args); err != nil {
		return err
	}
	mix, ok := load.Mixes[*mixName]
	if !ok {
		return usageError{fmt.Sprintf("unknown --mix %q (default, artillery)", *mixName)}
	}
	steps, err := load.ParseSteps(*profile)
	if err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	tally := &local.MetricTally{}
	if *readCache && base != "" {
		return usageError{"--read-cache runs a local server: drop --target"}
	}
	if base == "" {
		projectDir, err := projectDirOr(*dir)
		if err != nil {
			return err
		}
		o := local.Options{ProjectDir: projectDir, Stack: *stack, ThrottleRate: *rate, ThrottleBurst: *burst}
		if *readCache {
			o.ReadCache, o.Log = &local.ReadCacheOptions{}, tally
		}
		srv, err := local.Start(ctx, o)
		if err != nil {
			return err
		}
		defer srv.Close()
		base = srv.URL
		fmt.Fprintf(stdout, "local server %s (stack %s, throttle burst %d, rate %.0f rps, DynamoDB Local)\n", base, *stack, srv.Burst, srv.Rate)
	}
	rep, err := load.Run(ctx, load.Options{Target: base, AllowRemote: *allowRemote, Steps: steps, Mix: mix, Progress: stderr, Seed: *seed})
	if err != nil {
		return err
	}
	rep.WriteTable(stdout)
	if err := rep.WriteFiles(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/load.csv, %s/load.json, %s/load.png\n", *out, *out, *out)
	if *readCache {
		hits, misses, fallbacks := tally.Sum(contract.CacheHits), tally.Sum(contract.CacheMisses), tally.Sum(contract.CacheFallbacks)
		fmt.Fprintf(stdout, "read cache: %.0f hits, %.0f misses, %.0f fallbacks: hit rate %.1f %%\n", hits, misses, fallbacks,
			100*hits/max(1, hits+misses+fallbacks))
	}
	return nil
}

func runSimulate(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("simulate", stdout, stderr)
	scenario := fs.String("scenario", local.DemoScenario, "nashville_tornado, california_earthquake or gulf_hurricane")
	n := fs.Int("num-calls", local.DemoCalls, "number of calls (1-10000)")
	seed := fs.Int64("seed", -1, "seed for reproducible calls (default: time-based)")
	target := fs.String("target", "", "base URL of the API (default: a local server); a deployed API needs --api-key")
	apiKey := fs.String("api-key", "", "x-api-key header for a deployed API")
	if err := fs.parse(args); err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	if base == "" {
		projectDir, err := projectDirOr(*dir)
		if err != nil {
			return err
		}
		srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack})
		if err != nil {
			return err
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
		return err
	}
	fmt.Fprintf(stdout, "HTTP %d %s\n", status, body)
	if status != 200 {
		return fmt.Errorf("/simulate answered HTTP %d", status)
	}
	return nil
}

func runSpike(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("spike", stdout, stderr)
	fault := fs.String("fault", local.FaultThrottle, "throttle (a share of table writes refused) or outage (the table down)")
	n := fs.Int("calls", 0, "calls to send (default: 10x the stack's failover load)")
	rate := fs.Float64("rate", 0, "calls per second (default: 10x the stack's failover load)")
	throttle := fs.Float64("throttle-rate", 0.5, "with --fault throttle: share of table write attempts refused")
	outage := fs.Duration("outage", 10*time.Second, "with --fault outage: how long the table is down")
	projectDir, err := parseLocal(fs, dir, args)
	if err != nil {
		return err
	}
	if *fault != local.FaultThrottle && *fault != local.FaultOutage {
		return usageError{fmt.Sprintf("unknown --fault %q (throttle, outage)", *fault)}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	faults := emulator.NewTableFaults(911)
	fmt.Fprintln(stderr, "starting DynamoDB Local, moto's SQS and the local API with the durable intake ...")
	srv, err := local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack, Intake: &local.IntakeOptions{}, Faults: faults})
	if err != nil {
		return err
	}
	defer srv.Close()
	spike := capacity.DesignPeakRps(srv.Config.FailoverLoadRps)
	o := local.SpikeOptions{Calls: *n, Rate: *rate, Workers: 64, Fault: *fault, ThrottleRate: *throttle, Outage: *outage,
		DrainTimeout: 5 * time.Minute, Progress: stderr}
	if o.Calls == 0 {
		o.Calls = spike
	}
	if o.Rate == 0 {
		o.Rate = float64(spike)
	}
	fmt.Fprintf(stdout, "spike on stack %s (intake %s): %d calls at %.0f calls/s = %dx its failover load of %d rps; fault %s\n",
		*stack, srv.Config.IntakeMode, o.Calls, o.Rate, capacity.SpikeFactor, srv.Config.FailoverLoadRps, *fault)
	res, err := local.RunSpike(ctx, srv, faults, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "answers %v; table attempts refused: %d throttled, %d unavailable; dead letters %d\n",
		res.Statuses, res.Throttled, res.Unavailable, res.DeadLetters)
	failure := ""
	if res.Lost > 0 || res.Duplicates > 0 {
		failure = fmt.Sprintf("%d calls lost, %d stored twice", res.Lost, res.Duplicates)
	}
	return lastLine(stdout, stderr, "spike", res.Line(), failure)
}

func runWatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("watch", stdout, stderr)
	url := fs.String("url", "", "the feed's WebSocket URL (serve prints it; the stack output feedUrl in AWS)")
	token := fs.String("token", os.Getenv("ACCESS911_FEED_TOKEN"), "a dispatcher token (default $ACCESS911_FEED_TOKEN)")
	types := fs.String("types", "", "comma-separated emergency types to receive (default: all)")
	areas := fs.String("areas", "", "comma-separated areas served: geohash cells of 4 characters (dn6m) or unlocated (default: none, a supervisor's summaries)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *url == "" || *token == "" {
		return usageError{"give --url and --token (serve prints both)"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return local.Watch(ctx, *url, *token, splitList(*areas), splitList(*types), stdout)
}

// splitList reads a comma-separated flag (empty: none).
func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func runFeedBench(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("feed-bench", stdout, stderr)
	n := fs.Int("connections", 1000, "WebSocket connections to open")
	m := fs.Int("calls", 10, "calls to send through POST /calls")
	serverProfile := fs.String("server-cpuprofile", "", "write the server process's CPU profile to this file")
	interval := fs.Duration("interval", 0, "send calls at this pace whatever the feed's progress (0: each once the previous reached everyone)")
	areas := fs.Int("areas", 20, "sustained mode: areas the dispatchers are spread over (the busiest cells of the scenario generator's calls)")
	supervisors := fs.Int("supervisors", 0, "sustained mode: supervisor connections (summaries) besides the dispatchers")
	rate := fs.Float64("rate", 0, "sustained mode: calls per second sent through POST /calls (0: the --calls mode)")
	duration := fs.Duration("duration", 60*time.Second, "sustained mode: how long calls are sent")
	projectDir, err := parseLocal(fs, dir, args)
	if err != nil {
		return err
	}
	if *rate > 0 && (*rate*duration.Seconds() < 1 || *areas < 1 || *rate > 2000 || *duration > 10*time.Minute) {
		return usageError{"sustained mode needs --rate 0-2000 calls/s, --duration up to 10m (at least one call) and --areas >= 1"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintln(stderr, "starting `access911 serve` (DynamoDB Local, moto, the local API, the durable intake and the dispatcher feed) in its own process ...")
	srv, err := startServeProcess(ctx, projectDir, *stack, *n+*supervisors, *serverProfile)
	if err != nil {
		return err
	}
	defer srv.stop(stderr)
	if *rate > 0 {
		return sustainedFeedBench(ctx, srv, local.SustainedOptions{Dispatchers: *n, Areas: *areas, Supervisors: *supervisors,
			Rate: *rate, Duration: *duration}, stdout, stderr)
	}
	res, err := local.RunFeedBench(ctx, srv.FeedEndpoints, *n, *m, *interval, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d partitions of about %d connections, %s to open them\n", srv.Partitions,
		local.ConnectionsPerPartition, res.ConnectTime.Round(time.Millisecond))
	failure := ""
	if res.Missing > 0 || res.Dupes > 0 {
		failure = fmt.Sprintf("%d deliveries missing, %d duplicated", res.Missing, res.Dupes)
	}
	return lastLine(stdout, stderr, "feed-bench", res.Line(), failure)
}

// sustainedFeedBench runs feed-bench's sustained mode and prints its line.
func sustainedFeedBench(ctx context.Context, srv *serveProcess, o local.SustainedOptions, stdout, stderr io.Writer) error {
	res, err := local.RunSustainedFeedBench(ctx, srv.FeedEndpoints, o, stderr)
	if err != nil {
		return lastLine(stdout, stderr, "feed-bench", res.Line(), err.Error())
	}
	fmt.Fprintf(stdout, "%d partitions; %d dispatchers in %d areas, %d supervisors (longest wait between summaries %s); %d calls sent in %s\n",
		srv.Partitions, o.Dispatchers, res.AreasUsed, o.Supervisors, res.SummaryGap.Round(time.Millisecond), res.Calls, res.SendTime.Round(time.Millisecond))
	fmt.Fprintf(stdout, "median: %d ms from the POST to the swarm's broadcast (write, stream, batching window), %d ms from there to the frame\n",
		res.ToSwarm.Milliseconds(), res.FromSwarm.Milliseconds())
	failure := ""
	if res.Missing > 0 || res.Dupes > 0 || res.Routed > 0 {
		failure = fmt.Sprintf("%d deliveries missing, %d duplicated, %d misrouted", res.Missing, res.Dupes, res.Routed)
	}
	return lastLine(stdout, stderr, "feed-bench", res.Line(), failure)
}

// errReported is a failure already explained: exit 1, print nothing more.
var errReported = errors.New("reported")

// lastLine prints a command's result line last (tools and people read the
// last line), after saying on stderr why the run failed, if it did.
func lastLine(stdout, stderr io.Writer, cmd, line, failure string) error {
	if failure != "" {
		fmt.Fprintf(stderr, "access911 %s: %s\n", cmd, failure)
	}
	fmt.Fprintln(stdout, line)
	if failure != "" {
		return errReported
	}
	return nil
}

func runReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stdout, stderr)
	queueURL := fs.String("queue-url", "", "the intake queue (stack output "+contract.OutputIntakeQueueURL+")")
	dlqURL := fs.String("dlq-url", "", "its dead-letter queue (stack output "+contract.OutputIntakeDLQURL+")")
	inbox := fs.Bool("inbox", false, "re-drive failed inbox deliveries instead (give --failures-url)")
	failuresURL := fs.String("failures-url", "", "with --inbox: the inbox failure queue (stack output "+contract.OutputInboxFailuresURL+")")
	streamFailures := fs.Bool("stream-failures", false, "re-broadcast the feed's discarded stream batches instead (give --bucket, --function, --region)")
	bucket := fs.String("bucket", "", "with --stream-failures: the failure bucket (stack output "+contract.OutputArchiveBucketName+")")
	function := fs.String("function", "", "with --stream-failures: the swarm (stack output "+contract.OutputFeedSwarmFunction+")")
	apply := fs.Bool("apply", false, "move the messages (default: only list them)")
	maxN := fs.Int("max", 0, "move at most this many (0: all)")
	region := fs.String("region", "", "the queues' region (default: from the queue URL)")
	endpoint := fs.String("endpoint-url", "", "send every SQS (and S3) call to this endpoint (an emulator); empty for AWS")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *inbox {
		return replayInbox(*failuresURL, *region, *endpoint, *apply, *maxN, stdout, stderr)
	}
	if *streamFailures {
		return replayStream(*bucket, *function, *region, *endpoint, *apply, *maxN, stdout, stderr)
	}
	if *queueURL == "" || *dlqURL == "" {
		return usageError{"give --queue-url and --dlq-url (the stack outputs " + contract.OutputIntakeQueueURL + " and " + contract.OutputIntakeDLQURL + ")"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	client, err := replay.NewClient(ctx, *dlqURL, *region, *endpoint)
	if err != nil {
		return err
	}
	rep, err := replay.Run(ctx, replay.Options{Client: client, DLQURL: *dlqURL, QueueURL: *queueURL, Apply: *apply, Max: *maxN, Log: stderr})
	fmt.Fprintf(stdout, "dead-letter queue: %d calls found %v\n", rep.Found, rep.Calls)
	if err != nil {
		return err
	}
	if !*apply {
		fmt.Fprintln(stdout, "dry run: nothing moved (--apply moves them back to the intake queue)")
		return nil
	}
	fmt.Fprintf(stdout, "moved %d calls back to the intake queue; the drain stores each once\n", rep.Moved)
	return nil
}

// replayInbox re-drives the provider deliveries whose inbox events failed
// every asynchronous retry (replay --inbox).
func replayInbox(failuresURL, region, endpoint string, apply bool, maxN int, stdout, stderr io.Writer) error {
	if failuresURL == "" {
		return usageError{"give --failures-url (the stack output " + contract.OutputInboxFailuresURL + ")"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	sqsClient, err := replay.NewClient(ctx, failuresURL, region, endpoint)
	if err != nil {
		return err
	}
	s3Client, err := replay.NewS3Client(ctx, failuresURL, region, endpoint)
	if err != nil {
		return err
	}
	rep, err := replay.RunInbox(ctx, replay.InboxOptions{SQS: sqsClient, S3: s3Client, FailuresURL: failuresURL,
		Apply: apply, Max: maxN, Log: stderr})
	fmt.Fprintf(stdout, "inbox failures: %d records naming %d deliveries %v\n", rep.Found, rep.Deliveries, rep.Keys)
	if err != nil {
		return err
	}
	if !apply {
		fmt.Fprintln(stdout, "dry run: nothing re-driven (--apply copies each delivery onto itself, which invokes the function again)")
		return nil
	}
	fmt.Fprintf(stdout, "re-drove %d deliveries (%d already gone from the inbox); the function stores each call once\n", rep.Redriven, rep.Gone)
	return nil
}

// replayStream re-broadcasts the calls of the stream batches the swarm's
// mapping discarded (replay --stream-failures).
func replayStream(bucket, function, region, endpoint string, apply bool, maxN int, stdout, stderr io.Writer) error {
	if bucket == "" || function == "" || region == "" {
		return usageError{"give --bucket, --function and --region (the stack outputs " + contract.OutputArchiveBucketName +
			" and " + contract.OutputFeedSwarmFunction + ", and its region)"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	s3Client, lambdaClient, err := replay.NewStreamClients(ctx, region, endpoint)
	if err != nil {
		return err
	}
	rep, err := replay.RunStreamFailures(ctx, replay.StreamOptions{S3: s3Client, Bucket: bucket,
		Invoke: feed.LambdaInvoker(lambdaClient, function), Apply: apply, Max: maxN, Log: stderr})
	fmt.Fprintf(stdout, "stream failures: %d records holding %d new calls %v\n", rep.Records, rep.Calls, rep.IDs)
	if err != nil {
		return err
	}
	if !apply {
		fmt.Fprintln(stdout, "dry run: nothing re-broadcast (--apply invokes the swarm with each batch, then deletes its record)")
		return nil
	}
	fmt.Fprintf(stdout, "re-broadcast %d batches; a dispatcher who already got a call does not get it again\n", rep.Redriven)
	return nil
}

func runWebhookSend(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("webhook-send", stdout, stderr)
	eventType := fs.String("type", contract.EventTranscription, "post_call_transcription, post_call_audio or call_initiation_failure")
	target := fs.String("target", "", "the stack's webhookUrl (or apiUrl); default: a local server started for the delivery")
	id := fs.String("conversation-id", "", "conversation id (default: a new one)")
	audioBytes := fs.Int("audio-bytes", 256<<10, "size of the audio in a post_call_audio")
	if err := fs.parse(args); err != nil {
		return err
	}
	d := local.Delivery{Type: *eventType, ConversationID: *id, Secret: os.Getenv(contract.EnvWebhookSecret), AudioBytes: *audioBytes}
	if d.ConversationID == "" {
		d.ConversationID = local.NewConversationID()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	var srv *local.Server
	if base == "" {
		if d.Secret == "" {
			d.Secret = local.NewSecret() // the local server and this delivery share it
		}
		projectDir, err := projectDirOr(*dir)
		if err != nil {
			return err
		}
		if srv, err = local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack, WebhookSecret: d.Secret}); err != nil {
			return err
		}
		defer srv.Close()
		base = srv.URL
	} else if d.Secret == "" {
		return usageError{"set " + contract.EnvWebhookSecret + " to the webhook secret the deployment verifies with"}
	}
	status, body, err := local.SendDelivery(ctx, base, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "POST %s (%s, conversation %s): HTTP %d %s\n", local.WebhookURL(base), d.Type, d.ConversationID, status, body)
	if status < 200 || status > 299 {
		return fmt.Errorf("the delivery was answered HTTP %d", status)
	}
	if srv != nil && d.Type != contract.EventAudio {
		c, err := srv.Store.Get(ctx, d.ConversationID)
		if err != nil {
			return err
		}
		stored, _ := json.MarshalIndent(c, "  ", "  ")
		fmt.Fprintf(stdout, "stored call:\n  %s\n", stored)
	}
	return nil
}

func runDrill(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("drill", stdout, stderr)
	to := fs.String("to", "", "region to send the callers to: every region before it in the failover order is denied")
	evacuate := fs.String("evacuate", "", "region to take the callers away from (a gray failure: it answers but should not serve)")
	rollback := fs.Bool("rollback", false, "undo the control of the last completed drill (a failback: gated on catch-up)")
	dryRun := fs.Bool("dry-run", false, "run the checks, change nothing")
	force := fs.Bool("force", false, "proceed when the region being left does not answer, replication lags past --rpo-bound, or a recovering region has not caught up")
	rpo := fs.Duration("rpo-bound", drill.DefaultRPOBound, "largest acceptable replication lag")
	outputs := fs.String("outputs", "drill-outputs", "directory of <stack>.json stack outputs")
	reports := fs.String("report-dir", "drill-reports", "where reports are written and --rollback looks")
	endpoint := fs.String("endpoint-url", "", "send every AWS call to this endpoint (an emulator); empty for AWS")
	apiKey := fs.String("api-key", os.Getenv(envAPIKey), "our clients' API key, for the keyed probe and the canary (default $"+envAPIKey+
		"; empty: read the target region's replica of "+contract.APIKeySecretName+")")
	if err := fs.parse(args); err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{*to != "", *evacuate != "", *rollback} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return usageError{"give one of --to REGION, --evacuate REGION or --rollback"}
	}
	inv, err := drill.LoadOutputs(*outputs)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	clients, err := drill.NewClients(ctx, *endpoint)
	if err != nil {
		return err
	}
	opts := drill.Options{To: *to, Evacuate: *evacuate, Rollback: *rollback, DryRun: *dryRun, Force: *force, RPOBound: *rpo,
		ReportDir: *reports, Inventory: inv, Clients: clients, Log: stdout, APIKey: *apiKey}
	// Against AWS, verify through public DNS as callers resolve the name,
	// allowing for the checks' 30 s and the records' TTL; emulators have no DNS.
	if *endpoint == "" {
		opts.ThroughName, opts.VerifyWait = true, 3*time.Minute
	}
	rep, err := drill.Run(ctx, opts)
	rep.WriteTable(stdout)
	return err
}

func runArtifact(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("artifact", stdout, stderr)
	dir := fs.String("dir", "", "directory holding go.mod and Pulumi.yaml (default: the nearest one)")
	if err := fs.parse(args); err != nil {
		return err
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			return err
		}
	}
	a, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: projectDir})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n  %d bytes, sha256 (base64) %s\n", a.Path, a.Size, a.SHA256)
	return nil
}

// findProject is the nearest directory holding Pulumi.yaml at or above the
// working directory.
func findProject() (string, error) {
	dir, err := artifact.FindUp(".", "Pulumi.yaml")
	if err != nil {
		return "", fmt.Errorf("%w (use --dir)", err)
	}
	return dir, nil
}

// localFeedSecret is the secret serve signs the local feed's tokens with:
// $ACCESS911_FEED_SECRET's current secret when set (as feed-token reads
// it), else "" (a secret of the run's own).
func localFeedSecret() (string, error) {
	if os.Getenv(feedSecretEnv) == "" {
		return "", nil
	}
	secrets, err := elevenlabs.ParseSecrets(os.Getenv(feedSecretEnv))
	if err != nil {
		return "", usageError{fmt.Sprintf("$%s: %v", feedSecretEnv, err)}
	}
	return secrets[0], nil
}

// feedSecretEnv holds the feed secret for feed-token and serve.
const feedSecretEnv = "ACCESS911_FEED_SECRET"

func runFeedToken(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("feed-token", stdout, stderr)
	subject := fs.String("subject", "", "who the token is for (a dispatcher or console id; the access logs show it)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is accepted (a shift)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *subject == "" || *ttl <= 0 {
		return usageError{"give --subject and a positive --ttl"}
	}
	secrets, err := elevenlabs.ParseSecrets(os.Getenv(feedSecretEnv))
	if err != nil {
		return usageError{fmt.Sprintf("set %s to the feed secret (aws secretsmanager get-secret-value --secret-id \"$(pulumi stack output %s)\"): %v",
			feedSecretEnv, contract.OutputFeedSecretArn, err)}
	}
	fmt.Fprintln(stdout, feed.MintToken(secrets[0], *subject, *ttl, time.Now()))
	return nil
}
