package stacks_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

const (
	wsRouteType  = "aws:apigatewayv2/route:Route"
	wsStageType  = "aws:apigatewayv2/stage:Stage"
	permission   = "aws:lambda/permission:Permission"
	feedFuncName = "access911-feed-"
)

// feedARNs are the ARNs the mocks give the feed's resources in a region.
type feedARNs struct {
	region, api, execution, stream, dlq, connections, partitions, deliveries, secret string
	archive, archiveKey                                                              string
	queues                                                                           []string
}

func feedResources(tc struct {
	stack         string
	owner         bool
	active        bool
	replicaRegion string
	load          int
}) feedARNs {
	r, acct := tc.stack, plan.MockAccountID
	a := feedARNs{region: r, api: "access911-feed-ws-id"}
	a.execution = fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", r, acct, a.api)
	label := "1970-01-01T00:00:01.000" // a replica's own stream (looked up)
	if tc.owner {
		label = "1970-01-01T00:00:00.000"
	}
	a.stream = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/access911-calls/stream/%s", r, acct, label)
	a.dlq = fmt.Sprintf("arn:aws:sqs:%s:%s:access911-feed-dlq-0123456", r, acct)
	a.archive = "arn:aws:s3:::access911-archive-0123456"
	a.archiveKey = fmt.Sprintf("arn:aws:kms:%s:%s:key/access911-archive-key-id", r, acct)
	for i := 1; i <= capacity.FeedQueues; i++ {
		a.queues = append(a.queues, fmt.Sprintf("arn:aws:sqs:%s:%s:access911-feed-%d-0123456", r, acct, i))
	}
	a.connections = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/access911-feed-connections-0123456", r, acct)
	a.partitions = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/access911-feed-partitions-0123456", r, acct)
	a.deliveries = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/access911-feed-deliveries-0123456", r, acct)
	a.secret = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:access911-feed-secret-0123456-AbCdEf", r, acct)
	return a
}

