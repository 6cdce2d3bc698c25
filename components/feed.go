package components

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
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
	Code     pulumi.Archive
	CodeHash string
	// StreamArn is the calls table's stream in this region: a replica
	// region's stream also carries the calls written in the other regions,
	// so each region broadcasts every call to its own dispatchers once.
	StreamArn pulumi.StringInput
	// SecretArn is the secret dispatcher tokens are signed with.
	SecretArn pulumi.StringInput
	// FailureBucketArn and FailureKeyArn: the bucket (and its KMS key) where
	// the stream mapping keeps the batches of new calls the swarm failed.
	// A stream keeps records 24 hours and an SQS or SNS destination gets
	// only their shard and sequence numbers; an S3 destination gets the
	// whole invocation record (Lambda developer guide, "Retain discarded
	// batch records for a DynamoDB event source").
	FailureBucketArn, FailureKeyArn pulumi.StringInput
	// Sizing (seed 002's numbers are the stacks' defaults); PartitionsPerArea
	// is how many partitions an area's dispatchers spread over (default
	// capacity.FeedPartitionsPerArea).
	Partitions, PartitionsPerArea, Queues, QueryBatchSize, QueryConcurrency int
	TimeoutSeconds, MemoryMB, LogRetentionDays                              int
	// AlarmTopicArn receives the feed's alarms.
	AlarmTopicArn pulumi.StringInput
	// CacheInvalidator, if set, is the read cache's invalidator: the swarm,
	// the stream's one reader, hands it every batch (every change, not only
	// new calls).
	CacheInvalidator *FeedCacheInvalidator
	// Region names the region of the feed's dashboard widgets (that of the
	// component's provider).
	Region string
	// StageDependsOn: resources the stage needs first (the region's API
	// Gateway account logging role, which access logs require).
	StageDependsOn []pulumi.Resource
	Tags           pulumi.StringMap
}

