// Command access911 is the project's tooling CLI: the offline plan, the local
// run on DynamoDB Local (demo, serve, simulate, load), the DR drill, the
// Lambda artifact build and the benchmark summary. See the usage text.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/cost"
	"github.com/access911/access911-infra/internal/load"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/internal/policy"
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
		err = plan.WriteJSON(stdout, planned, func(s plan.Stack) any {
			for i := range costs {
				if costs[i].Stack == s.Config.Region {
					return &costs[i]
				}
			}
			return nil
		})
	} else if err = plan.WriteTable(stdout, planned); err == nil {
		fmt.Fprintln(stdout)
		cost.WriteCostSummary(stdout, costs, prices)
		if len(names) > 0 {
			fmt.Fprintln(stdout, "  (one stack planned: the writes the other regions' calls replicate into it are not counted; access911 cost counts them)")
		}
	}
	if err != nil {
		return err
	}
	// The policy pack: what AWS would do that the mocks accept. On stderr
	// with --json, so stdout stays one JSON object per stack.
	policies := policy.CheckPolicies(planned)
	out := stdout
	if *asJSON {
		out = stderr
	}
	fmt.Fprintln(out)
	policy.WritePolicies(out, policies)
	if policies.Failed("") {
		return errors.New("the policy pack found a FAIL: fix it before pulumi up (each line names the AWS document)")
	}
	return nil
}

func projectDirOr(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return findProject()
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
