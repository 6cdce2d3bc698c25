package stacks_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

const (
	queueType       = "aws:sqs/queue:Queue"
	queuePolicyType = "aws:sqs/queuePolicy:QueuePolicy"
	redriveAllow    = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
	esmType         = "aws:lambda/eventSourceMapping:EventSourceMapping"
)

// The durable intake in every stack: an encrypted queue and dead-letter
// queue with redrive, the drain function on an event source mapping that
// reports partial batch failures, and IAM scoped to these queues.
func TestIntakeQueuePerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region, acct := tc.stack, plan.MockAccountID
			queueArn := "arn:aws:sqs:" + region + ":" + acct + ":access911-intake-queue-0123456"
			dlqArn := "arn:aws:sqs:" + region + ":" + acct + ":access911-intake-queue-dlq-0123456"
			keyArn := "arn:aws:kms:" + region + ":" + acct + ":key/access911-intake-queue-key-id"

			key := one(t, res, kmsKeyType, "access911-intake-queue")
			assert.Equal(t, true, get(key, "enableKeyRotation"))
			assert.True(t, key.Protect)

			q := one(t, res, queueType, "access911-intake-queue")
			assert.Equal(t, keyArn, get(q, "kmsMasterKeyId"), "SSE-KMS with the intake's own key")
			assert.Equal(t, 604800.0, get(q, "messageRetentionSeconds"), "7 days: half of what its DLQ keeps")
			assert.Equal(t, float64(capacity.VisibilityTimeoutFactor*capacity.TimeoutSeconds), get(q, "visibilityTimeoutSeconds"),
				"6 x the drain function's 30 s timeout")
			var redrive map[string]any
			require.NoError(t, json.Unmarshal([]byte(get(q, "redrivePolicy").(string)), &redrive))
			assert.Equal(t, map[string]any{"deadLetterTargetArn": dlqArn, "maxReceiveCount": 5.0}, redrive)

			dlq := one(t, res, queueType, "access911-intake-queue-dlq")
			assert.Equal(t, keyArn, get(dlq, "kmsMasterKeyId"))
			assert.Equal(t, 1209600.0, get(dlq, "messageRetentionSeconds"),
				"14 days, SQS's longest: a dead letter expires by its first enqueue, so the DLQ outlives the queue")

			// The inbox events' on-failure destination: same key, two weeks,
			// TLS only, and nothing dead-letters into it.
			failures := one(t, res, queueType, "access911-intake-queue-inbox-failures")
			assert.Equal(t, keyArn, get(failures, "kmsMasterKeyId"))
			assert.Equal(t, 1209600.0, get(failures, "messageRetentionSeconds"))
			assert.Nil(t, get(failures, "redrivePolicy"))
			assert.Equal(t, "https://sqs."+region+".amazonaws.com/"+acct+"/access911-intake-queue-inbox-failures-0123456",
				res.Outputs[contract.OutputInboxFailuresURL])
			allow := parseJSON(t, get(one(t, res, redriveAllow, "access911-intake-queue-dlq"), "redriveAllowPolicy").(string))
			assert.Equal(t, []any{queueArn}, allow["sourceQueueArns"], "only the intake queue dead-letters here")
			for _, name := range []string{"access911-intake-queue", "access911-intake-queue-dlq", "access911-intake-queue-inbox-failures"} {
				doc := parsePolicy(t, get(one(t, res, queuePolicyType, name), "policy"))
				require.Len(t, doc.Statement, 1, name)
				assert.Equal(t, "Deny", doc.Statement[0].Effect)
				assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, doc.Statement[0].Condition, "TLS only")
			}

			esm := one(t, res, esmType, "access911-drain")
			assert.Equal(t, queueArn, get(esm, "eventSourceArn"))
			assert.Equal(t, 10.0, get(esm, "batchSize"))
			assert.Equal(t, 1.0, get(esm, "maximumBatchingWindowInSeconds"))
			assert.Equal(t, []any{"ReportBatchItemFailures"}, get(esm, "functionResponseTypes"), "only failed messages come back")
			assert.Equal(t, 9.0, get(esm, "scalingConfig.maximumConcurrency"), "sized by the capacity check: ceil(1900 / (10 / 45 ms))")

			drain := one(t, res, functionType, "access911-drain")
			assert.Equal(t, 9.0, get(drain, "reservedConcurrentExecutions"), "reserved = the mapping's maximum")
			assert.Equal(t, 30.0, get(drain, "timeout"))
			assert.Equal(t, "bootstrap", get(drain, "handler"), "the same binary")
			assert.Equal(t, get(one(t, res, functionType, "access911-intake"), "sourceCodeHash"), get(drain, "sourceCodeHash"), "the same artifact")
			assert.Equal(t, map[string]any{
				contract.EnvCallsTable:     "access911-calls",
				contract.EnvIntakeQueueURL: "https://sqs." + region + ".amazonaws.com/" + acct + "/access911-intake-queue-0123456",
			}, get(drain, "environment.variables"))

			doc := parsePolicy(t, get(one(t, res, rolePolicyType, "access911-drain"), "policy"))
			grants := map[string][]string{}
			for _, st := range doc.Statement {
				for _, a := range st.Action {
					grants[a] = append(grants[a], st.Resource...)
				}
			}
			tableArn := "arn:aws:dynamodb:" + region + ":" + acct + ":table/access911-calls"
			assert.Equal(t, []string{tableArn}, grants["dynamodb:PutItem"])
			assert.Equal(t, []string{tableArn}, grants["dynamodb:GetItem"])
			for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"} {
				assert.Equal(t, []string{queueArn}, grants[a], "%s on the intake queue only", a)
			}
			assert.Equal(t, []string{keyArn}, grants["kms:Decrypt"])
			assert.Len(t, grants, 11, "nothing else: %v", grants)

			out := res.Outputs
			assert.Equal(t, "https://sqs."+region+".amazonaws.com/"+acct+"/access911-intake-queue-dlq-0123456", out[contract.OutputIntakeDLQURL])
			model := out[contract.OutputIntakeModel].(map[string]any)
			assert.EqualValues(t, 9, model["drainConcurrency"])
			assert.Equal(t, "direct", model["mode"])
		})
	}
}