// FeedCacheInvalidator is the function the swarm invokes with each batch.
type FeedCacheInvalidator struct {
	FunctionName, FunctionArn pulumi.StringInput
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
	case a == nil || a.Code == nil || a.CodeHash == "":
		return fmt.Errorf("a deployment package and its hash are required")
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
		Description:              pulumi.String("access911 dispatcher feed: every new call pushed to connected dispatchers (seed 002)"),
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

// FeedPolicyResources are the ARNs the feed's policies grant access to.
type FeedPolicyResources struct {
	Connections, Partitions, Deliveries, Stream, DLQ, Secret, LogGroup string
	Queues                                                             []string
	// FailureBucket and FailureKey: where the stream mapping writes failed
	// batches (under LambdaFailureRecordPrefix), with the swarm's role.
	FailureBucket, FailureKey string
	// ManageConnections is this API's stage's @connections ARN
	// (execution ARN/stage/POST/@connections/*).
	ManageConnections string
	// Invalidator is the read cache's invalidator function, or "".
	Invalidator string
}

// FeedPolicy is the least privilege of one feed function (a contract.FeedRole*):
// the authorizer reads the token secret; connect, disconnect and default do
// what their route does (see each case); the swarm reads the stream and
// sends to the fan-out queues (the mapping writes its failed batches to the
// failure bucket with the swarm's role: S3 destinations need PutObject and
// ListBucket, and GenerateDataKey for an SSE-KMS bucket); the workers
// consume the queues, query the partition index, claim each delivery in
// the ledger, post, and forget vanished connections. Each also writes its
// own logs and traces.
func FeedPolicy(role string, r FeedPolicyResources) PolicyDocument {
	allow := func(sid string, actions []string, resources ...string) PolicyStatement {
		return PolicyStatement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
	}
	post := allow("PostToDispatchers", []string{"execute-api:ManageConnections"}, r.ManageConnections)
	var st []PolicyStatement
	switch role {
	case contract.FeedRoleAuthorizer:
		st = []PolicyStatement{allow("TokenSecret", []string{"secretsmanager:GetSecretValue"}, r.Secret)}
	case contract.FeedRoleConnect: // pick the least loaded partition, then put and count in one transaction
		st = []PolicyStatement{
			allow("RegisterConnection", []string{"dynamodb:PutItem", "dynamodb:GetItem"}, r.Connections),
			allow("CountConnection", []string{"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}, r.Partitions),
		}
	case contract.FeedRoleDisconnect: // find its partition, then delete and uncount in one transaction
		st = []PolicyStatement{
			allow("ForgetConnection", []string{"dynamodb:GetItem", "dynamodb:DeleteItem"}, r.Connections),
			allow("UncountConnection", []string{"dynamodb:UpdateItem"}, r.Partitions),
		}
	case contract.FeedRoleDefault: // save the subscription, answer over the connection
		st = []PolicyStatement{allow("SaveSubscription", []string{"dynamodb:UpdateItem"}, r.Connections), post}
	case contract.FeedRoleSwarm: // and marks what it broadcast, and hands each batch to the cache's invalidator
		st = append(streamConsumer(r.Stream, r.FailureBucket, r.FailureKey), allow("FanOut", []string{"sqs:SendMessage"}, r.Queues...),
			allow("MarkBroadcasts", []string{"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}, r.Deliveries))
		if r.Invalidator != "" {
			st = append(st, allow("InvalidateReadCache", []string{"lambda:InvokeFunction"}, r.Invalidator))
		}
	case contract.FeedRoleWorker:
		st = []PolicyStatement{
			allow("ConsumeFanOut", []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}, r.Queues...),
			allow("QueryPartition", []string{"dynamodb:Query"}, r.Connections+"/index/"+contract.FeedPartitionIndex),
			allow("ForgetGone", []string{"dynamodb:GetItem", "dynamodb:DeleteItem"}, r.Connections),
			allow("UncountGone", []string{"dynamodb:UpdateItem"}, r.Partitions),
			allow("DeliverOnce", []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}, r.Deliveries),
			post,
		}
	}
	st = append(st, allow("OwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, r.LogGroup+":*"), tracingStatement)
	return PolicyDocument{Version: policyVersion, Statement: st}
}

// streamConsumer is what a stream mapping's function needs: reading the
// table's streams, and keeping failed batches whole under the failure
// bucket's aws/lambda/ prefix, encrypted with its key.
func streamConsumer(stream, failureBucket, failureKey string) []PolicyStatement {
	return []PolicyStatement{
		{Sid: "ReadCallsStream", Effect: "Allow", Action: []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
			Resource: []string{streamsOf(stream)}},
		{Sid: "KeepFailedBatches", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{failureBucket + "/" + LambdaFailureRecordPrefix + "*"}},
		{Sid: "FindFailedBatches", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{failureBucket}},
		{Sid: "EncryptFailedBatches", Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{failureKey}},
	}
}

// streamsOf is the table's streams ("<table arn>/stream/*") from one stream
// ARN: the mapping lists them before reading the one it was given.
func streamsOf(streamArn string) string {
	if i := strings.Index(streamArn, "/stream/"); i >= 0 {
		return streamArn[:i] + "/stream/*"
	}
	return streamArn
}

// feedFunction is one of the feed's functions: its role's environment and
// reserved concurrency (0: unreserved).
type feedFunction struct {
	role, description string
	env               pulumi.StringMap
	reserved          int
}

// swarmEnv is the swarm's environment: the partitions, the fan-out queues,
// the ledger table its broadcast markers live in, and the read cache's
// invalidator when there is one.
func (b *feedBuilder) swarmEnv(queueURLs pulumi.StringArray) pulumi.StringMap {
	a := b.args
	env := pulumi.StringMap{
		contract.EnvFeedPartitions: pulumi.String(fmt.Sprint(a.Partitions)), contract.EnvFeedPartitionsPerArea: pulumi.String(fmt.Sprint(a.perArea())),
		contract.EnvFeedDeliveriesTable: b.deliveries.Name,
		contract.EnvFeedQueueURLs: queueURLs.ToStringArrayOutput().ApplyT(
			func(urls []string) string { return strings.Join(urls, ",") }).(pulumi.StringOutput),
	}
	if a.CacheInvalidator != nil {
		env[contract.EnvReadCacheInvalidatorFunction] = a.CacheInvalidator.FunctionName
	}
	return env
}

// lambdas registers the feed's six functions (contract.FeedRoles).
func (b *feedBuilder) lambdas() error {
	a := b.args
	queueURLs := pulumi.StringArray{}
	queueArns := pulumi.StringArray{}
	for _, q := range b.queues {
		queueURLs, queueArns = append(queueURLs, q.Url), append(queueArns, q.Arn)
	}
	partitions := pulumi.String(fmt.Sprint(a.Partitions))
	perArea := pulumi.String(fmt.Sprint(a.perArea()))
	registry := pulumi.StringMap{
		contract.EnvFeedConnectionsTable: b.connections.Name, contract.EnvFeedPartitionsTable: b.partitions.Name,
		contract.EnvFeedPartitions: partitions, contract.EnvFeedPartitionsPerArea: perArea,
		contract.EnvFeedManagementEndpoint: b.managementEndpoint,
	}
	workerEnv := pulumi.StringMap{contract.EnvFeedDeliveriesTable: b.deliveries.Name,
		contract.EnvFeedDeliveryLease: pulumi.String(fmt.Sprint(a.TimeoutSeconds))}
	for k, v := range registry {
		workerEnv[k] = v
	}
	functions := []feedFunction{
		{contract.FeedRoleAuthorizer, "access911 feed: $connect authorizer (dispatcher tokens)",
			pulumi.StringMap{contract.EnvFeedSecretARN: a.SecretArn}, 0},
		{contract.FeedRoleConnect, "access911 feed: $connect, a dispatcher joins a partition", registry, 0},
		{contract.FeedRoleDisconnect, "access911 feed: $disconnect, a dispatcher leaves", registry, 0},
		{contract.FeedRoleDefault, "access911 feed: $default, subscription messages", registry, 0},
		{contract.FeedRoleSwarm, "access911 feed: new calls from the stream, one message per partition", b.swarmEnv(queueURLs), 0},
		{contract.FeedRoleWorker, "access911 feed: query a partition, post the call to its dispatchers", workerEnv,
			a.Queues * capacity.FeedMappingConcurrency(a.QueryConcurrency, a.Queues)},
	}
	invalidator := pulumi.StringInput(pulumi.String(""))
	if a.CacheInvalidator != nil {
		invalidator = a.CacheInvalidator.FunctionArn
	}
	resources := pulumi.All(b.connections.Arn, b.partitions.Arn, a.StreamArn, b.dlq.Arn, a.SecretArn,
		queueArns.ToStringArrayOutput(), b.api.ExecutionArn, b.deliveries.Arn, a.FailureBucketArn, a.FailureKeyArn, invalidator)
	for _, f := range functions {
		env := pulumi.StringMap{contract.EnvFeedRole: pulumi.String(f.role)}
		for k, v := range f.env {
			env[k] = v
		}
		role := f.role
		fn, err := registerLambda(b.ctx, b.name+"-"+role, lambdaSpec{
			description: f.description, roleNote: "access911 feed " + role + " Lambda",
			code: a.Code, codeHash: a.CodeHash,
			memoryMB: a.MemoryMB, timeoutSeconds: a.TimeoutSeconds, reserved: f.reserved,
			logRetentionDays: a.LogRetentionDays, env: env, tags: a.Tags,
			policy: func(logGroupArn pulumi.StringOutput) pulumi.StringOutput {
				return pulumi.All(resources, logGroupArn).ApplyT(func(v []any) string {
					r := v[0].([]any)
					return FeedPolicy(role, FeedPolicyResources{
						Connections: r[0].(string), Partitions: r[1].(string), Stream: r[2].(string), DLQ: r[3].(string),
						Secret: r[4].(string), Queues: r[5].([]string), LogGroup: v[1].(string), Deliveries: r[7].(string),
						FailureBucket: r[8].(string), FailureKey: r[9].(string), Invalidator: r[10].(string),
						ManageConnections: r[6].(string) + "/" + contract.StageName + "/POST/@connections/*",
					}).JSON()
				}).(pulumi.StringOutput)
			},
		}, b.parent)
		if err != nil {
			return fmt.Errorf("%s: %w", role, err)
		}
		b.functions[role] = fn
	}
	return nil
}

// FeedAccessLogFormat is the stage's JSON access-log line: who connected,
// which route, how the authorizer and the integration answered.
var FeedAccessLogFormat = func() string {
	out, _ := json.Marshal(map[string]string{
		"requestId": "$context.requestId", "connectionId": "$context.connectionId", "eventType": "$context.eventType",
		"routeKey": "$context.routeKey", "status": "$context.status", "requestTime": "$context.requestTimeEpoch",
		"sourceIp": "$context.identity.sourceIp", "dispatcher": "$context.authorizer.principalId",
		// $context.integration.error: the WebSocket list of access-log
		// variables has no $context.integrationErrorMessage (REST and HTTP APIs).
		"authorizerError": "$context.authorizer.error", "integrationError": "$context.integration.error",
		"error": "$context.error.message",
	})
	return string(out)
}()

// routes registers the $connect authorizer (a REQUEST authorizer on the
// token query parameter), each route with a Lambda proxy integration to its
// own function, the invoke permissions (this API's stage and route only),
// and the stage with throttling and access logs.
func (b *feedBuilder) routes() error {
	authorizerFn := b.functions[contract.FeedRoleAuthorizer].function
	authorizer, err := apigatewayv2.NewAuthorizer(b.ctx, b.name+"-token", &apigatewayv2.AuthorizerArgs{
		ApiId: b.api.ID(), Name: pulumi.String(b.name + "-dispatcher-token"), AuthorizerType: pulumi.String("REQUEST"),
		AuthorizerUri:   authorizerFn.InvokeArn,
		IdentitySources: pulumi.StringArray{pulumi.String("route.request.querystring." + contract.FeedTokenParam)},
	}, b.parent)
	if err != nil {
		return fmt.Errorf("authorizer: %w", err)
	}
	perm, err := b.invokePermission("authorizer", authorizerFn, pulumi.Sprintf("%s/authorizers/%s", b.api.ExecutionArn, authorizer.ID()))
	if err != nil {
		return err
	}
	deps := []pulumi.Resource{perm}
	for _, key := range []string{contract.FeedRouteConnect, contract.FeedRouteDisconnect, contract.FeedRouteDefault} {
		role := contract.FeedRouteRoles[key]
		fn := b.functions[role].function
		integration, err := apigatewayv2.NewIntegration(b.ctx, b.name+"-"+role, &apigatewayv2.IntegrationArgs{
			ApiId: b.api.ID(), IntegrationType: pulumi.String("AWS_PROXY"), IntegrationMethod: pulumi.String("POST"),
			IntegrationUri: fn.InvokeArn, ContentHandlingStrategy: pulumi.String("CONVERT_TO_TEXT"),
		}, b.parent)
		if err != nil {
			return fmt.Errorf("integration %s: %w", key, err)
		}
		args := &apigatewayv2.RouteArgs{ApiId: b.api.ID(), RouteKey: pulumi.String(key),
			Target: pulumi.Sprintf("integrations/%s", integration.ID()), AuthorizationType: pulumi.String("NONE")}
		if key == contract.FeedRouteConnect { // only $connect takes an authorizer: the connection is authenticated once
			args.AuthorizationType, args.AuthorizerId = pulumi.String("CUSTOM"), authorizer.ID()
		}
		route, err := apigatewayv2.NewRoute(b.ctx, b.name+"-"+role, args, b.parent)
		if err != nil {
			return fmt.Errorf("route %s: %w", key, err)
		}
		perm, err := b.invokePermission(role, fn, pulumi.Sprintf("%s/%s/%s", b.api.ExecutionArn, contract.StageName, key))
		if err != nil {
			return err
		}
		deps = append(deps, route, perm)
	}
	return b.stageWithLogs(append(deps, b.args.StageDependsOn...))
}

// invokePermission lets this API invoke fn from source (an ARN pattern).
func (b *feedBuilder) invokePermission(name string, fn *lambda.Function, source pulumi.StringOutput) (*lambda.Permission, error) {
	perm, err := lambda.NewPermission(b.ctx, b.name+"-invoke-"+name, &lambda.PermissionArgs{
		Action: pulumi.String("lambda:InvokeFunction"), Function: fn.Name,
		Principal: pulumi.String("apigateway.amazonaws.com"), SourceArn: source,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("invoke permission %s: %w", name, err)
	}
	return perm, nil
}

// stageWithLogs registers the access log group and the stage, deployed
// automatically whenever a route changes.
func (b *feedBuilder) stageWithLogs(deps []pulumi.Resource) error {
	logs, err := cloudwatch.NewLogGroup(b.ctx, b.name+"-access", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/apigateway/" + b.name + "-access-"),
		RetentionInDays: pulumi.Int(b.args.LogRetentionDays),
		Tags:            b.args.Tags,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("access log group: %w", err)
	}
	b.stage, err = apigatewayv2.NewStage(b.ctx, b.name, &apigatewayv2.StageArgs{
		ApiId: b.api.ID(), Name: pulumi.String(contract.StageName), AutoDeploy: pulumi.Bool(true),
		DefaultRouteSettings: apigatewayv2.StageDefaultRouteSettingsArgs{
			ThrottlingRateLimit: pulumi.Float64(FeedStageRateLimit), ThrottlingBurstLimit: pulumi.Int(FeedStageBurstLimit),
			LoggingLevel: pulumi.String("ERROR"), DataTraceEnabled: pulumi.Bool(false), DetailedMetricsEnabled: pulumi.Bool(true),
		},
		AccessLogSettings: apigatewayv2.StageAccessLogSettingsArgs{DestinationArn: logs.Arn, Format: pulumi.String(FeedAccessLogFormat)},
		Tags:              b.args.Tags,
	}, b.parent, pulumi.DependsOn(deps))
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	return nil
}

// mappings registers the swarm's stream mapping (INSERTs only unless the
// read cache takes every change, from TRIM_HORIZON, failed batches kept
// whole in the failure bucket) and one mapping per fan-out queue to
// the workers (batches of QueryBatchSize, partial batch failures, the query
// concurrency shared by the queues).
func (b *feedBuilder) mappings() error {
	a := b.args
	var filter lambda.EventSourceMappingFilterCriteriaPtrInput = lambda.EventSourceMappingFilterCriteriaArgs{
		Filters: lambda.EventSourceMappingFilterCriteriaFilterArray{
			lambda.EventSourceMappingFilterCriteriaFilterArgs{Pattern: pulumi.String(FeedInsertFilter)},
		}}
	if a.CacheInvalidator != nil {
		filter = nil // the invalidator takes every change: updates and removals too
	}
	var err error
	if b.streamMapping, err = lambda.NewEventSourceMapping(b.ctx, b.name+"-stream", &lambda.EventSourceMappingArgs{
		EventSourceArn:                 a.StreamArn,
		FunctionName:                   b.functions[contract.FeedRoleSwarm].function.Arn,
		StartingPosition:               pulumi.String(FeedStreamStartingPosition),
		BatchSize:                      pulumi.Int(FeedStreamBatchSize),
		MaximumBatchingWindowInSeconds: pulumi.Int(FeedStreamBatchingWindowSeconds),
		ParallelizationFactor:          pulumi.Int(FeedStreamParallelization),
		MaximumRetryAttempts:           pulumi.Int(FeedStreamRetries),
		MaximumRecordAgeInSeconds:      pulumi.Int(FeedStreamMaxRecordAgeSeconds),
		BisectBatchOnFunctionError:     pulumi.Bool(true),
		FilterCriteria:                 filter,
		DestinationConfig: lambda.EventSourceMappingDestinationConfigArgs{
			OnFailure: lambda.EventSourceMappingDestinationConfigOnFailureArgs{DestinationArn: a.FailureBucketArn},
		},
		// A replacement deletes the old mapping first: a global table's stream
		// keeps one reader, and TRIM_HORIZON picks up what the gap held.
	}, b.parent, pulumi.DeleteBeforeReplace(true)); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	worker := b.functions[contract.FeedRoleWorker].function
	for i, q := range b.queues {
		if _, err := lambda.NewEventSourceMapping(b.ctx, fmt.Sprintf("%s-%d", b.name, i+1), &lambda.EventSourceMappingArgs{
			EventSourceArn:                 q.Arn,
			FunctionName:                   worker.Arn,
			BatchSize:                      pulumi.Int(a.QueryBatchSize),
			MaximumBatchingWindowInSeconds: pulumi.Int(0),
			FunctionResponseTypes:          pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
			ScalingConfig: lambda.EventSourceMappingScalingConfigArgs{
				MaximumConcurrency: pulumi.Int(capacity.FeedMappingConcurrency(a.QueryConcurrency, a.Queues))},
		}, b.parent); err != nil {
			return fmt.Errorf("queue %d: %w", i+1, err)
		}
	}
	return nil
}

// alarms registers the feed's alarms on the region's topic: posts that
// failed (a dispatcher missed a call), a partition message waiting on any
// fan-out queue, anything dead-lettered, the swarm falling behind the
// stream, and any feed function failing.
func (b *feedBuilder) alarms() error {
	ageQueries := cloudwatch.MetricAlarmMetricQueryArray{}
	ids := []string{}
	for i, q := range b.queues {
		id := fmt.Sprintf("q%d", i+1)
		ageQueries = append(ageQueries, metricQueryStat(id, "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum",
			pulumi.StringMap{"QueueName": q.Name}))
		ids = append(ids, id)
	}
	ageQueries = append(ageQueries, expression("oldest", "MAX(["+strings.Join(ids, ",")+"])", "Oldest partition message (s)"))
	errorQueries := cloudwatch.MetricAlarmMetricQueryArray{}
	terms := []string{}
	for _, role := range contract.FeedRoles {
		id := "fn_" + role
		errorQueries = append(errorQueries, metricQuery(id, "AWS/Lambda", "Errors",
			pulumi.StringMap{"FunctionName": b.functions[role].function.Name}))
		terms = append(terms, "FILL("+id+", 0)")
	}
	errorQueries = append(errorQueries, expression("errors", strings.Join(terms, " + "), "Feed function errors"))
	service := pulumi.StringMap{contract.ServiceDimension: pulumi.String(contract.Service)}
	failures, err := b.failureRecordsMetric()
	if err != nil {
		return err
	}
	definitions := []namedAlarm{
		{"FeedStreamFailures", singleMetric(pulumi.String("The swarm gave up on a batch of new calls (every retry failed, or it aged out): "+
			"its record is in the failure bucket; re-broadcast it with access911 replay --stream-failures"),
			"GreaterThanThreshold", "AWS/S3", "PutRequests", "Sum", failures, 0, 1)},
		{"FeedPostFailures", singleMetric(pulumi.String("Posts to dispatchers failed (not a vanished connection): a dispatcher missed a call"),
			"GreaterThanThreshold", contract.Namespace, contract.FeedPostsFailed, "Sum", service, 0, 1)},
		{"FeedQueueAge", cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.Sprintf("A partition message waited more than %d s on a fan-out queue: dispatchers see calls late", FeedQueueAgeAlarmSeconds),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"), Threshold: pulumi.Float64(FeedQueueAgeAlarmSeconds),
			EvaluationPeriods: pulumi.Int(1), MetricQueries: ageQueries,
		}},
		{"FeedDeadLetters", singleMetric(pulumi.Sprintf("Broadcasts failed: partition messages the workers failed %d times wait in the feed's DLQ", FeedMaxReceiveCount),
			"GreaterThanThreshold", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", pulumi.StringMap{"QueueName": b.dlq.Name}, 0, 1)},
		{"FeedSwarmBehind", singleMetric(pulumi.Sprintf("The swarm is more than %d s behind the calls table's stream", FeedIteratorAgeAlarmMs/1000),
			"GreaterThanThreshold", "AWS/Lambda", "IteratorAge", "Maximum",
			pulumi.StringMap{"FunctionName": b.functions[contract.FeedRoleSwarm].function.Name}, FeedIteratorAgeAlarmMs, 1)},
		{"FeedFunctionErrors", cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String("A feed function (authorizer, connect, disconnect, default, swarm, worker) crashed or timed out"),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"), Threshold: pulumi.Float64(0),
			EvaluationPeriods: pulumi.Int(1), MetricQueries: errorQueries,
		}},
	}
	for _, al := range definitions {
		args := al.args
		args.Name = pulumi.Sprintf("%s-%s", b.name, al.name)
		args.AlarmActions, args.OkActions = pulumi.Array{b.args.AlarmTopicArn}, pulumi.Array{b.args.AlarmTopicArn}
		args.TreatMissingData = pulumi.String("notBreaching")
		args.Tags = b.args.Tags
		if _, err := cloudwatch.NewMetricAlarm(b.ctx, b.name+"-"+al.name, &args, b.parent); err != nil {
			return fmt.Errorf("%s: %w", al.name, err)
		}
	}
	return nil
}

// failureRecordsMetric turns on S3 request metrics for the swarm mapping's
// failure records (aws/lambda/<mapping UUID>/ in the failure bucket) and
// returns their dimensions: S3 publishes PutRequests per filter (S3 user
// guide, "CloudWatch metrics configurations": dimensions BucketName and
// FilterId), so a record Lambda writes there is a data point, where
// Lambda's own DestinationDeliveryFailures counts only failed writes.
func (b *feedBuilder) failureRecordsMetric() (pulumi.StringMap, error) {
	bucket := b.args.FailureBucketArn.ToStringOutput().ApplyT(func(arn string) string {
		return strings.TrimPrefix(arn, "arn:aws:s3:::")
	}).(pulumi.StringOutput)
	filter := b.name + "-stream-failures"
	if _, err := s3.NewBucketMetric(b.ctx, filter, &s3.BucketMetricArgs{
		Bucket: bucket, Name: pulumi.String(filter),
		Filter: s3.BucketMetricFilterArgs{Prefix: pulumi.Sprintf("%s%s/", LambdaFailureRecordPrefix, b.streamMapping.Uuid)},
	}, b.parent); err != nil {
		return nil, fmt.Errorf("failure records metric: %w", err)
	}
	return pulumi.StringMap{"BucketName": bucket, "FilterId": pulumi.String(filter)}, nil
}

// dashboard registers the feed's CloudWatch dashboard, access911-feed-<region>.
func (b *feedBuilder) dashboard() error {
	names := pulumi.StringArray{b.api.ID(), b.dlq.Name, b.functions[contract.FeedRoleSwarm].function.Name}
	for _, q := range b.queues {
		names = append(names, q.Name)
	}
	body := names.ToStringArrayOutput().ApplyT(func(v []string) string {
		return FeedDashboardBody(b.args.Region, v[0], v[1], v[2], v[3:])
	}).(pulumi.StringOutput)
	_, err := cloudwatch.NewDashboard(b.ctx, b.name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String("access911-feed-" + b.args.Region), DashboardBody: body,
	}, b.parent)
	return err
}

// FeedDashboardBody graphs the feed: deliveries (posts sent, failed, to
// vanished connections, repeats skipped), delivery latency from the
// broadcast, the WebSocket API's connects, messages and errors, the
// fan-out queues' oldest message and the DLQ, and the swarm's lag behind
// the stream.
func FeedDashboardBody(region, apiID, dlqName, swarmFunction string, queueNames []string) string {
	service := []any{contract.ServiceDimension, contract.Service}
	feedMetric := func(name string, extra ...any) []any {
		return append(append([]any{contract.Namespace, name}, service...), extra...)
	}
	api := func(name string) []any {
		return []any{"AWS/ApiGateway", name, "ApiId", apiID, "Stage", contract.StageName}
	}
	ages := [][]any{{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlqName, map[string]string{"stat": "Maximum", "label": "dead letters"}}}
	for _, q := range queueNames {
		ages = append(ages, []any{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q, map[string]string{"stat": "Maximum"}})
	}
	widgets := []any{
		metricWidget(region, 0, 0, "Deliveries", [][]any{feedMetric(contract.FeedPostsSent), feedMetric(contract.FeedPostsFailed),
			feedMetric(contract.FeedConnectionsGone), feedMetric(contract.FeedRepeatsSkipped)}),
		metricWidget(region, 12, 0, "Delivery latency from the broadcast (ms)", [][]any{
			feedMetric(contract.FeedDeliveryLatency, map[string]string{"stat": "p50"}),
			feedMetric(contract.FeedDeliveryLatency, map[string]string{"stat": "p99"}),
			feedMetric(contract.FeedDeliveryLatency, map[string]string{"stat": "Maximum"}),
		}),
		metricWidget(region, 0, 6, "Dispatcher connections and messages", [][]any{api("ConnectCount"), api("MessageCount"),
			api("ClientError"), api("IntegrationError"), api("ExecutionError")}),
		metricWidget(region, 12, 6, "Fan-out queues: oldest message (s), dead letters", ages),
		metricWidget(region, 0, 12, "Swarm behind the calls stream (ms)", [][]any{
			{"AWS/Lambda", "IteratorAge", "FunctionName", swarmFunction, map[string]string{"stat": "Maximum"}}}),
	}
	out, _ := json.Marshal(map[string]any{"widgets": widgets})
	return string(out)
}
