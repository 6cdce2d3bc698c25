package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// AlarmsType is the Pulumi type token of the Alarms component.
const AlarmsType = "access911:components:Alarms"

// Alarm thresholds.
const (
	// ErrorRatePercent / ErrorRatePeriods: seed 000, HighErrorRate
	// Threshold 5.0, EvaluationPeriods 2, GreaterThanThreshold.
	ErrorRatePercent = 5.0
	ErrorRatePeriods = 2
	// ResponseTimeSeconds / ResponseTimePeriods: seed 000, HighResponseTime
	// Threshold 10.0 (seconds), EvaluationPeriods 3.
	ResponseTimeSeconds = 10.0
	ResponseTimePeriods = 3
	// AlarmPeriodSeconds is the period every alarm evaluates.
	AlarmPeriodSeconds = 60
	// ConcurrencyAlarmFraction: alarm when executions reach 80 % of the
	// reserved concurrency, before Lambda starts throttling.
	ConcurrencyAlarmFraction = 0.8
)

// AlarmsArgs configures the alarms.
type AlarmsArgs struct {
	// Region is the region of the metrics (that of the component's
	// provider): dashboard widgets must name it.
	Region string `pulumi:"region"`
	// APIName and StageName identify the API's metrics.
	APIName   pulumi.StringInput `pulumi:"apiName"`
	StageName pulumi.StringInput `pulumi:"stageName"`
	// FunctionName and ReservedConcurrency identify the Lambda's.
	FunctionName        pulumi.StringInput `pulumi:"functionName"`
	ReservedConcurrency int                `pulumi:"reservedConcurrency"`
	// TableName identifies the table's (and index's) metrics.
	TableName pulumi.StringInput `pulumi:"tableName"`
	// TableIndexes are the global secondary indexes whose throttles are
	// watched (index throttling also throttles the table's writes); nil is
	// access911's emergency-type index, an empty list none.
	TableIndexes []string `pulumi:"tableIndexes"`
	// Intake, if set, adds the durable intake's alarms and widgets.
	Intake *IntakeAlarms `pulumi:"intake"`
	// ReadCache, if set, adds the read cache's alarms.
	ReadCache *ReadCacheAlarms `pulumi:"readCache"`
	// Standby: the region is not the active one, and alarms when it starts
	// taking callers' traffic (StandbyTakingTraffic).
	Standby bool `pulumi:"standby"`
	// AccountID owns the topic's key: its key policy delegates the key's
	// administration to the account's IAM policies.
	AccountID pulumi.StringInput `pulumi:"accountId"`
	// AlarmEmail, if set, subscribes an address to the alarm topic.
	AlarmEmail string `pulumi:"alarmEmail"`
	// DashboardName names the CloudWatch dashboard; default the component name.
	DashboardName string `pulumi:"dashboardName"`
	// TopicArn, if set, is an existing SNS topic the alarms notify (its key
	// policy must let cloudwatch.amazonaws.com publish); nil creates an
	// encrypted topic with a key of its own.
	TopicArn pulumi.StringInput `pulumi:"topicArn"`
	// MetricNamespace and Service are where the app's own metrics are (the
	// namespace, and the value of the contract.ServiceDimension dimension);
	// default contract.Namespace and the app (App: contract.Service).
	MetricNamespace string `pulumi:"metricNamespace"`
	Service         string `pulumi:"service"`
	// NoAppMetrics leaves out the alarms on the app's own metrics
	// (QueueDepth, WebhookSignatureRejected, ReplicationLag), for an app
	// that does not emit them.
	NoAppMetrics bool             `pulumi:"noAppMetrics"`
	Tags         pulumi.StringMap `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

// IntakeAlarms names the intake queue, its dead-letter queue and the drain
// function, and the drain's maximum concurrency.
type IntakeAlarms struct {
	QueueName         pulumi.StringInput `pulumi:"queueName"`
	DLQName           pulumi.StringInput `pulumi:"dlqName"`
	DrainFunctionName pulumi.StringInput `pulumi:"drainFunctionName"`
	// InboxFailuresName, if set, is the inbox events' on-failure queue.
	InboxFailuresName pulumi.StringInput `pulumi:"inboxFailuresName"`
	DrainConcurrency  int                `pulumi:"drainConcurrency"`
}

// OldestQueuedCallSeconds: a queued call waiting five minutes means the
// drain is not keeping up or the table keeps refusing it.
const OldestQueuedCallSeconds = 300

// Alarms is the alarm topic, the alarms and the dashboard.
type Alarms struct {
	pulumi.ResourceState

	TopicArn      pulumi.StringOutput `pulumi:"topicArn"`
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`
	// AlarmArns are the alarms' ARNs by their short name (HighErrorRate, ...).
	AlarmArns pulumi.StringMapOutput `pulumi:"alarmArns"`
}

