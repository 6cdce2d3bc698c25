package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"github.com/access911/access911-infra/internal/feedbench"
	"github.com/access911/access911-infra/internal/provider"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/load"
	"github.com/access911/access911-infra/internal/local"
)

// The local run: the demo, the local server and what drives it (load,
// simulate, spike, the dispatcher console and feed bench, provider
// deliveries, feed tokens).

func localFlags(name string, stdout, stderr io.Writer) (*cli.Flags, *string, *string) {
	fs := cli.NewFlags(name, stdout, stderr)
	stack := fs.String("stack", "us-east-1", "stack whose configuration (throttling, table, region) to use")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one)")
	return fs, stack, dir
}

// parseLocal parses a local command's flags and resolves its project directory.
func parseLocal(fs *cli.Flags, dir *string, args []string) (string, error) {
	if err := fs.ParseArgs(args); err != nil {
		return "", err
	}
	return cli.ProjectDirOr(*dir)
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
			return cli.UsageError{Msg: "--ready-json needs the feed (drop --no-intake)"}
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
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	mix, ok := load.Mixes[*mixName]
	if !ok {
		return cli.UsageError{Msg: fmt.Sprintf("unknown --mix %q (default, artillery)", *mixName)}
	}
	steps, err := load.ParseSteps(*profile)
	if err != nil {
		return cli.UsageError{Msg: err.Error()}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	tally := &metrics.Tally{}
	if *readCache && base != "" {
		return cli.UsageError{Msg: "--read-cache runs a local server: drop --target"}
	}
	if base == "" {
		projectDir, err := cli.ProjectDirOr(*dir)
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
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	if base == "" {
		projectDir, err := cli.ProjectDirOr(*dir)
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
		return cli.UsageError{Msg: fmt.Sprintf("unknown --fault %q (throttle, outage)", *fault)}
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
	return cli.LastLine(stdout, stderr, "spike", res.Line(), failure)
}

func runWatch(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("watch", stdout, stderr)
	url := fs.String("url", "", "the feed's WebSocket URL (serve prints it; the stack output feedUrl in AWS)")
	token := fs.String("token", os.Getenv("ACCESS911_FEED_TOKEN"), "a dispatcher token (default $ACCESS911_FEED_TOKEN)")
	types := fs.String("types", "", "comma-separated emergency types to receive (default: all)")
	areas := fs.String("areas", "", "comma-separated areas served: geohash cells of 4 characters (dn6m) or unlocated (default: none, a supervisor's summaries)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	if *url == "" || *token == "" {
		return cli.UsageError{Msg: "give --url and --token (serve prints both)"}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return feedbench.Watch(ctx, *url, *token, splitList(*areas), splitList(*types), stdout)
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
		return cli.UsageError{Msg: "sustained mode needs --rate 0-2000 calls/s, --duration up to 10m (at least one call) and --areas >= 1"}
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
		return sustainedFeedBench(ctx, srv, feedbench.SustainedOptions{Dispatchers: *n, Areas: *areas, Supervisors: *supervisors,
			Rate: *rate, Duration: *duration}, stdout, stderr)
	}
	res, err := feedbench.RunFeedBench(ctx, srv.FeedEndpoints, *n, *m, *interval, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d partitions of about %d connections, %s to open them\n", srv.Partitions,
		local.ConnectionsPerPartition, res.ConnectTime.Round(time.Millisecond))
	failure := ""
	if res.Missing > 0 || res.Dupes > 0 {
		failure = fmt.Sprintf("%d deliveries missing, %d duplicated", res.Missing, res.Dupes)
	}
	return cli.LastLine(stdout, stderr, "feed-bench", res.Line(), failure)
}

// sustainedFeedBench runs feed-bench's sustained mode and prints its line.
func sustainedFeedBench(ctx context.Context, srv *serveProcess, o feedbench.SustainedOptions, stdout, stderr io.Writer) error {
	res, err := feedbench.RunSustainedFeedBench(ctx, srv.FeedEndpoints, o, stderr)
	if err != nil {
		return cli.LastLine(stdout, stderr, "feed-bench", res.Line(), err.Error())
	}
	fmt.Fprintf(stdout, "%d partitions; %d dispatchers in %d areas, %d supervisors (longest wait between summaries %s); %d calls sent in %s\n",
		srv.Partitions, o.Dispatchers, res.AreasUsed, o.Supervisors, res.SummaryGap.Round(time.Millisecond), res.Calls, res.SendTime.Round(time.Millisecond))
	fmt.Fprintf(stdout, "median: %d ms from the POST to the swarm's broadcast (write, stream, batching window), %d ms from there to the frame\n",
		res.ToSwarm.Milliseconds(), res.FromSwarm.Milliseconds())
	failure := ""
	if res.Missing > 0 || res.Dupes > 0 || res.Routed > 0 {
		failure = fmt.Sprintf("%d deliveries missing, %d duplicated, %d misrouted", res.Missing, res.Dupes, res.Routed)
	}
	return cli.LastLine(stdout, stderr, "feed-bench", res.Line(), failure)
}

func runWebhookSend(args []string, stdout, stderr io.Writer) error {
	fs, stack, dir := localFlags("webhook-send", stdout, stderr)
	eventType := fs.String("type", contract.EventTranscription, "post_call_transcription, post_call_audio or call_initiation_failure")
	target := fs.String("target", "", "the stack's webhookUrl (or apiUrl); default: a local server started for the delivery")
	id := fs.String("conversation-id", "", "conversation id (default: a new one)")
	audioBytes := fs.Int("audio-bytes", 256<<10, "size of the audio in a post_call_audio")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	d := provider.Delivery{Type: *eventType, ConversationID: *id, Secret: os.Getenv(contract.EnvWebhookSecret), AudioBytes: *audioBytes}
	if d.ConversationID == "" {
		d.ConversationID = provider.NewConversationID()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	base := *target
	var srv *local.Server
	if base == "" {
		if d.Secret == "" {
			d.Secret = provider.NewSecret() // the local server and this delivery share it
		}
		projectDir, err := cli.ProjectDirOr(*dir)
		if err != nil {
			return err
		}
		if srv, err = local.Start(ctx, local.Options{ProjectDir: projectDir, Stack: *stack, WebhookSecret: d.Secret}); err != nil {
			return err
		}
		defer srv.Close()
		base = srv.URL
	} else if d.Secret == "" {
		return cli.UsageError{Msg: "set " + contract.EnvWebhookSecret + " to the webhook secret the deployment verifies with"}
	}
	status, body, err := provider.SendDelivery(ctx, base, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "POST %s (%s, conversation %s): HTTP %d %s\n", provider.WebhookURL(base), d.Type, d.ConversationID, status, body)
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

// localFeedSecret is the secret serve signs the local feed's tokens with:
// $ACCESS911_FEED_SECRET's current secret when set (as feed-token reads
// it), else "" (a secret of the run's own).
func localFeedSecret() (string, error) {
	if os.Getenv(feedSecretEnv) == "" {
		return "", nil
	}
	secrets, err := elevenlabs.ParseSecrets(os.Getenv(feedSecretEnv))
	if err != nil {
		return "", cli.UsageError{Msg: fmt.Sprintf("$%s: %v", feedSecretEnv, err)}
	}
	return secrets[0], nil
}

// feedSecretEnv holds the feed secret for feed-token and serve.
const feedSecretEnv = "ACCESS911_FEED_SECRET"

func runFeedToken(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("feed-token", stdout, stderr)
	subject := fs.String("subject", "", "who the token is for (a dispatcher or console id; the access logs show it)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is accepted (a shift)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	if *subject == "" || *ttl <= 0 {
		return cli.UsageError{Msg: "give --subject and a positive --ttl"}
	}
	secrets, err := elevenlabs.ParseSecrets(os.Getenv(feedSecretEnv))
	if err != nil {
		return cli.UsageError{Msg: fmt.Sprintf("set %s to the feed secret (aws secretsmanager get-secret-value --secret-id \"$(pulumi stack output %s)\"): %v",
			feedSecretEnv, contract.OutputFeedSecretArn, err)}
	}
	fmt.Fprintln(stdout, feed.MintToken(secrets[0], *subject, *ttl, time.Now()))
	return nil
}
