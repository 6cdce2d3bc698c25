package local

import (
	"context"
	"fmt"
	"github.com/access911/access911-infra/internal/provider"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/app/feed/registry"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator/esm"
)

// FeedOptions shapes the local dispatcher feed.
type FeedOptions struct {
	// Connections the run expects: the local partition count is one per
	// ConnectionsPerPartition of them (seed 002's query workers assume about
	// 100 connections per partition), at least 1.
	Connections int
	// Queues are the fan-out queues (default 2 locally: moto slows as a
	// queue's backlog grows; seed 002 uses 10).
	Queues int
	// Secret signs dispatcher tokens (default: a new one for this run).
	Secret string
}

// ConnectionsPerPartition: seed 002, "each query for each partition return
// 100 connections".
const ConnectionsPerPartition = 100

// Feed is the local dispatcher feed: the WebSocket API's local gateway,
// the connections and partitions tables on DynamoDB Local, a reader of the
// calls table's stream feeding the swarm, and a worker behind an emulated
// event source mapping per fan-out queue on moto's SQS.
type Feed struct {
	// URL is the WebSocket endpoint (ws://127.0.0.1:PORT/?token=...).
	URL      string
	Secret   string
	Gateway  *WebSocketGateway
	Registry *registry.Registry
	// Ledger makes each partition's delivery of a call happen once.
	Ledger *feed.Ledger
	// Failures is the stream mapping's failure bucket (on moto): the
	// batches the swarm failed every retry, as Lambda records them.
	Failures *esm.S3Destination

	log *slog.Logger

	http     *http.Server
	reader   *esm.StreamReader
	mappings []*esm.SQSMapping
	cancel   context.CancelFunc
}

// startFeed brings the feed up next to a server with the durable intake
// (whose moto it shares).
func (s *Server) startFeed(ctx context.Context, o FeedOptions, ddbURL string, logw io.Writer) error {
	if s.Intake == nil {
		return fmt.Errorf("the local feed needs moto's SQS: run it with the intake")
	}
	if o.Secret == "" {
		o.Secret = provider.NewSecret()
	}
	if o.Queues == 0 {
		o.Queues = 4
	}
	partitions := max(1, (o.Connections+ConnectionsPerPartition-1)/ConnectionsPerPartition)
	db := s.Store.DB.(*dynamodb.Client)
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	f := &Feed{Secret: o.Secret, Registry: &registry.Registry{DB: db, Connections: "feed-connections-" + suffix,
		Partitions: "feed-partitions-" + suffix, PartitionCount: partitions, PerArea: min(partitions, s.Config.Feed.PartitionsPerArea)}}
	if err := feed.EnsureTables(ctx, db, f.Registry.Connections, f.Registry.Partitions); err != nil {
		return err
	}
	f.Ledger = &feed.Ledger{DB: db, Table: "feed-deliveries-" + suffix, Lease: workerTimeout}
	if err := feed.EnsureTable(ctx, db, feed.LedgerTableInput(f.Ledger.Table)); err != nil {
		return err
	}
	f.log = slog.New(slog.NewJSONHandler(logw, nil))
	var err error
	if f.Failures, err = failureBucket(ctx, s.Intake.Endpoint, s.Config.Region, "feed-failures-"+suffix); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	// The same SDK client as the worker in AWS, unsigned: the local
	// @connections API checks no SigV4 (signing was a sixth of the local
	// server's CPU in feed-bench's profile).
	poster := &feed.ManagementPoster{Client: apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: s.Config.Region, BaseEndpoint: aws.String(base), Credentials: aws.AnonymousCredentials{},
		HTTPClient: feed.PostHTTPClient()})}
	f.Gateway = &WebSocketGateway{Routes: &feed.Routes{Registry: f.Registry, Poster: poster, Log: f.log},
		Authorizer: &feed.Authorizer{Secrets: staticFeedSecrets{o.Secret}}}
	f.http = &http.Server{Handler: f.Gateway, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.http.Serve(ln) }()
	f.URL = "ws://" + ln.Addr().String() + "/"
	fctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	s.Feed = f
	return f.pipeline(fctx, s, o.Queues, ddbURL, poster)
}

// workerTimeout is the local workers' timeout, and so their delivery
// claims' lease.
const workerTimeout = 5 * time.Second

