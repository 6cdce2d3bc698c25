package policy

import (
	"encoding/json"
	"github.com/access911/access911-infra/internal/plan"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plans loads the committed stacks, planned as `access911 plan` plans them.
func plans(t *testing.T) []plan.Stack {
	t.Helper()
	planned, err := plan.Load("../..", nil)
	require.NoError(t, err)
	return planned
}

// find returns a pointer to one planned resource, so a test can break it.
func find(t *testing.T, planned []plan.Stack, stack, token, name string) *plan.Resource {
	t.Helper()
	for _, s := range planned {
		if s.Result.Stack != stack {
			continue
		}
		for i := range s.Result.Resources {
			if r := &s.Result.Resources[i]; r.Type == token && r.Name == name {
				return r
			}
		}
	}
	require.Failf(t, "not in the plan", "%s %s %s", stack, token, name)
	return nil
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// The committed stacks pass every rule; the warnings, per stack, are the
// alarm topic nobody is subscribed to (alarmEmail is empty in the committed
// files) and DNS failover off (apiHostname is empty: there is no zone to
// commit).
func TestCommittedPlansPassThePolicyPack(t *testing.T) {
	rep := CheckPolicies(plans(t))
	assert.False(t, rep.Failed(""), "%v", rep.Violations)
	require.Len(t, rep.Violations, 6, "%v", rep.Violations)
	for _, v := range rep.Violations {
		assert.Equal(t, PolicyWarn, v.Severity)
		switch v.Rule {
		case "alarm-topic-subscribed":
			assert.Equal(t, "sns.Topic access911-alarms", v.Resource)
		case "dns-failover-on":
			assert.Contains(t, v.Message, "callers hold "+v.Stack+"'s own URL")
		default:
			t.Errorf("unexpected %s", v)
		}
	}
	for _, rule := range rep.Rules {
		assert.NotEmpty(t, rule.Source, "%s names its AWS document", rule.ID)
		assert.NotEmpty(t, rule.Requires, rule.ID)
	}
}

// Each rule fails a plan that has its fault: the committed us-east-1 plan
// (or us-west-2's, for the key a replica region reads), broken one way.
func TestEachPolicyRuleFailsAPlanWithItsFault(t *testing.T) {
	const home, replica = "us-east-1", "us-west-2"
	tests := []struct {
		name, rule, stack, resource string
		breakIt                     func(t *testing.T, p []plan.Stack)
		message                     string
	}{
		{"alarm topic on the AWS managed key", "publisher-key-grants", home, "sns.Topic access911-alarms",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeTopic, "access911-alarms").Inputs["kmsMasterKeyId"] = "alias/aws/sns"
			}, "cannot grant cloudwatch.amazonaws.com"},
		{"alarm topic key without the CloudWatch grant", "publisher-key-grants", home, "sns.Topic access911-alarms",
			func(t *testing.T, p []plan.Stack) {
				key := find(t, p, home, typeKey, "access911-alarms")
				var doc PolicyDocumentForTest
				require.NoError(t, json.Unmarshal([]byte(key.Inputs["policy"].(string)), &doc))
				doc.Statement = doc.Statement[:1] // the account's statement only
				key.Inputs["policy"] = jsonString(t, doc)
			}, "does not let cloudwatch.amazonaws.com use it"},
		{"inbox trigger without an on-failure destination", "async-on-failure", home, "s3.BucketNotification access911-inbox",
			func(t *testing.T, p []plan.Stack) {
				delete(find(t, p, home, typeInvokeConfig, "access911-inbox").Inputs, "destinationConfig")
			}, "discarded"},
		{"dead-letter queue keeping no longer than its queue", "dlq-outlives-sources", home, "sqs.Queue access911-intake-queue-dlq",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeQueue, "access911-intake-queue-dlq").Inputs["messageRetentionSeconds"] = 604800.0
			}, "no longer than its source access911-intake-queue"},
		{"a replica region generating its own key", "client-key-everywhere", replica, "apigateway.ApiKey access911-api-telephony",
			func(t *testing.T, p []plan.Stack) {
				delete(find(t, p, replica, typeAPIKey, "access911-api-telephony").Inputs, "value")
			}, "refused (403)"},
		{"the key's secret not replicated everywhere", "client-key-everywhere", home, "apigateway.ApiKey access911-api-telephony",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeSecret, "access911-api-key").Inputs["replicas"] = []any{map[string]any{"region": "us-west-2"}}
			}, "no replica in eu-west-1"},
		{"a replica region reading another secret", "client-key-everywhere", replica, "apigateway.ApiKey access911-api-telephony",
			func(t *testing.T, p []plan.Stack) {
				for _, s := range p {
					if s.Result.Stack == replica {
						for i := range s.Result.Invokes {
							s.Result.Invokes[i].Args = map[string]any{"secretId": "someone-else/key"}
						}
					}
				}
			}, "reads its value from someone-else/key"},
		{"alarm on 11 metrics", "aws-limits", home, "cloudwatch.MetricAlarm access911-feed-FeedQueueAge",
			func(t *testing.T, p []plan.Stack) {
				a := find(t, p, home, typeAlarm, "access911-feed-FeedQueueAge")
				queries := a.Inputs["metricQueries"].([]any)
				a.Inputs["metricQueries"] = append([]any{queries[0]}, queries...)
			}, "11 metrics"},
		{"redrive allow policy naming 11 queues", "aws-limits", home, "sqs.RedriveAllowPolicy access911-feed-dlq",
			func(t *testing.T, p []plan.Stack) {
				arns := make([]string, 11)
				for i := range arns {
					arns[i] = "arn:aws:sqs:us-east-1:000000000000:q" + string(rune('a'+i))
				}
				find(t, p, home, typeRedriveAllow, "access911-feed-dlq").Inputs["redriveAllowPolicy"] =
					jsonString(t, map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": arns})
			}, "11 source queues"},
		{"mapping concurrency above 1000", "aws-limits", home, "lambda.EventSourceMapping access911-drain",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeMapping, "access911-drain").Inputs["scalingConfig"] = map[string]any{"maximumConcurrency": 1001.0}
			}, "2-1000"},
		{"queue kept beyond 14 days", "aws-limits", home, "sqs.Queue access911-feed-dlq",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeQueue, "access911-feed-dlq").Inputs["messageRetentionSeconds"] = 1209601.0
			}, "60 s to 14 days"},
		{"feed queue dead-lettering after 3 receives", "lambda-queue-receives", home, "sqs.Queue access911-feed-1",
			func(t *testing.T, p []plan.Stack) {
				q := find(t, p, home, typeQueue, "access911-feed-1")
				var r map[string]any
				require.NoError(t, json.Unmarshal([]byte(q.Inputs["redrivePolicy"].(string)), &r))
				r["maxReceiveCount"] = 3
				q.Inputs["redrivePolicy"] = jsonString(t, r)
			}, "after 3 receives"},
		{"stream failures to an SQS queue", "stream-failures-kept", home, "lambda.EventSourceMapping access911-feed-stream",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeMapping, "access911-feed-stream").Inputs["destinationConfig"] =
					map[string]any{"onFailure": map[string]any{"destinationArn": "arn:aws:sqs:us-east-1:000000000000:access911-feed-dlq-0123456"}}
			}, "only shard and sequence numbers"},
		{"stream without an on-failure destination", "stream-failures-kept", home, "lambda.EventSourceMapping access911-feed-stream",
			func(t *testing.T, p []plan.Stack) {
				delete(find(t, p, home, typeMapping, "access911-feed-stream").Inputs, "destinationConfig")
			}, "lost"},
		{"a second reader of the global calls table's stream", "stream-readers", home, "lambda.EventSourceMapping access911-feed-stream",
			func(t *testing.T, p []plan.Stack) {
				swarm := *find(t, p, home, typeMapping, "access911-feed-stream")
				for _, s := range p {
					if s.Result.Stack == home {
						reader := swarm
						reader.Name = "audit-stream"
						s.Result.Resources = append(s.Result.Resources, reader)
					}
				}
			}, "2 mappings read arn:aws:dynamodb:us-east-1:000000000000:table/access911-calls/stream/1970-01-01T00:00:00.000, the stream of a global table"},
		{"a third reader of another table's stream", "stream-readers", home, "lambda.EventSourceMapping audit-stream",
			func(t *testing.T, p []plan.Stack) {
				swarm := *find(t, p, home, typeMapping, "access911-feed-stream")
				for _, s := range p {
					if s.Result.Stack == home {
						for _, name := range []string{"audit-stream", "search-stream", "export-stream"} {
							reader := swarm
							reader.Name = name
							reader.Inputs = maps.Clone(swarm.Inputs)
							reader.Inputs["eventSourceArn"] = "arn:aws:dynamodb:us-east-1:000000000000:table/audit/stream/2026"
							s.Result.Resources = append(s.Result.Resources, reader)
						}
					}
				}
			}, "3 mappings read arn:aws:dynamodb:us-east-1:000000000000:table/audit/stream/2026; a shard takes 2"},
		{"a stack that owns its archive's replica in another serving region", "own-region-only", replica,
			"s3.BucketV2 access911-archive-replica",
			func(t *testing.T, p []plan.Stack) {
				for _, r := range p {
					if r.Result.Stack != replica {
						continue
					}
					for i := range r.Result.Resources {
						if res := r.Result.Resources[i]; res.Name == "access911-archive-replica" && res.Type == "aws:s3/bucketV2:BucketV2" {
							r.Result.Resources[i].Region = "us-east-1"
						}
					}
				}
			}, "is in us-east-1, another serving region: stack us-west-2 could not be deployed or changed while us-east-1 is down"},
		{"a stream mapping from LATEST", "stream-trim-horizon", home, "lambda.EventSourceMapping access911-feed-stream",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeMapping, "access911-feed-stream").Inputs["startingPosition"] = "LATEST"
			}, "never reach it"},
		{"validation detail inside a JSON string", "gateway-response-json", home, "apigateway.Response access911-api-default_4xx",
			func(t *testing.T, p []plan.Stack) {
				find(t, p, home, typeGWResponse, "access911-api-default_4xx").Inputs["responseTemplates"] = map[string]any{
					"application/json": `{"error":$context.error.messageString,"detail":"$context.error.validationErrorString"}`}
			}, "not valid JSON"},
		{"transitions without a stated size", "lifecycle-size-stated", home, "s3.BucketLifecycleConfigurationV2 access911-archive",
			func(t *testing.T, p []plan.Stack) {
				delete(find(t, p, home, typeLifecycle, "access911-archive").Inputs, "transitionDefaultMinimumObjectSize")
			}, "under 128 KB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			planned := plans(t)
			require.Empty(t, CheckPolicies(planned).Of(tc.rule), "the committed plan passes %s", tc.rule)
			tc.breakIt(t, planned)
			found := CheckPolicies(planned).Of(tc.rule)
			require.NotEmpty(t, found, "%s finds the fault", tc.rule)
			var v PolicyViolation
			for _, f := range found {
				if f.Stack == tc.stack {
					v = f
				}
			}
			require.Equal(t, tc.stack, v.Stack, "%v", found)
			assert.Equal(t, tc.resource, v.Resource)
			assert.Contains(t, v.Message, tc.message)
			if tc.rule == "lifecycle-size-stated" {
				assert.Equal(t, PolicyWarn, v.Severity)
			} else {
				assert.Equal(t, PolicyFail, v.Severity)
				assert.True(t, CheckPolicies(planned).Failed(tc.stack), "a FAIL stops the plan")
			}
		})
	}
}

