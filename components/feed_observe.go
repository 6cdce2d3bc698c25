package components

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/contract"
)

// What watches the feed: its stage's access log, alarms and dashboard.

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
	service := pulumi.StringMap{contract.ServiceDimension: pulumi.String(appName(b.args.App))}
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

// dashboard registers the feed's CloudWatch dashboard, <app>-feed-<region>.
func (b *feedBuilder) dashboard() error {
	names := pulumi.StringArray{b.api.ID(), b.dlq.Name, b.functions[contract.FeedRoleSwarm].function.Name}
	for _, q := range b.queues {
		names = append(names, q.Name)
	}
	body := names.ToStringArrayOutput().ApplyT(func(v []string) string {
		return feedDashboardBody(appName(b.args.App), b.args.Region, v[0], v[1], v[2], v[3:])
	}).(pulumi.StringOutput)
	_, err := cloudwatch.NewDashboard(b.ctx, b.name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(appName(b.args.App) + "-feed-" + b.args.Region), DashboardBody: body,
	}, b.parent)
	return err
}

// FeedDashboardBody graphs the feed: deliveries (posts sent, failed, to
// vanished connections, repeats skipped), delivery latency from the
// broadcast, the WebSocket API's connects, messages and errors, the
// fan-out queues' oldest message and the DLQ, and the swarm's lag behind
// the stream.
func FeedDashboardBody(region, apiID, dlqName, swarmFunction string, queueNames []string) string {
	return feedDashboardBody(contract.Service, region, apiID, dlqName, swarmFunction, queueNames)
}

// feedDashboardBody is the feed's dashboard for the app's metrics.
func feedDashboardBody(app, region, apiID, dlqName, swarmFunction string, queueNames []string) string {
	service := []any{contract.ServiceDimension, app}
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
