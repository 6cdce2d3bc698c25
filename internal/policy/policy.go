package policy

import (
	"fmt"
	"github.com/access911/access911-infra/internal/plan"
	"io"
	"sort"
	"text/tabwriter"
)

// The policy pack: rules that hold what AWS does and a mock accepts, checked
// on every plan (the offline `plan`, and `make test` on the committed
// stacks). Each rule is general (it reads resource types and their inputs,
// not this project's names) and names the AWS document it comes from. A
// FAIL stops the plan, as a failed capacity check does; a WARN is printed.

// Policy severities.
const (
	PolicyFail = "FAIL"
	PolicyWarn = "WARN"
)

// PolicyRule is one rule of the pack.
type PolicyRule struct {
	ID       string
	Severity string
	// What the rule requires, in a sentence.
	Requires string
	// Source is the AWS document (and section) the rule comes from.
	Source string
	// check reports the violations in a set of planned stacks.
	check func(stacks []plan.Stack) []PolicyViolation
}

// PolicyViolation is one resource (or stack) that breaks a rule.
type PolicyViolation struct {
	Rule     string
	Severity string
	Stack    string
	Resource string // "type name", or "" for a stack-wide finding
	Message  string
}

func (v PolicyViolation) String() string {
	where := v.Stack
	if v.Resource != "" {
		where += " " + v.Resource
	}
	return fmt.Sprintf("%s %s: %s: %s", v.Severity, v.Rule, where, v.Message)
}

// PolicyReport is the pack's verdict on a set of stacks.
type PolicyReport struct {
	Rules      []PolicyRule
	Violations []PolicyViolation
}

// Failed reports whether any FAIL was found in the stack ("" for any stack).
func (r PolicyReport) Failed(stack string) bool {
	for _, v := range r.Violations {
		if v.Severity == PolicyFail && (stack == "" || v.Stack == stack) {
			return true
		}
	}
	return false
}

// Of returns the violations of one rule.
func (r PolicyReport) Of(rule string) []PolicyViolation {
	var out []PolicyViolation
	for _, v := range r.Violations {
		if v.Rule == rule {
			out = append(out, v)
		}
	}
	return out
}

// CheckPolicies runs every rule of the pack on the planned stacks (the rule
// on keys compares the stacks with each other).
func CheckPolicies(stacks []plan.Stack) PolicyReport {
	rep := PolicyReport{Rules: PolicyRules()}
	for _, rule := range rep.Rules {
		for _, v := range rule.check(stacks) {
			v.Rule, v.Severity = rule.ID, rule.Severity
			rep.Violations = append(rep.Violations, v)
		}
	}
	sort.SliceStable(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Severity != b.Severity {
			return a.Severity == PolicyFail
		}
		return a.Stack < b.Stack
	})
	return rep
}