// The dispatcher feed in every stack: the WebSocket API with the authorizer
// on $connect only, the stage's throttle and access logs, protected
// encrypted tables, encrypted queues with a DLQ, the stream mapping for
// INSERTs, the workers' mappings, and the output URL.
func TestFeedPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			a := feedResources(tc)
			api := one(t, res, "aws:apigatewayv2/api:Api", "access911-feed")
			assert.Equal(t, "WEBSOCKET", get(api, "protocolType"))
			assert.Equal(t, "$request.body.action", get(api, "routeSelectionExpression"))

			authorizer := one(t, res, "aws:apigatewayv2/authorizer:Authorizer", "access911-feed-token")
			assert.Equal(t, "REQUEST", get(authorizer, "authorizerType"))
			assert.Equal(t, []any{"route.request.querystring." + contract.FeedTokenParam}, get(authorizer, "identitySources"))
			one(t, res, functionType, feedFuncName+contract.FeedRoleAuthorizer)
			assert.Equal(t, fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/arn:aws:lambda:%s:%s:function:access911-feed-authorizer-0123456/invocations",
				a.region, a.region, plan.MockAccountID), get(authorizer, "authorizerUri"))

			routes := map[string]plan.Resource{}
			for _, r := range res.ByType(wsRouteType) {
				routes[get(r, "routeKey").(string)] = r
			}
			require.Len(t, routes, 3)
			assert.Equal(t, "CUSTOM", get(routes["$connect"], "authorizationType"), "$connect is authenticated")
			assert.Equal(t, "access911-feed-token-id", get(routes["$connect"], "authorizerId"))
			for _, key := range []string{"$disconnect", "$default"} {
				assert.Equal(t, "NONE", get(routes[key], "authorizationType"), "%s: the connection was authenticated on $connect", key)
			}
			assert.Equal(t, a.execution+"/authorizers/access911-feed-token-id", get(one(t, res, permission, "access911-feed-invoke-authorizer"), "sourceArn"))
			for key, role := range contract.FeedRouteRoles { // each route its own function, and only from its route
				assert.Equal(t, "integrations/access911-feed-"+role+"-id", get(routes[key], "target"), key)
				integration := one(t, res, "aws:apigatewayv2/integration:Integration", "access911-feed-"+role)
				assert.Equal(t, "AWS_PROXY", get(integration, "integrationType"))
				assert.Contains(t, get(integration, "integrationUri"), "function:access911-feed-"+role+"-0123456/invocations")
				assert.Equal(t, a.execution+"/v1/"+key, get(one(t, res, permission, "access911-feed-invoke-"+role), "sourceArn"))
			}

			stage := one(t, res, wsStageType, "access911-feed")
			assert.Equal(t, contract.StageName, get(stage, "name"))
			assert.Equal(t, true, get(stage, "autoDeploy"))
			assert.Equal(t, float64(capacity.FeedNewConnectionsPerSecond), get(stage, "defaultRouteSettings.throttlingRateLimit"))
			assert.Equal(t, float64(2*capacity.FeedNewConnectionsPerSecond), get(stage, "defaultRouteSettings.throttlingBurstLimit"))
			assert.Equal(t, false, get(stage, "defaultRouteSettings.dataTraceEnabled"), "no message bodies (callers' locations) in logs")
			logs := one(t, res, logGroupType, "access911-feed-access")
			assert.Equal(t, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/apigateway/access911-feed-access-0123456", a.region, plan.MockAccountID),
				get(stage, "accessLogSettings.destinationArn"))
			assert.Equal(t, 30.0, get(logs, "retentionInDays"))
			assert.Equal(t, components.FeedAccessLogFormat, get(stage, "accessLogSettings.format"))
			account := "urn:pulumi:" + a.region + "::access911::access911:components:API$aws:apigateway/account:Account::access911-api"
			assert.True(t, slices.Contains(stage.DependsOn, account), "access logs need the account's logging role, which the API component sets")

			assertFeedTables(t, res)
			assertFeedQueues(t, res, a)
			assertFeedMappings(t, res, a)
			assertFeedFunctions(t, res)

			assert.Equal(t, "wss://"+a.api+".execute-api."+a.region+".amazonaws.com/v1", res.Outputs[contract.OutputFeedURL])
			assert.Equal(t, a.secret, res.Outputs[contract.OutputFeedSecretArn])
			secret := one(t, res, "aws:secretsmanager/secret:Secret", "access911-feed-secret")
			assert.True(t, secret.Protect)
			assert.Equal(t, float64(components.SecretRecoveryDays), get(secret, "recoveryWindowInDays"))
			for _, v := range res.ByType("aws:secretsmanager/secretVersion:SecretVersion") {
				assert.NotEqual(t, "access911-feed-secret", v.Name, "no value in state unless given as a Pulumi secret")
			}
		})
	}
}

func assertFeedTables(t *testing.T, res *plan.Result) {
	t.Helper()
	conns := one(t, res, tableType, "access911-feed-connections")
	assert.Equal(t, contract.FeedConnectionKey, get(conns, "hashKey"))
	assert.Equal(t, contract.FeedPartitionIndex, get(conns, "globalSecondaryIndexes.0.name"))
	assert.Equal(t, contract.FeedPartitionKey, get(conns, "globalSecondaryIndexes.0.hashKey"))
	assert.Equal(t, contract.FeedExpiresAt, get(conns, "ttl.attributeName"), "stale rows expire")
	parts := one(t, res, tableType, "access911-feed-partitions")
	assert.Equal(t, contract.FeedPartitionKey, get(parts, "hashKey"))
	ledger := one(t, res, tableType, "access911-feed-deliveries")
	assert.Equal(t, contract.FeedDeliveryKey, get(ledger, "hashKey"))
	assert.Equal(t, contract.FeedExpiresAt, get(ledger, "ttl.attributeName"), "claims expire")
	for _, table := range []plan.Resource{conns, parts, ledger} {
		assert.Equal(t, "PAY_PER_REQUEST", get(table, "billingMode"), table.Name)
		assert.Equal(t, true, get(table, "serverSideEncryption.enabled"), table.Name)
		assert.Equal(t, true, get(table, "pointInTimeRecovery.enabled"), table.Name)
		assert.Equal(t, true, get(table, "deletionProtectionEnabled"), table.Name)
		assert.True(t, table.Protect, table.Name)
	}
}

