package main

import (
	"context"
	"fmt"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/replay"
)

// Operations: replaying what failed, and the DR drill.

func runReplay(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("replay", stdout, stderr)
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
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	if *inbox {
		return replayInbox(*failuresURL, *region, *endpoint, *apply, *maxN, stdout, stderr)
	}
	if *streamFailures {
		return replayStream(*bucket, *function, *region, *endpoint, *apply, *maxN, stdout, stderr)
	}
	if *queueURL == "" || *dlqURL == "" {
		return cli.UsageError{Msg: "give --queue-url and --dlq-url (the stack outputs " + contract.OutputIntakeQueueURL + " and " + contract.OutputIntakeDLQURL + ")"}
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
		return cli.UsageError{Msg: "give --failures-url (the stack output " + contract.OutputInboxFailuresURL + ")"}
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
		return cli.UsageError{Msg: "give --bucket, --function and --region (the stack outputs " + contract.OutputArchiveBucketName +
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

func runDrill(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("drill", stdout, stderr)
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
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{*to != "", *evacuate != "", *rollback} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return cli.UsageError{Msg: "give one of --to REGION, --evacuate REGION or --rollback"}
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
