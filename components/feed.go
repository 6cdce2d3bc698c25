package components

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// FeedType is the Pulumi type token of the Feed component.
const FeedType = "access911:components:Feed"

// The feed's fixed settings.
const (
	// FeedQueueRetentionSeconds: a partition message older than an hour is
	// no live feed any more (dispatchers read GET /calls); the DLQ keeps
	// failures for SQS's longest, 14 days, to be looked at.
	FeedQueueRetentionSeconds = 3600
	// FeedMaxReceiveCount: a partition message the workers failed five
	// times goes to the dead-letter queue; AWS advises at least 5 for a
	// queue Lambda consumes (capacity.LambdaQueueMinReceiveCount), or
	// throttled receives dead-letter healthy messages.
	FeedMaxReceiveCount = capacity.LambdaQueueMinReceiveCount
	// FeedStreamMaxRecordAgeSeconds and FeedStreamRetries: the swarm's
	// stream mapping's error handling (capacity, which the local reader
	// shares).
	FeedStreamMaxRecordAgeSeconds = capacity.FeedStreamMaxRecordAgeSeconds
	FeedStreamRetries             = capacity.FeedStreamRetries
	// FeedStreamParallelization: one batch at a time per stream shard. The
	// swarm coalesces a batch's calls into one message per partition and
	// each dispatcher gets one frame per message, so every concurrent batch
	// stream would multiply the posts: a dispatcher gets at most one frame
	// per shard per batching window. One swarm takes a full batch
	// (FeedStreamBatchSize) per window, 1,000 calls a second per shard; the
	// table's stream has a shard per table partition.
	FeedStreamParallelization = 1
	// FeedStreamBatchSize and FeedStreamBatchingWindowSeconds: the
	// capacity model's (and the local stream reader's) batch.
	FeedStreamBatchSize             = capacity.FeedStreamBatchSize
	FeedStreamBatchingWindowSeconds = int(capacity.FeedStreamBatchingWindow / time.Second)
	// FeedQueueAgeAlarmSeconds: a partition message waiting 30 s means
	// dispatchers see calls late (the target is seconds).
	FeedQueueAgeAlarmSeconds = 30
	// FeedIteratorAgeAlarmMs: the swarm a minute behind the calls table.
	FeedIteratorAgeAlarmMs = 60_000
	// FeedStageRateLimit / FeedStageBurstLimit: the stage's throttle on
	// connects and messages, at API Gateway's quota of new connections per
	// second (beyond it the account throttles anyway), twice that in bursts.
	FeedStageRateLimit  = capacity.FeedNewConnectionsPerSecond
	FeedStageBurstLimit = 2 * capacity.FeedNewConnectionsPerSecond
)

// LambdaFailureRecordPrefix is where Lambda writes an event source mapping's
// failed batches in an S3 on-failure destination. Lambda developer guide,
// kinesis-on-failure-destination (the same for DynamoDB streams): the object
// is named aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>,
// written with the function's execution role, which needs s3:PutObject and
// s3:ListBucket on the bucket and, for SSE-KMS, kms:GenerateDataKey.
const LambdaFailureRecordPrefix = "aws/lambda/"

// FeedStreamStartingPosition: a new (or replaced) mapping starts at the
// oldest record the stream holds, bounded by FeedStreamMaxRecordAgeSeconds.
// Lambda developer guide (with-ddb): "if you specify LATEST as the starting
// position for the stream, the event source mapping could miss events
// during creation or updates. To ensure that no events are missed, specify
// the stream starting position as TRIM_HORIZON." The swarm's broadcast
// markers keep a replayed call from reaching a dispatcher twice.
const FeedStreamStartingPosition = "TRIM_HORIZON"

// FeedInsertFilter is the stream mapping's filter without the read cache:
// only new calls (INSERT records) invoke the swarm; updates and deletes of
// calls broadcast nothing. With the cache, every change invokes it.
const FeedInsertFilter = `{"eventName":["INSERT"]}`