func assertFeedQueues(t *testing.T, res *plan.Result, a feedARNs) {
	t.Helper()
	dlq := one(t, res, queueType, "access911-feed-dlq")
	assert.Equal(t, true, get(dlq, "sqsManagedSseEnabled"))
	assert.Equal(t, 1209600.0, get(dlq, "messageRetentionSeconds"))
	for i := 1; i <= capacity.FeedQueues; i++ {
		name := fmt.Sprintf("access911-feed-%d", i)
		q := one(t, res, queueType, name)
		assert.Equal(t, true, get(q, "sqsManagedSseEnabled"), "%s is encrypted", name)
		assert.Equal(t, float64(components.FeedQueueRetentionSeconds), get(q, "messageRetentionSeconds"))
		assert.Equal(t, float64(capacity.VisibilityTimeoutFactor*capacity.TimeoutSeconds), get(q, "visibilityTimeoutSeconds"))
		assert.Equal(t, map[string]any{"deadLetterTargetArn": a.dlq, "maxReceiveCount": 5.0},
			parseJSON(t, get(q, "redrivePolicy").(string)))
	}
	assert.Len(t, res.ByType(queueType), capacity.FeedQueues+4, "the feed's queues and DLQ, and the intake's three")
	for _, name := range append([]string{"access911-feed-dlq"}, feedQueueNames()...) {
		doc := parsePolicy(t, get(one(t, res, queuePolicyType, name), "policy"))
		require.Len(t, doc.Statement, 1, name)
		assert.Equal(t, "Deny", doc.Statement[0].Effect, "%s: TLS only", name)
	}
	allow := parseJSON(t, get(one(t, res, redriveAllow, "access911-feed-dlq"), "redriveAllowPolicy").(string))
	assert.ElementsMatch(t, toAny(a.queues), allow["sourceQueueArns"], "only the fan-out queues dead-letter here")
}

func assertFeedMappings(t *testing.T, res *plan.Result, a feedARNs) {
	t.Helper()
	stream := one(t, res, esmType, "access911-feed-stream")
	assert.Equal(t, a.stream, get(stream, "eventSourceArn"), "this region's own stream: replicated calls broadcast here too")
	assert.Equal(t, components.FeedInsertFilter, get(stream, "filterCriteria.filters.0.pattern"), "new calls only")
	assert.Equal(t, map[string]any{"eventName": []any{"INSERT"}}, parseJSON(t, components.FeedInsertFilter))
	assert.Equal(t, "TRIM_HORIZON", get(stream, "startingPosition"), "no call missed while the mapping is created or replaced")
	assert.Equal(t, float64(capacity.FeedStreamMaxRecordAgeSeconds), get(stream, "maximumRecordAgeInSeconds"), "bounds what a new mapping replays")
	assert.True(t, stream.DeleteBeforeReplace, "a replacement never leaves two readers on the global table's stream")
	assert.Equal(t, 1.0, get(stream, "maximumBatchingWindowInSeconds"), "a second's calls coalesced: the floor of the delivery time")
	assert.Equal(t, 1000.0, get(stream, "batchSize"), "a full batch a window per shard")
	assert.Equal(t, 1.0, get(stream, "parallelizationFactor"), "one batch at a time per shard: concurrent batches would multiply the frames")
	assert.Equal(t, a.archive, get(stream, "destinationConfig.onFailure.destinationArn"),
		"failed batches kept whole in S3: an SQS destination would get only shard and sequence numbers")
	assert.Equal(t, true, get(stream, "bisectBatchOnFunctionError"))
	assert.Contains(t, get(stream, "functionName"), "function:access911-feed-swarm-0123456")
	for i := 1; i <= capacity.FeedQueues; i++ {
		m := one(t, res, esmType, fmt.Sprintf("access911-feed-%d", i))
		assert.Equal(t, a.queues[i-1], get(m, "eventSourceArn"))
		assert.Equal(t, float64(capacity.FeedQueryBatchSize), get(m, "batchSize"), "seed 002: batches of 10")
		assert.Equal(t, float64(capacity.FeedQueryConcurrency/capacity.FeedQueues), get(m, "scalingConfig.maximumConcurrency"),
			"seed 002's 250 concurrent over 10 queues")
		assert.Equal(t, []any{"ReportBatchItemFailures"}, get(m, "functionResponseTypes"))
		assert.Contains(t, get(m, "functionName"), "function:access911-feed-worker-0123456")
	}
}

