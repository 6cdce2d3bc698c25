package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// The feed's functions and what binds them: their roles, environment,
// routes, stream and queue mappings.

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
		{contract.FeedRoleAuthorizer, appName(a.App) + " feed: $connect authorizer (dispatcher tokens)",
			pulumi.StringMap{contract.EnvFeedSecretARN: a.SecretArn}, 0},
		{contract.FeedRoleConnect, appName(a.App) + " feed: $connect, a dispatcher joins a partition", registry, 0},
		{contract.FeedRoleDisconnect, appName(a.App) + " feed: $disconnect, a dispatcher leaves", registry, 0},
		{contract.FeedRoleDefault, appName(a.App) + " feed: $default, subscription messages", registry, 0},
		{contract.FeedRoleSwarm, appName(a.App) + " feed: new calls from the stream, one message per partition", b.swarmEnv(queueURLs), 0},
		{contract.FeedRoleWorker, appName(a.App) + " feed: query a partition, post the call to its dispatchers", workerEnv,
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
		fn, err := registerLambda(b.ctx, b.name+"-"+role, lambdaSpec{app: a.App,
			description: f.description, roleNote: appName(a.App) + " feed " + role + " Lambda",
			code: a.Code, object: a.CodeObject, codeHash: a.CodeHash,
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