// pipeline creates the fan-out queues and starts the workers behind them,
// then the stream reader that feeds the swarm.
func (f *Feed) pipeline(ctx context.Context, s *Server, queues int, ddbURL string, poster *feed.ManagementPoster) error {
	worker := &feed.Worker{Members: f.Registry, Poster: poster, Forgetter: f.Registry, Parallelism: contract.FeedPostsInFlight, Ledger: f.Ledger}
	swarm := &feed.Swarm{SQS: s.Intake.Client, Partitions: f.Registry.PartitionCount, PerArea: f.Registry.PerArea,
		Broadcasts: &feed.Broadcasts{DB: s.Store.DB.(*dynamodb.Client), Table: f.Ledger.Table}, Log: f.log,
		Region: s.Config.Region}
	if s.ReadCache != nil { // the stream's one reader hands the cache every batch, as the swarm does in AWS
		swarm.Invalidate = s.ReadCache.Cache.HandleStream
	}
	for q := 0; q < queues; q++ {
		out, err := s.Intake.Client.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName: aws.String(fmt.Sprintf("%s-feed-%d", queuePrefix(s.Intake.QueueURL), q))})
		if err != nil {
			return fmt.Errorf("fan-out queue %d: %w", q, err)
		}
		url := aws.ToString(out.QueueUrl)
		swarm.Queues = append(swarm.Queues, url)
		// Two workers per queue, not the deployed 25: on two cores the
		// emulators are the ceiling, and the deployed figure measured worse
		// here (docs/performance.md).
		m := &esm.SQSMapping{Client: s.Intake.Client, QueueURL: url, BatchSize: 10, Window: time.Second,
			Concurrency: 2, VisibilityTimeout: 30 * time.Second, FunctionTimeout: workerTimeout,
			Function: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				resp, _, err := worker.Handle(ctx, ev)
				return resp, err
			}}
		m.Start(ctx)
		f.mappings = append(f.mappings, m)
	}
	f.reader = &esm.StreamReader{
		DB: s.Store.DB.(*dynamodb.Client), Table: s.Table,
		Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: s.Config.Region, BaseEndpoint: aws.String(ddbURL),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}),
		Filter: f.streamFilter(s), // the mapping's filter
		// The deployed mapping's batch size and window, one batch at a time
		// per shard, and its error handling: bisected, retried, discarded to
		// the failure bucket, never blocking the shard.
		BatchSize: capacity.FeedStreamBatchSize, Window: capacity.FeedStreamBatchingWindow,
		Retries: aws.Int(capacity.FeedStreamRetries), Bisect: true,
		MaxRecordAge: capacity.FeedStreamMaxRecordAgeSeconds * time.Second,
		Mapping:      "local-feed-stream", OnFailure: f.Failures.Put, Log: f.log,
		Function: func(ctx context.Context, records []esm.StreamRecord) error {
			_, err := swarm.Handle(ctx, esm.StreamEvent(f.reader.StreamArn, records)) // the swarm function's own entry
			return err
		},
	}
	return f.reader.Start(ctx)
}

// streamFilter is the stream mapping's filter: new calls only, or every
// change when the read cache takes them too (the stream's one reader).
func (f *Feed) streamFilter(s *Server) func(string) bool {
	if s.ReadCache != nil {
		return nil
	}
	return func(name string) bool { return name == "INSERT" }
}

// failureBucket creates the local failure bucket on moto's S3.
func failureBucket(ctx context.Context, endpoint, region, name string) (*esm.S3Destination, error) {
	client := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := client.CreateBucket(ctx, in); err != nil {
		return nil, fmt.Errorf("feed failure bucket: %w", err)
	}
	return &esm.S3Destination{Client: client, Bucket: name}, nil
}

// Token mints a dispatcher token for this feed.
func (f *Feed) Token(subject string) string {
	return feed.MintToken(f.Secret, subject, 2*time.Hour, time.Now())
}

// Close stops the feed.
func (f *Feed) Close() {
	f.cancel()
	for _, m := range f.mappings {
		m.Wait()
	}
	if f.reader != nil {
		f.reader.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.http.Shutdown(ctx)
}

type staticFeedSecrets []string

func (s staticFeedSecrets) FeedSecrets(context.Context) ([]string, error) { return s, nil }

// queuePrefix is the intake queue's name, which the feed's queues extend.
func queuePrefix(queueURL string) string {
	for i := len(queueURL) - 1; i >= 0; i-- {
		if queueURL[i] == '/' {
			return queueURL[i+1:]
		}
	}
	return queueURL
}