func assertFeedFunctions(t *testing.T, res *plan.Result) {
	t.Helper()
	intake := one(t, res, functionType, "access911-intake")
	require.Len(t, contract.FeedRoles, 6)
	for _, role := range contract.FeedRoles {
		fn := one(t, res, functionType, feedFuncName+role)
		assert.Equal(t, role, get(fn, "environment.variables."+contract.EnvFeedRole))
		assert.Equal(t, get(intake, "sourceCodeHash"), get(fn, "sourceCodeHash"), "%s: the one artifact", role)
		assert.Equal(t, "Active", get(fn, "tracingConfig.mode"))
		want := any(nil) // unreserved
		if role == contract.FeedRoleWorker {
			want = float64(capacity.FeedQueryConcurrency)
		}
		assert.Equal(t, want, get(fn, "reservedConcurrentExecutions"), role)
	}
	worker := one(t, res, functionType, feedFuncName+contract.FeedRoleWorker)
	assert.Equal(t, "access911-feed-deliveries-0123456", get(worker, "environment.variables."+contract.EnvFeedDeliveriesTable))
	assert.Equal(t, fmt.Sprint(capacity.TimeoutSeconds), get(worker, "environment.variables."+contract.EnvFeedDeliveryLease),
		"a claim is held for the worker's timeout")
	assert.Equal(t, fmt.Sprint(capacity.FeedPartitions), get(worker, "environment.variables."+contract.EnvFeedPartitions))
	assert.Regexp(t, `^https://access911-feed-ws-id\.execute-api\.[a-z0-9-]+\.amazonaws\.com/v1$`,
		get(worker, "environment.variables."+contract.EnvFeedManagementEndpoint))
	swarm := one(t, res, functionType, feedFuncName+contract.FeedRoleSwarm)
	for _, fn := range []plan.Resource{worker, swarm, one(t, res, functionType, feedFuncName+contract.FeedRoleDefault)} {
		assert.Equal(t, "4", get(fn, "environment.variables."+contract.EnvFeedPartitionsPerArea), "%s: an area's partitions", fn.Name)
	}
	assert.Len(t, strings.Split(get(swarm, "environment.variables."+contract.EnvFeedQueueURLs).(string), ","), capacity.FeedQueues)
}

func feedQueueNames() []string {
	var out []string
	for i := 1; i <= capacity.FeedQueues; i++ {
		out = append(out, fmt.Sprintf("access911-feed-%d", i))
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Each feed function's role grants exactly what it calls, on these
// resources: ManageConnections on this API's stage's @connections only.
func TestFeedIAMIsScoped(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			a := feedResources(tc)
			logs := func(role string) []string {
				return []string{fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/access911-feed-%s-0123456:*", a.region, plan.MockAccountID, role)}
			}
			post := []string{a.execution + "/v1/POST/@connections/*"}
			streams := []string{strings.SplitAfter(a.stream, "/stream/")[0] + "*"}
			consume := a.queues
			tracing := []string{"*"}
			want := map[string]map[string][]string{
				contract.FeedRoleAuthorizer: {"secretsmanager:GetSecretValue": {a.secret}},
				contract.FeedRoleConnect: {
					"dynamodb:PutItem": {a.connections}, "dynamodb:GetItem": {a.connections},
					"dynamodb:BatchGetItem": {a.partitions}, "dynamodb:UpdateItem": {a.partitions},
				},
				contract.FeedRoleDisconnect: {
					"dynamodb:GetItem": {a.connections}, "dynamodb:DeleteItem": {a.connections}, "dynamodb:UpdateItem": {a.partitions},
				},
				contract.FeedRoleDefault: {"dynamodb:UpdateItem": {a.connections}, "execute-api:ManageConnections": post},
				contract.FeedRoleSwarm: {
					"dynamodb:DescribeStream": streams, "dynamodb:GetRecords": streams, "dynamodb:GetShardIterator": streams,
					"dynamodb:ListStreams": streams, "sqs:SendMessage": a.queues,
					"s3:PutObject": {a.archive + "/aws/lambda/*"}, "s3:ListBucket": {a.archive},
					"kms:GenerateDataKey":   {a.archiveKey},
					"dynamodb:BatchGetItem": {a.deliveries}, "dynamodb:BatchWriteItem": {a.deliveries},
				},
				contract.FeedRoleWorker: {
					"sqs:ReceiveMessage": consume, "sqs:DeleteMessage": consume, "sqs:GetQueueAttributes": consume,
					"sqs:ChangeMessageVisibility": consume,
					"dynamodb:Query":              {a.connections + "/index/" + contract.FeedPartitionIndex},
					"dynamodb:GetItem":            {a.connections}, "dynamodb:DeleteItem": {a.connections},
					"dynamodb:UpdateItem": {a.partitions, a.deliveries}, "dynamodb:PutItem": {a.deliveries},
					"execute-api:ManageConnections": post,
				},
			}
			for role, grants := range want {
				grants["logs:CreateLogStream"], grants["logs:PutLogEvents"] = logs(role), logs(role)
				grants["xray:PutTraceSegments"], grants["xray:PutTelemetryRecords"] = tracing, tracing
				doc := parsePolicy(t, get(one(t, res, rolePolicyType, feedFuncName+role), "policy"))
				got := map[string][]string{}
				for _, st := range doc.Statement {
					assert.Equal(t, "Allow", st.Effect)
					for _, action := range st.Action {
						got[action] = append(got[action], st.Resource...)
					}
				}
				assert.Equal(t, grants, got, "%s: exactly these actions on these resources", role)
			}
		})
	}
}