// QueueDepthThreshold follows seed 000's calculate_scaling_factor: more than
// ScaleUpQueueFactor queued calls per instance means scale up; at the
// reserved-concurrency ceiling there is nothing left to scale to.
func QueueDepthThreshold(reservedConcurrency int) float64 {
	return float64(capacity.ScaleUpQueueFactor * reservedConcurrency)
}

// validate: each group (the API, the function, the table) is optional, but
// one is needed; what a group needs comes with it.
func (args *AlarmsArgs) validate() error {
	switch {
	case args == nil || (args.APIName == nil && args.FunctionName == nil && args.TableName == nil):
		return errors.New("nothing to watch: give the API (APIName and StageName), the function or the table")
	case args.APIName != nil && args.StageName == nil:
		return errors.New("the API's stage (StageName) is required with APIName")
	case args.Region == "":
		return errors.New("the region is required")
	case args.TopicArn == nil && args.AccountID == nil:
		return errors.New("the account is required for the topic's key policy (or give an existing TopicArn)")
	case args.FunctionName != nil && args.ReservedConcurrency < 1:
		return errors.New("reserved concurrency must be at least 1 with a function")
	}
	return nil
}

// NewAlarms registers an encrypted SNS topic, the alarms and a dashboard.
func NewAlarms(ctx *pulumi.Context, name string, args *AlarmsArgs, opts ...pulumi.ResourceOption) (*Alarms, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("alarms %q: %w", name, err)
	}
	a := *args
	if a.DashboardName == "" {
		a.DashboardName = name
	}
	if a.MetricNamespace == "" {
		a.MetricNamespace = contract.Namespace
	}
	if a.Service == "" {
		a.Service = appName(a.App)
	}
	c := &Alarms{}
	if err := ctx.RegisterComponentResource(AlarmsType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	var topicArn pulumi.StringOutput
	if a.TopicArn != nil {
		topicArn = a.TopicArn.ToStringOutput()
	} else {
		topic, err := alarmTopic(ctx, name, a, parent)
		if err != nil {
			return nil, fmt.Errorf("alarms %q: %w", name, err)
		}
		topicArn = topic.Arn
	}
	if a.AlarmEmail != "" {
		if _, err := sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
			Topic: topicArn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(a.AlarmEmail),
		}, parent); err != nil {
			return nil, fmt.Errorf("alarms %q: subscription: %w", name, err)
		}
	}
	definitions := alarmDefinitions(a)
	if a.Intake != nil {
		definitions = append(definitions, intakeAlarmDefinitions(*a.Intake)...)
	}
	if a.ReadCache != nil {
		definitions = append(definitions, readCacheAlarmDefinitions(*a.ReadCache, a.MetricNamespace, a.Service)...)
	}
	definitions = append(definitions, regionRoleAlarmDefinitions(a)...)
	arns := pulumi.StringMap{}
	for _, al := range definitions {
		args := al.args
		args.Name = pulumi.Sprintf("%s-%s", name, al.name)
		args.AlarmActions = pulumi.Array{topicArn}
		args.OkActions = pulumi.Array{topicArn}
		// No traffic is no error, and QueueDepth only exists while calls queue.
		args.TreatMissingData = pulumi.String("notBreaching")
		args.Tags = a.Tags
		alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.name, &args, parent)
		if err != nil {
			return nil, fmt.Errorf("alarms %q: %s: %w", name, al.name, err)
		}
		arns[al.name] = alarm.Arn
	}
	queue, dlq := pulumi.StringInput(pulumi.String("")), pulumi.StringInput(pulumi.String(""))
	if a.Intake != nil {
		queue, dlq = a.Intake.QueueName, a.Intake.DLQName
	}
	orEmpty := func(in pulumi.StringInput) pulumi.StringInput {
		if in == nil {
			return pulumi.String("")
		}
		return in
	}
	body := pulumi.All(orEmpty(a.APIName), orEmpty(a.StageName), orEmpty(a.FunctionName), orEmpty(a.TableName), queue, dlq).ApplyT(func(v []any) string {
		return dashboardBody(a, v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string), v[5].(string))
	}).(pulumi.StringOutput)
	dash, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(a.DashboardName),
		DashboardBody: body,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("alarms %q: dashboard: %w", name, err)
	}

	c.TopicArn = topicArn
	c.DashboardName = dash.DashboardName
	c.AlarmArns = arns.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"topicArn": c.TopicArn, "dashboardName": c.DashboardName, "alarmArns": c.AlarmArns}); err != nil {
		return nil, err
	}
	return c, nil
}