// FeedArgs configures the dispatcher feed in one region.
type FeedArgs struct {
	// Code and CodeHash are the project's one deployment package; each
	// function picks its entry with contract.EnvFeedRole.
	Code     pulumi.Archive `pulumi:"code"`
	CodeHash string         `pulumi:"codeHash"`
	// CodeObject, instead of Code, is the package as an S3 object in the
	// function's region (a release pipeline's upload); CodeHash is still
	// its base64 SHA-256.
	CodeObject *CodeObject `pulumi:"codeObject"`
	// StreamArn is the calls table's stream in this region: a replica
	// region's stream also carries the calls written in the other regions,
	// so each region broadcasts every call to its own dispatchers once.
	StreamArn pulumi.StringInput `pulumi:"streamArn"`
	// SecretArn is the secret dispatcher tokens are signed with.
	SecretArn pulumi.StringInput `pulumi:"secretArn"`
	// FailureBucketArn and FailureKeyArn: the bucket (and its KMS key) where
	// the stream mapping keeps the batches of new calls the swarm failed.
	// A stream keeps records 24 hours and an SQS or SNS destination gets
	// only their shard and sequence numbers; an S3 destination gets the
	// whole invocation record (Lambda developer guide, "Retain discarded
	// batch records for a DynamoDB event source").
	FailureBucketArn pulumi.StringInput `pulumi:"failureBucketArn"`
	FailureKeyArn    pulumi.StringInput `pulumi:"failureKeyArn"`
	// Sizing (seed 002's numbers are the stacks' defaults); PartitionsPerArea
	// is how many partitions an area's dispatchers spread over (default
	// capacity.FeedPartitionsPerArea).
	Partitions        int `pulumi:"partitions"`
	PartitionsPerArea int `pulumi:"partitionsPerArea"`
	Queues            int `pulumi:"queues"`
	QueryBatchSize    int `pulumi:"queryBatchSize"`
	QueryConcurrency  int `pulumi:"queryConcurrency"`
	TimeoutSeconds    int `pulumi:"timeoutSeconds"`
	MemoryMB          int `pulumi:"memoryMb"`
	LogRetentionDays  int `pulumi:"logRetentionDays"`
	// AlarmTopicArn receives the feed's alarms.
	AlarmTopicArn pulumi.StringInput `pulumi:"alarmTopicArn"`
	// CacheInvalidator, if set, is the read cache's invalidator: the swarm,
	// the stream's one reader, hands it every batch (every change, not only
	// new calls).
	CacheInvalidator *FeedCacheInvalidator `pulumi:"cacheInvalidator"`
	// Region names the region of the feed's dashboard widgets (that of the
	// component's provider).
	Region string `pulumi:"region"`
	// StageDependsOn: resources the stage needs first (the region's API
	// Gateway account logging role, which access logs require).
	StageDependsOn []pulumi.Resource `pulumi:"stageDependsOn"`
	Tags           pulumi.StringMap  `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

// FeedCacheInvalidator is the function the swarm invokes with each batch.
type FeedCacheInvalidator struct {
	FunctionName pulumi.StringInput `pulumi:"functionName"`
	FunctionArn  pulumi.StringInput `pulumi:"functionArn"`
}

// Feed is the WebSocket API, its tables, the fan-out queues, the feed's
// functions and their alarms.
type Feed struct {
	pulumi.ResourceState

	// URL is the wss:// URL dispatchers connect to (with ?token=...).
	URL   pulumi.StringOutput `pulumi:"url"`
	APIID pulumi.StringOutput `pulumi:"apiId"`
	// StageName is the deployed stage's name (a custom domain maps it once
	// it exists).
	StageName        pulumi.StringOutput `pulumi:"stageName"`
	ConnectionsTable pulumi.StringOutput `pulumi:"connectionsTable"`
	PartitionsTable  pulumi.StringOutput `pulumi:"partitionsTable"`
	DLQURL           pulumi.StringOutput `pulumi:"dlqUrl"`
	// SwarmFunction is the stream's reader (replay --stream-failures
	// invokes it with a discarded batch).
	SwarmFunction pulumi.StringOutput `pulumi:"swarmFunctionName"`
}

// feedBuilder registers the feed's parts in order; each step reads what
// the earlier ones made.
type feedBuilder struct {
	ctx    *pulumi.Context
	name   string
	args   FeedArgs
	parent pulumi.ResourceOption

	connections, partitions *dynamodb.Table
	deliveries              *dynamodb.Table
	queues                  []*sqs.Queue
	dlq                     *sqs.Queue
	api                     *apigatewayv2.Api
	managementEndpoint      pulumi.StringOutput
	functions               map[string]registeredLambda // by contract.FeedRole*
	stage                   *apigatewayv2.Stage
	streamMapping           *lambda.EventSourceMapping
}

// NewFeed registers seed 002's broadcast for one region: the WebSocket API
// ($connect behind a REQUEST authorizer, $disconnect, $default, each to its
// own function), the connections, partitions and delivery-ledger tables, K
// fan-out queues with a dead-letter queue, the authorizer, route, swarm and
// worker functions (one binary), the stream mapping (INSERTs only) and the
// queue mappings, alarms and a dashboard.
func NewFeed(ctx *pulumi.Context, name string, args *FeedArgs, opts ...pulumi.ResourceOption) (*Feed, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("feed %q: %w", name, err)
	}
	c := &Feed{}
	if err := ctx.RegisterComponentResource(FeedType, name, c, opts...); err != nil {
		return nil, err
	}
	b := &feedBuilder{ctx: ctx, name: name, args: *args, parent: pulumi.Parent(c), functions: map[string]registeredLambda{}}
	for _, step := range []struct {
		what string
		run  func() error
	}{
		{"tables", b.tables}, {"queues", b.fanoutQueues}, {"api", b.websocketAPI}, {"functions", b.lambdas},
		{"routes", b.routes}, {"mappings", b.mappings}, {"alarms", b.alarms}, {"dashboard", b.dashboard},
	} {
		if err := step.run(); err != nil {
			return nil, fmt.Errorf("feed %q: %s: %w", name, step.what, err)
		}
	}
	c.URL, c.APIID, c.StageName = b.stage.InvokeUrl, b.api.ID().ToStringOutput(), b.stage.Name
	c.ConnectionsTable, c.PartitionsTable, c.DLQURL = b.connections.Name, b.partitions.Name, b.dlq.Url
	c.SwarmFunction = b.functions[contract.FeedRoleSwarm].function.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"url": c.URL, "apiId": c.APIID, "stageName": c.StageName, "connectionsTable": c.ConnectionsTable,
		"partitionsTable": c.PartitionsTable, "dlqUrl": c.DLQURL, "swarmFunctionName": c.SwarmFunction,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *FeedArgs) perArea() int {
	if a.PartitionsPerArea > 0 {
		return a.PartitionsPerArea
	}
	return capacity.FeedPartitionsPerArea
}

func (a *FeedArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("a deployment package and its hash are required")
	case codeMissing(a.Code, a.CodeObject, a.CodeHash) != nil:
		return codeMissing(a.Code, a.CodeObject, a.CodeHash)
	case a.StreamArn == nil || a.SecretArn == nil || a.AlarmTopicArn == nil || a.Region == "":
		return fmt.Errorf("the calls table's stream, the token secret, the alarm topic and the region are required")
	case a.FailureBucketArn == nil || a.FailureKeyArn == nil:
		return fmt.Errorf("the bucket (and its key) for failed stream batches is required")
	case a.Partitions < 1 || a.Queues < 1 || a.Queues > a.Partitions:
		return fmt.Errorf("%d partitions over %d queues: need at least one partition per queue", a.Partitions, a.Queues)
	case a.Queues > capacity.RedriveAllowMaxSourceQueues:
		return fmt.Errorf("%d queues: the DLQ's redrive allow policy names at most %d queues", a.Queues, capacity.RedriveAllowMaxSourceQueues)
	case capacity.FeedMappingConcurrency(a.QueryConcurrency, a.Queues) > capacity.MappingMaxConcurrency:
		return fmt.Errorf("query concurrency %d over %d queues is above %d per queue: an SQS mapping's maximum",
			a.QueryConcurrency, a.Queues, capacity.MappingMaxConcurrency)
	case a.QueryBatchSize < 1 || a.QueryBatchSize > 10:
		return fmt.Errorf("query batch size %d is outside SQS's 1-10 without a batching window", a.QueryBatchSize)
	case a.QueryConcurrency < 2*a.Queues:
		return fmt.Errorf("query concurrency %d is below 2 per queue (%d queues): an SQS mapping's minimum", a.QueryConcurrency, a.Queues)
	case a.TimeoutSeconds < 1 || a.MemoryMB < 128 || a.LogRetentionDays < 1:
		return fmt.Errorf("timeout, memory and log retention are required")
	}
	return nil
}

// tables registers the connections table (by connection id; the partition
// index the query workers read; TTL on stale rows), the partitions table
// (connectionCount per partition) and the delivery ledger (a call's
// delivery to a partition claimed once; TTL). Both on demand, encrypted, with
// point-in-time recovery and deletion protection, in AWS and in Pulumi
// (losing them drops every dispatcher's connection and subscription).
func (b *feedBuilder) tables() error {
	attribute := func(name, kind string) dynamodb.TableAttributeArgs {
		return dynamodb.TableAttributeArgs{Name: pulumi.String(name), Type: pulumi.String(kind)}
	}
	ttl := dynamodb.TableTtlArgs{AttributeName: pulumi.String(contract.FeedExpiresAt), Enabled: pulumi.Bool(true)}
	for _, t := range []struct {
		name string
		into **dynamodb.Table
		args dynamodb.TableArgs
	}{
		{"connections", &b.connections, dynamodb.TableArgs{
			HashKey:    pulumi.String(contract.FeedConnectionKey),
			Attributes: dynamodb.TableAttributeArray{attribute(contract.FeedConnectionKey, "S"), attribute(contract.FeedPartitionKey, "N")},
			GlobalSecondaryIndexes: dynamodb.TableGlobalSecondaryIndexArray{dynamodb.TableGlobalSecondaryIndexArgs{
				Name: pulumi.String(contract.FeedPartitionIndex), HashKey: pulumi.String(contract.FeedPartitionKey),
				ProjectionType: pulumi.String("ALL"),
			}},
			Ttl: ttl,
		}},
		{"partitions", &b.partitions, dynamodb.TableArgs{
			HashKey: pulumi.String(contract.FeedPartitionKey), Attributes: dynamodb.TableAttributeArray{attribute(contract.FeedPartitionKey, "N")},
		}},
		{"deliveries", &b.deliveries, dynamodb.TableArgs{
			HashKey: pulumi.String(contract.FeedDeliveryKey), Attributes: dynamodb.TableAttributeArray{attribute(contract.FeedDeliveryKey, "S")},
			Ttl: ttl,
		}},
	} {
		args := t.args
		args.BillingMode = pulumi.String("PAY_PER_REQUEST")
		args.ServerSideEncryption = dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)}
		args.PointInTimeRecovery = dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)}
		args.DeletionProtectionEnabled = pulumi.Bool(true)
		args.Tags = b.args.Tags
		table, err := dynamodb.NewTable(b.ctx, b.name+"-"+t.name, &args, b.parent, pulumi.Protect(true))
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		*t.into = table
	}
	return nil
}

// fanoutQueues registers the dead-letter queue and the K fan-out queues
// (SSE-SQS, TLS only, visibility 6x the worker's timeout), each
// dead-lettering into it.
func (b *feedBuilder) fanoutQueues() error {
	var err error
	b.dlq, err = sqs.NewQueue(b.ctx, b.name+"-dlq", &sqs.QueueArgs{
		NamePrefix:              pulumi.String(b.name + "-dlq-"),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		MessageRetentionSeconds: pulumi.Int(deadLetterRetentionSeconds),
		Tags:                    b.args.Tags,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("dead-letter queue: %w", err)
	}
	redrive := b.dlq.Arn.ApplyT(func(arn string) string {
		out, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": FeedMaxReceiveCount})
		return string(out)
	}).(pulumi.StringOutput)
	policies := map[string]*sqs.Queue{b.name + "-dlq": b.dlq}
	for i := range b.args.Queues {
		name := fmt.Sprintf("%s-%d", b.name, i+1)
		q, err := sqs.NewQueue(b.ctx, name, &sqs.QueueArgs{
			NamePrefix:               pulumi.String(name + "-"),
			SqsManagedSseEnabled:     pulumi.Bool(true),
			MessageRetentionSeconds:  pulumi.Int(FeedQueueRetentionSeconds),
			VisibilityTimeoutSeconds: pulumi.Int(capacity.VisibilityTimeoutFactor * b.args.TimeoutSeconds),
			RedrivePolicy:            redrive,
			Tags:                     b.args.Tags,
		}, b.parent)
		if err != nil {
			return fmt.Errorf("queue %d: %w", i+1, err)
		}
		b.queues = append(b.queues, q)
		policies[name] = q
	}
	sources := pulumi.StringArray{}
	for _, q := range b.queues {
		sources = append(sources, q.Arn)
	}
	if _, err := sqs.NewRedriveAllowPolicy(b.ctx, b.name+"-dlq", &sqs.RedriveAllowPolicyArgs{
		QueueUrl: b.dlq.Url,
		RedriveAllowPolicy: sources.ToStringArrayOutput().ApplyT(func(arns []string) string {
			out, _ := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": arns})
			return string(out)
		}).(pulumi.StringOutput),
	}, b.parent); err != nil {
		return fmt.Errorf("redrive allow policy: %w", err)
	}
	for name, q := range policies {
		if _, err := sqs.NewQueuePolicy(b.ctx, name, &sqs.QueuePolicyArgs{
			QueueUrl: q.Url,
			Policy:   q.Arn.ApplyT(func(arn string) string { return TLSOnlyQueuePolicy(arn).JSON() }).(pulumi.StringOutput),
		}, b.parent); err != nil {
			return fmt.Errorf("queue policy %s: %w", name, err)
		}
	}
	return nil
}

// websocketAPI registers the WebSocket API; routes select on the message's
// "action" (anything else goes to $default).
func (b *feedBuilder) websocketAPI() error {
	var err error
	b.api, err = apigatewayv2.NewApi(b.ctx, b.name, &apigatewayv2.ApiArgs{
		Name:                     pulumi.String(b.name),
		Description:              pulumi.String(appName(b.args.App) + " dispatcher feed: every new call pushed to connected dispatchers (seed 002)"),
		ProtocolType:             pulumi.String("WEBSOCKET"),
		RouteSelectionExpression: pulumi.String("$request.body.action"),
		Tags:                     b.args.Tags,
	}, b.parent)
	if err != nil {
		return err
	}
	// The @connections management API of this stage, for the functions
	// that post to dispatchers.
	b.managementEndpoint = b.api.ApiEndpoint.ApplyT(func(wss string) string {
		return strings.Replace(wss, "wss://", "https://", 1) + "/" + contract.StageName
	}).(pulumi.StringOutput)
	return nil
}