func TestIntakeAlarmsPerStack(t *testing.T) {
	res := mustSynthesize(t, "us-west-2", nil)
	alarm := func(name string) plan.Resource { return one(t, res, alarmType, "access911-alarms-"+name) }
	dlq := alarm("IntakeDeadLetters")
	assert.Equal(t, "ApproximateNumberOfMessagesVisible", get(dlq, "metricName"))
	assert.Equal(t, "access911-intake-queue-dlq-0123456", get(dlq, "dimensions.QueueName"))
	assert.Equal(t, 0.0, get(dlq, "threshold"), "any dead letter")
	age := alarm("IntakeOldestCallAge")
	assert.Equal(t, "ApproximateAgeOfOldestMessage", get(age, "metricName"))
	assert.Equal(t, float64(components.OldestQueuedCallSeconds), get(age, "threshold"))
	depth := alarm("IntakeQueueDepth")
	assert.Equal(t, "access911-intake-queue-0123456", get(depth, "dimensions.QueueName"))
	assert.Equal(t, 90.0, get(depth, "threshold"), "seed 000: 10 queued per instance at the maximum of 9")
	assert.Equal(t, "access911-drain-0123456", get(alarm("DrainErrors"), "dimensions.FunctionName"))
	inbox := alarm("InboxDeliveriesFailed")
	assert.Equal(t, "access911-intake-queue-inbox-failures-0123456", get(inbox, "dimensions.QueueName"))
	assert.Equal(t, 0.0, get(inbox, "threshold"), "any acknowledged delivery that failed every retry")
	assert.Contains(t, get(inbox, "alarmDescription"), "replay --inbox")
}

func TestIntakeOverrides(t *testing.T) {
	res := mustSynthesize(t, "eu-west-1", func(c map[string]string) {
		c[stackconfig.KeyIntakeMode] = contract.IntakeBuffered
		c[stackconfig.KeyIntakeMaxReceiveCount] = "8"
		c[stackconfig.KeyIntakeBatchSize] = "50"
		c[stackconfig.KeyIntakeBatchWindowSeconds] = "2"
		c[stackconfig.KeyDrainMaxConcurrency] = "20"
	})
	assert.Equal(t, contract.IntakeBuffered, get(one(t, res, functionType, "access911-intake"), "environment.variables."+contract.EnvIntakeMode))
	var redrive map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(one(t, res, queueType, "access911-intake-queue"), "redrivePolicy").(string)), &redrive))
	assert.Equal(t, 8.0, redrive["maxReceiveCount"])
	esm := one(t, res, esmType, "access911-drain")
	assert.Equal(t, 50.0, get(esm, "batchSize"))
	assert.Equal(t, 2.0, get(esm, "maximumBatchingWindowInSeconds"))
	assert.Equal(t, 20.0, get(esm, "scalingConfig.maximumConcurrency"))
}

// A drain that cannot outrun normal arrival would let calls expire in the
// queue: the capacity check stops the stack before anything is registered.
func TestDrainTooSlowFailsTheStack(t *testing.T) {
	res, err := synthesize(t, "us-east-1", func(c map[string]string) {
		c[stackconfig.KeyIntakeBatchSize] = "1"
		c[stackconfig.KeyDrainMaxConcurrency] = "2" // 2 x (1 / 45 ms) = 44 calls/s < 190 normal
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "queue backlog clears within retention")
	assert.Empty(t, res.Custom())
}