// The feed's alarms notify the region's topic: post failures, queue age,
// dead letters, the swarm behind the stream, function errors, and a failure
// record of the swarm's mapping written to the failure bucket.
func TestFeedAlarms(t *testing.T) {
	res := mustSynthesize(t, "us-west-2", nil)
	topic := "arn:aws:sns:us-west-2:" + plan.MockAccountID + ":access911-alarms-0123456"
	alarms := map[string]plan.Resource{}
	for _, a := range res.ByType(alarmType) {
		if name, ok := strings.CutPrefix(a.Name, "access911-feed-"); ok {
			alarms[name] = a
			assert.Equal(t, []any{topic}, get(a, "alarmActions"), a.Name)
		}
	}
	require.Len(t, alarms, 6)
	failures := alarms["FeedStreamFailures"]
	assert.Equal(t, "AWS/S3", get(failures, "namespace"))
	assert.Equal(t, "PutRequests", get(failures, "metricName"))
	assert.Equal(t, "access911-archive-0123456", get(failures, "dimensions.BucketName"))
	assert.Equal(t, "access911-feed-stream-failures", get(failures, "dimensions.FilterId"))
	assert.Equal(t, 0.0, get(failures, "threshold"))
	metric := one(t, res, "aws:s3/bucketMetric:BucketMetric", "access911-feed-stream-failures")
	assert.Equal(t, "access911-feed-stream-failures", get(metric, "name"), "the alarm's FilterId")
	assert.Equal(t, "access911-archive-0123456", get(metric, "bucket"))
	assert.Regexp(t, `^aws/lambda/.+/$`, get(metric, "filter.prefix"), "the swarm mapping's failure records only")
	posts := alarms["FeedPostFailures"]
	assert.Equal(t, contract.FeedPostsFailed, get(posts, "metricName"))
	assert.Equal(t, contract.Namespace, get(posts, "namespace"))
	assert.Equal(t, 0.0, get(posts, "threshold"))
	age := alarms["FeedQueueAge"]
	assert.Equal(t, float64(components.FeedQueueAgeAlarmSeconds), get(age, "threshold"))
	queries := get(age, "metricQueries").([]any)
	require.Len(t, queries, capacity.FeedQueues+1, "every fan-out queue, then their maximum")
	assert.Equal(t, "MAX([q1,q2,q3,q4,q5,q6,q7,q8,q9,q10])", get(age, fmt.Sprintf("metricQueries.%d.expression", capacity.FeedQueues)))
	dead := alarms["FeedDeadLetters"]
	assert.Equal(t, "access911-feed-dlq-0123456", get(dead, "dimensions.QueueName"))
	assert.Equal(t, 0.0, get(dead, "threshold"))
	assert.Equal(t, "IteratorAge", get(alarms["FeedSwarmBehind"], "metricName"))
	assert.Equal(t, float64(components.FeedIteratorAgeAlarmMs), get(alarms["FeedSwarmBehind"], "threshold"))
	dash := one(t, res, "aws:cloudwatch/dashboard:Dashboard", "access911-feed")
	assert.Equal(t, "access911-feed-us-west-2", get(dash, "dashboardName"))
	body := get(dash, "dashboardBody").(string)
	for _, want := range []string{contract.FeedPostsFailed, contract.FeedDeliveryLatency, contract.FeedRepeatsSkipped, "ConnectCount",
		`"ApiId","access911-feed-ws-id"`, "access911-feed-10-0123456", "access911-feed-dlq-0123456", "IteratorAge", `"region":"us-west-2"`} {
		assert.Contains(t, body, want)
	}
	assert.Equal(t, "FILL(fn_authorizer, 0) + FILL(fn_connect, 0) + FILL(fn_disconnect, 0) + FILL(fn_default, 0) + FILL(fn_swarm, 0) + FILL(fn_worker, 0)",
		get(alarms["FeedFunctionErrors"], "metricQueries.6.expression"))
}