type namedAlarm struct {
	name string
	args cloudwatch.MetricAlarmArgs
}

// alarmDefinitions are the alarms, each on one metric or one metric-math
// expression, before the topic, name and tags are added.
func alarmDefinitions(a AlarmsArgs) []namedAlarm {
	api := pulumi.StringMap{"ApiName": a.APIName, "Stage": a.StageName}
	fn := pulumi.StringMap{"FunctionName": a.FunctionName}
	table := pulumi.StringMap{"TableName": a.TableName}
	service := pulumi.StringMap{contract.ServiceDimension: pulumi.String(a.Service)}
	all := []namedAlarm{
		{"HighErrorRate", cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String("API 5XX responses above 5 % of requests for 2 minutes (seed 000 HighErrorRate)"),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			Threshold:          pulumi.Float64(ErrorRatePercent),
			EvaluationPeriods:  pulumi.Int(ErrorRatePeriods),
			MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
				metricQuery("errors", "AWS/ApiGateway", "5XXError", api),
				metricQuery("requests", "AWS/ApiGateway", "Count", api),
				expression("rate", "IF(requests > 0, 100 * errors / requests, 0)", "Error rate (%)"),
			},
		}},
		{"HighResponseTime", singleMetric(pulumi.String("Average API latency above 10 s for 3 minutes (seed 000 HighResponseTime)"),
			"GreaterThanThreshold", "AWS/ApiGateway", "Latency", "Average", api,
			ResponseTimeSeconds*1000, ResponseTimePeriods)}, // the metric is in milliseconds
		{"LambdaThrottles", singleMetric(pulumi.String("The Lambda refused invocations: reserved concurrency exhausted"),
			"GreaterThanThreshold", "AWS/Lambda", "Throttles", "Sum", fn, 0, 1)},
		{"LambdaConcurrencyNearLimit", singleMetric(
			pulumi.Sprintf("Concurrent executions at %.0f %% of the reserved %d", ConcurrencyAlarmFraction*100, a.ReservedConcurrency),
			"GreaterThanOrEqualToThreshold", "AWS/Lambda", "ConcurrentExecutions", "Maximum", fn,
			ConcurrencyAlarmFraction*float64(a.ReservedConcurrency), 2)},
		{"LambdaErrors", singleMetric(pulumi.String("The Lambda crashed or timed out (handled errors are HTTP responses)"),
			"GreaterThanThreshold", "AWS/Lambda", "Errors", "Sum", fn, 0, 1)},
		{"DynamoDBTableThrottles", throttleAlarm("Reads or writes on the calls table were throttled", table, "Table throttle events")},
		{"QueueDepth", singleMetric(
			pulumi.Sprintf("More than %d calls queued per reserved instance (seed 000 calculate_scaling_factor) with no room left to scale",
				capacity.ScaleUpQueueFactor),
			"GreaterThanThreshold", a.MetricNamespace, contract.QueueDepth, "Maximum", service,
			QueueDepthThreshold(a.ReservedConcurrency), 2)},
		{"WebhookSignatureRejected", singleMetric(
			pulumi.String("Provider deliveries refused for their signature: a secret out of step with the provider's settings "+
				"(every call is being refused), or someone posting forged calls"),
			"GreaterThanThreshold", a.MetricNamespace, contract.WebhookRejected, "Sum", service, 0, 1)},
	}
	var out []namedAlarm
	for _, al := range all {
		if a.watches(alarmGroup[al.name]) {
			out = append(out, al)
		}
		if al.name == "DynamoDBTableThrottles" && a.TableName != nil {
			out = append(out, indexThrottleAlarms(a)...)
		}
	}
	return out
}

// alarmGroup is what each of alarmDefinitions' alarms watches.
var alarmGroup = map[string]string{
	"HighErrorRate": "api", "HighResponseTime": "api",
	"LambdaThrottles": "function", "LambdaConcurrencyNearLimit": "function", "LambdaErrors": "function",
	"DynamoDBTableThrottles": "table",
	"QueueDepth":             "app+function", "WebhookSignatureRejected": "app",
}