// A subscribed alarm topic is not warned about.
func TestSubscribedAlarmTopicIsNotWarned(t *testing.T) {
	planned := plans(t)
	topicArn := "arn:aws:sns:us-east-1:" + plan.MockAccountID + ":access911-alarms-0123456"
	s := planned[0]
	require.Equal(t, "us-east-1", s.Result.Stack)
	s.Result.Resources = append(s.Result.Resources, plan.Resource{Type: typeSubscription, Name: "ops", Custom: true,
		Inputs: map[string]any{"topic": topicArn, "protocol": "email", "endpoint": "ops@example.org"}})
	planned[0] = s
	for _, v := range CheckPolicies(planned).Of("alarm-topic-subscribed") {
		assert.NotEqual(t, "us-east-1", v.Stack)
	}
}

func TestPolicyReportPrintsEveryRule(t *testing.T) {
	var b strings.Builder
	rep := CheckPolicies(plans(t))
	WritePolicies(&b, rep)
	for _, rule := range PolicyRules() {
		assert.Contains(t, b.String(), rule.ID)
	}
	assert.Contains(t, b.String(), "WARN x3  alarm-topic-subscribed")
}

// PolicyDocumentForTest reads a key policy back.
type PolicyDocumentForTest struct {
	Version   string
	Statement []map[string]any
}