// At seed 002's upper figure (600,000 dispatchers) and API Gateway's default
// post quota, a call cannot reach everyone in 2 s: the stack fails before
// anything is registered. The raised quota the check names makes it pass.
func TestFeedCapacityIsEnforced(t *testing.T) {
	seedUpper := func(c map[string]string) { c[stackconfig.KeyFeedConnections] = fmt.Sprint(capacity.FeedConnections) }
	res, err := synthesize(t, "us-east-1", seedUpper)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FAIL feed delivery to every dispatcher")
	assert.Contains(t, err.Error(), "600000 connections")
	assert.Contains(t, err.Error(), "meeting the target needs 344828 posts/s")
	for _, r := range res.Resources {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing registered: %s", r.Name)
	}
	_, err = synthesize(t, "us-east-1", func(c map[string]string) {
		seedUpper(c)
		c[stackconfig.KeyFeedPostRateLimit] = "350000"
	})
	require.Error(t, err, "one call fits, the sustained spike does not")
	assert.Contains(t, err.Error(), "FAIL feed posts/s at a 10x spike")
	_, err = synthesize(t, "us-east-1", func(c map[string]string) {
		seedUpper(c)
		c[stackconfig.KeyFeedPostRateLimit] = "460000"
	})
	assert.NoError(t, err)
}

// Broadcasting every call to every dispatcher (one area for all) needs
// 20,800 posts/s at the 10x spike even coalesced: the stack fails before
// anything is registered. The committed stacks, 10,000 dispatchers over
// 2,000 areas, pass with 8,363.
func TestFeedSpikeNeedsAreas(t *testing.T) {
	res, err := synthesize(t, "us-east-1", func(c map[string]string) { c[stackconfig.KeyFeedAreas] = "1" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FAIL feed posts/s at a 10x spike")
	assert.Contains(t, err.Error(), "needed 20800 posts/s, configured 10000 posts/s")
	for _, r := range res.Resources {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing registered: %s", r.Name)
	}
	ok := mustSynthesize(t, "us-east-1", nil)
	loads := ok.Outputs[contract.OutputFeedModel].(map[string]any)["loads"].([]any)
	require.Len(t, loads, 2)
	spike := loads[1].(map[string]any)
	assert.Equal(t, "at a 10x spike", spike["name"])
	assert.Equal(t, 8363.0, spike["posts"])
	assert.Equal(t, 1900.0, spike["callRate"])
}

func TestFeedSecretOnlyAsAPulumiSecret(t *testing.T) {
	_, err := synthesize(t, "us-east-1", func(c map[string]string) { c[stackconfig.KeyFeedSecret] = "plain" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulumi config set --secret "+stackconfig.KeyFeedSecret)

	proj, cfg := stackFile(t, "us-east-1")
	cfg[stackconfig.KeyFeedSecret] = "feed_secret_from_config"
	res, err := plan.Run(proj.Name(), "us-east-1", cfg, stacks.Build, stackconfig.KeyFeedSecret)
	require.NoError(t, err)
	version := one(t, res, "aws:secretsmanager/secretVersion:SecretVersion", "access911-feed-secret")
	assert.Contains(t, version.Secrets, "secretString", "the value stays a secret in state")
	b, _ := json.Marshal(res.Resources)
	assert.NotContains(t, string(b), "feed_secret_from_config")
}