// indexThrottleAlarms watch each index's throttles, after the table's:
// DynamoDBIndexThrottles for access911's index (its first name, kept),
// DynamoDBIndexThrottles-<index> for any other.
func indexThrottleAlarms(a AlarmsArgs) []namedAlarm {
	var out []namedAlarm
	for _, ix := range a.indexes() {
		name := "DynamoDBIndexThrottles"
		if ix != contract.EmergencyTypeIndex {
			name += "-" + ix
		}
		dims := pulumi.StringMap{"TableName": a.TableName, "GlobalSecondaryIndexName": pulumi.String(ix)}
		out = append(out, namedAlarm{name, throttleAlarm("Reads or writes on "+ix+
			" were throttled (index throttling also throttles table writes)", dims, "Index throttle events")})
	}
	return out
}

// indexes are the indexes watched: TableIndexes, or access911's.
func (a AlarmsArgs) indexes() []string {
	if a.TableIndexes == nil {
		return []string{contract.EmergencyTypeIndex}
	}
	return a.TableIndexes
}

// watches says whether the args give what a group of alarms watches.
func (a AlarmsArgs) watches(group string) bool {
	switch group {
	case "api":
		return a.APIName != nil
	case "function":
		return a.FunctionName != nil
	case "table":
		return a.TableName != nil
	case "app":
		return !a.NoAppMetrics
	case "app+function":
		return !a.NoAppMetrics && a.FunctionName != nil
	}
	return false
}