// WritePolicies prints the pack's verdict: one line per rule, then each
// violation.
func WritePolicies(w io.Writer, rep PolicyReport) {
	fmt.Fprintf(w, "policy pack (%d rules; a FAIL stops the plan):\n", len(rep.Rules))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, rule := range rep.Rules {
		status := "OK"
		if n := len(rep.Of(rule.ID)); n > 0 {
			status = fmt.Sprintf("%s x%d", rule.Severity, n)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", status, rule.ID, rule.Source)
	}
	_ = tw.Flush()
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
}

// PolicyRules are the rules of the pack, in the order they print.
func PolicyRules() []PolicyRule {
	return []PolicyRule{
		{ID: "publisher-key-grants", Severity: PolicyFail,
			Requires: "a topic or queue that an AWS service publishes to (CloudWatch alarms, S3 notifications) is encrypted with a customer managed key whose policy lets that service use it",
			Source:   "SNS developer guide, sns-key-management: compatibility between event sources and encrypted topics",
			check:    checkPublisherKeys},
		{ID: "alarm-topic-subscribed", Severity: PolicyWarn,
			Requires: "a topic that alarms notify has a subscriber",
			Source:   "SNS developer guide, sns-create-subscribe-endpoint-to-topic (a message to a topic without subscriptions reaches no one)",
			check:    checkAlarmTopicsSubscribed},
		{ID: "async-on-failure", Severity: PolicyFail,
			Requires: "a function an AWS service invokes asynchronously (S3 notifications) has an on-failure destination",
			Source:   "Lambda developer guide, invocation-async-retain-records (after its retries Lambda discards the event)",
			check:    checkAsyncFailureDestinations},
		{ID: "dlq-outlives-sources", Severity: PolicyFail,
			Requires: "a dead-letter queue keeps messages longer than every queue that dead-letters into it",
			Source:   "SQS developer guide, sqs-dead-letter-queues (expiry counts from the original enqueue time)",
			check:    checkDeadLetterRetention},
		{ID: "client-key-everywhere", Severity: PolicyFail,
			Requires: "the API key a client holds has the same value in every region (one region's key, shared through a replicated secret)",
			Source:   "API Gateway developer guide, api-gateway-api-key-source / API keys (a key is matched by its value)",
			check:    checkClientKeys},
		{ID: "aws-limits", Severity: PolicyFail,
			Requires: "redrive allow policies name at most 10 queues; alarms use at most 10 metrics, 10 expressions, 5 actions per state; SQS mappings' maximum concurrency is 2-1000; queues keep 60 s to 14 days",
			Source:   "SQS API Reference (RedriveAllowPolicy, MessageRetentionPeriod); CloudWatch alarm-limits, PutMetricAlarm; Lambda API ScalingConfig",
			check:    checkAWSLimits},
		{ID: "lambda-queue-receives", Severity: PolicyFail,
			Requires: "a queue that Lambda consumes dead-letters after at least 5 receives",
			Source:   "Lambda developer guide, with-sqs (configuring a dead-letter queue: maxReceiveCount at least 5)",
			check:    checkLambdaQueueReceives},
		{ID: "stream-failures-kept", Severity: PolicyFail,
			Requires: "a stream mapping sends failed batches to an S3 bucket (SQS and SNS destinations get metadata only, and a stream keeps records 24 hours)",
			Source:   "Lambda developer guide, services-dynamodb-errors / kinesis-on-failure-destination",
			check:    checkStreamFailures},
		{ID: "stream-readers", Severity: PolicyFail,
			Requires: "one event source mapping reads a global table's stream, at most 2 any other DynamoDB stream (more readers of a shard are throttled)",
			Source: "DynamoDB developer guide, service quotas, DynamoDB Streams (\"For global tables, we recommend you limit the number of " +
				"simultaneous readers to one\"); DynamoDB API Reference, LimitExceededException (more than 2 processes reading the same streams shard)",
			check: checkStreamReaders},
		{ID: "dns-failover-on", Severity: PolicyWarn,
			Requires: "callers reach the service through a shared hostname that fails over (access911:apiHostname and hostedZoneId set)",
			Source: "Route 53 developer guide, dns-failover (health-checked records move callers off an unhealthy region); " +
				"without one, callers and the provider's webhook hold one region's execute-api URL",
			check: checkDNSFailoverOn},
		{ID: "own-region-only", Severity: PolicyFail,
			Requires: "a stack registers resources only in its own region among the serving regions (access911:regions)",
			Source: "AWS Well-Architected, REL11 (statically stable workloads; avoid depending on the Region being failed over from); " +
				"AWS Fault Isolation Boundaries whitepaper (Regional isolation)",
			check: checkOwnRegionOnly},
		{ID: "stream-trim-horizon", Severity: PolicyFail,
			Requires: "a stream mapping starts at TRIM_HORIZON (bounded by its maximum record age), never LATEST",
			Source: "Lambda developer guide, with-ddb (\"if you specify LATEST as the starting position for the stream, the event source mapping " +
				"could miss events during creation or updates. To ensure that no events are missed, specify the stream starting position as TRIM_HORIZON.\")",
			check: checkStreamStart},
		{ID: "gateway-response-json", Severity: PolicyFail,
			Requires: "an API Gateway response template for JSON stays valid JSON whatever its variables hold (templates are substituted, not rendered by VTL)",
			Source:   "API Gateway developer guide, x-amazon-apigateway-gateway-responses.responseTemplates; $context.error.validationErrorString",
			check:    checkGatewayResponses},
		{ID: "lifecycle-size-stated", Severity: PolicyWarn,
			Requires: "a lifecycle configuration with transitions states the minimum object size it moves",
			Source:   "S3 user guide, lifecycle-transition-general-considerations (objects under 128 KB are not transitioned by default)",
			check:    checkLifecycleSize},
	}
}

// Resource types the rules read.
const (
	typeTopic        = "aws:sns/topic:Topic"
	typeSubscription = "aws:sns/topicSubscription:TopicSubscription"
	typeKey          = "aws:kms/key:Key"
	typeQueue        = "aws:sqs/queue:Queue"
	typeAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeNotification = "aws:s3/bucketNotification:BucketNotification"
	typeFunction     = "aws:lambda/function:Function"
	typeInvokeConfig = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
	typeMapping      = "aws:lambda/eventSourceMapping:EventSourceMapping"
	typeRedriveAllow = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
	typeAPIKey       = "aws:apigateway/apiKey:ApiKey"
	typeSecret       = "aws:secretsmanager/secret:Secret"
	typeSecretValue  = "aws:secretsmanager/secretVersion:SecretVersion"
	typeGWResponse   = "aws:apigateway/response:Response"
	typeLifecycle    = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	invokeSecret     = "aws:secretsmanager/getSecretVersion:getSecretVersion"
)

// perStack runs a check on each stack's resources.
func perStack(stacks []plan.Stack, check func(s plan.Stack, res []plan.Resource) []PolicyViolation) []PolicyViolation {
	var out []PolicyViolation
	for _, s := range stacks {
		for _, v := range check(s, s.Result.Custom()) {
			v.Stack = s.Result.Stack
			out = append(out, v)
		}
	}
	return out
}

func violation(r plan.Resource, format string, args ...any) PolicyViolation {
	return PolicyViolation{Resource: plan.ShortType(r.Type) + " " + r.Name, Message: fmt.Sprintf(format, args...)}
}

// byOutput indexes resources of one type by an output (e.g. their ARN).
func byOutput(res []plan.Resource, token, key string) map[string]plan.Resource {
	m := map[string]plan.Resource{}
	for _, r := range res {
		if r.Type == token && r.Output(key) != "" {
			m[r.Output(key)] = r
		}
	}
	return m
}

func ofType(res []plan.Resource, token string) []plan.Resource {
	var out []plan.Resource
	for _, r := range res {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}