// intakeAlarmDefinitions watch the durable intake: anything in the
// dead-letter queue (a call that failed every delivery), a queued call
// waiting too long, a queue deeper than the drain fleet at its maximum
// handles (seed 000's scale-up rule), and the drain function failing.
func intakeAlarmDefinitions(in IntakeAlarms) []namedAlarm {
	queue := pulumi.StringMap{"QueueName": in.QueueName}
	dlq := pulumi.StringMap{"QueueName": in.DLQName}
	out := []namedAlarm{
		{"IntakeDeadLetters", singleMetric(pulumi.String("Queued calls failed every delivery and wait in the dead-letter queue: fix the cause, then access911 replay"),
			"GreaterThanThreshold", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", dlq, 0, 1)},
		{"IntakeOldestCallAge", singleMetric(pulumi.Sprintf("A queued call has waited more than %d s to be stored", OldestQueuedCallSeconds),
			"GreaterThanThreshold", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", queue, OldestQueuedCallSeconds, 2)},
		{"IntakeQueueDepth", singleMetric(
			pulumi.Sprintf("More than %d calls queued per drain invocation at the maximum of %d (seed 000 calculate_scaling_factor)",
				capacity.ScaleUpQueueFactor, in.DrainConcurrency),
			"GreaterThanThreshold", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", queue,
			QueueDepthThreshold(in.DrainConcurrency), 2)},
		{"DrainErrors", singleMetric(pulumi.String("The drain function crashed or timed out (its batches come back, then go to the dead-letter queue)"),
			"GreaterThanThreshold", "AWS/Lambda", "Errors", "Sum", pulumi.StringMap{"FunctionName": in.DrainFunctionName}, 0, 1)},
	}
	if in.InboxFailuresName != nil {
		out = append(out, namedAlarm{"InboxDeliveriesFailed", singleMetric(pulumi.String(
			"Provider deliveries acknowledged by the inbox failed every retry: fix the cause, then access911 replay --inbox"),
			"GreaterThanThreshold", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum",
			pulumi.StringMap{"QueueName": in.InboxFailuresName}, 0, 1)})
	}
	return out
}

// Region-role thresholds.
const (
	// StandbyIdleRequestsPerPeriod: a standby's API sees the health checks
	// (Route 53's checkers in HealthCheckRegions every 10 s) and little
	// else; more than this a minute, two minutes running, is callers.
	StandbyIdleRequestsPerPeriod = 120
	// ReplicationLagAlarmMs: calls from other regions reaching this one more
	// than a minute late, three minutes running.
	ReplicationLagAlarmMs      = 60_000
	ReplicationLagAlarmPeriods = 3
)

// regionRoleAlarmDefinitions watch the region's part in failover, on its
// own topic: a standby taking traffic (the active region failed, or callers
// were moved), and replication into this region lagging (a failover here
// would serve stale data; a failback must wait for it).
func regionRoleAlarmDefinitions(a AlarmsArgs) []namedAlarm {
	service := pulumi.StringMap{contract.ServiceDimension: pulumi.String(a.Service)}
	var out []namedAlarm
	if a.watches("app") {
		out = append(out, namedAlarm{"ReplicationLag", singleMetric(
			pulumi.Sprintf("Calls from the other regions reach %s's table more than %d s late (replication lags or is cut off)",
				a.Region, ReplicationLagAlarmMs/1000),
			"GreaterThanThreshold", a.MetricNamespace, contract.ReplicatedCallLag, "Maximum", service,
			ReplicationLagAlarmMs, ReplicationLagAlarmPeriods)})
	}
	if a.Standby && a.watches("api") {
		out = append(out, namedAlarm{"StandbyTakingTraffic", singleMetric(
			pulumi.Sprintf("%s is a standby and its API took more than %d requests a minute: callers are arriving here", a.Region,
				StandbyIdleRequestsPerPeriod),
			"GreaterThanThreshold", "AWS/ApiGateway", "Count", "Sum",
			pulumi.StringMap{"ApiName": a.APIName, "Stage": a.StageName}, StandbyIdleRequestsPerPeriod, 2)})
	}
	return out
}

// ReadCacheAlarms names the read cache's functions.
type ReadCacheAlarms struct {
	ReaderFunctionName      pulumi.StringInput `pulumi:"readerFunctionName"`
	InvalidatorFunctionName pulumi.StringInput `pulumi:"invalidatorFunctionName"`
}

// CacheFallbacksPerPeriod: reads sent to the table because the cache
// failed, was slow or held a corrupt entry, per AlarmPeriodSeconds, for
// two periods. A few are a network blip; this many is a cache that is down.
const CacheFallbacksPerPeriod = 100

// readCacheAlarmDefinitions watch the read cache: reads falling back to the
// table (the reads still answer, the cache does not), and the invalidator
// failing (entries stale until their TTL).
func readCacheAlarmDefinitions(in ReadCacheAlarms, namespace, app string) []namedAlarm {
	service := pulumi.StringMap{contract.ServiceDimension: pulumi.String(app)}
	return []namedAlarm{
		{"ReadCacheFallbacks", singleMetric(pulumi.Sprintf("More than %d reads a minute went to the table because the read cache failed, "+
			"was slow or held a corrupt entry (reads still answer; the table carries them)", CacheFallbacksPerPeriod),
			"GreaterThanThreshold", namespace, contract.CacheFallbacks, "Sum", service, CacheFallbacksPerPeriod, 2)},
		{"ReadCacheInvalidatorErrors", singleMetric(pulumi.String("The read cache's invalidator failed: changed calls may be served stale until their TTL"),
			"GreaterThanThreshold", "AWS/Lambda", "Errors", "Sum", pulumi.StringMap{"FunctionName": in.InvalidatorFunctionName}, 0, 1)},
	}
}

// singleMetric alarms on one statistic of one metric over AlarmPeriodSeconds.
func singleMetric(description pulumi.StringInput, operator, namespace, metric, stat string, dims pulumi.StringMap,
	threshold float64, periods int) cloudwatch.MetricAlarmArgs {
	return cloudwatch.MetricAlarmArgs{
		AlarmDescription:   description,
		ComparisonOperator: pulumi.String(operator),
		Namespace:          pulumi.String(namespace), MetricName: pulumi.String(metric),
		Statistic: pulumi.String(stat), Dimensions: dims, Period: pulumi.Int(AlarmPeriodSeconds),
		Threshold: pulumi.Float64(threshold), EvaluationPeriods: pulumi.Int(periods),
	}
}

// throttleAlarm fires on any read or write throttle event of a table or index.
func throttleAlarm(description string, dims pulumi.StringMap, label string) cloudwatch.MetricAlarmArgs {
	return cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(description),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0), EvaluationPeriods: pulumi.Int(1),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			metricQuery("reads", "AWS/DynamoDB", "ReadThrottleEvents", dims),
			metricQuery("writes", "AWS/DynamoDB", "WriteThrottleEvents", dims),
			expression("throttles", "FILL(reads, 0) + FILL(writes, 0)", label),
		},
	}
}

// metricQuery is one summed metric of a metric-math alarm.
func metricQuery(id, namespace, metric string, dims pulumi.StringMap) cloudwatch.MetricAlarmMetricQueryArgs {
	return metricQueryStat(id, namespace, metric, "Sum", dims)
}

// metricQueryStat is one metric of a metric-math alarm with its statistic.
func metricQueryStat(id, namespace, metric, stat string, dims pulumi.StringMap) cloudwatch.MetricAlarmMetricQueryArgs {
	return cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(id), Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
		Namespace: pulumi.String(namespace), MetricName: pulumi.String(metric), Stat: pulumi.String(stat),
		Period: pulumi.Int(AlarmPeriodSeconds), Dimensions: dims,
	}}
}

// expression is the metric-math expression an alarm evaluates.
func expression(id, expr, label string) cloudwatch.MetricAlarmMetricQueryArgs {
	return cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(id), Expression: pulumi.String(expr),
		Label: pulumi.String(label), ReturnData: pulumi.Bool(true)}
}
