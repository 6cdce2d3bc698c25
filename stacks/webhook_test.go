package stacks_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

const (
	secretType        = "aws:secretsmanager/secret:Secret"
	secretVersionType = "aws:secretsmanager/secretVersion:SecretVersion"
)

// The provider's webhook in every stack: its secret, its public signed
// route with an envelope-only model, and the outputs an operator pastes
// into the provider's settings.
func TestProviderWebhookPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region := tc.stack

			secret := one(t, res, secretType, "access911-webhook-secret")
			assert.Equal(t, region, secret.Region)
			assert.True(t, secret.Protect, "the secret is protected from pulumi destroy")
			assert.Equal(t, float64(components.SecretRecoveryDays), get(secret, "recoveryWindowInDays"))
			for _, v := range res.ByType(secretVersionType) {
				assert.NotEqual(t, "access911-webhook-secret", v.Name, "no value from Pulumi unless a secret config value is set: it is put outside Pulumi")
			}

			route := one(t, res, methodType, "access911-api-post-webhooks-elevenlabs")
			assert.Equal(t, false, get(route, "apiKeyRequired"), "the provider authenticates by signature, not by our API key")
			assert.Equal(t, contract.ProviderEnvelopeSchema.Title, get(route, "requestModels.application/json"))
			model := one(t, res, modelType, "access911-api-providerwebhookenvelope")
			schema := parseJSON(t, get(model, "schema").(string))
			assert.Equal(t, true, schema["additionalProperties"], "fields the provider adds later are never refused")
			assert.ElementsMatch(t, []any{"type", "event_timestamp", "data"}, schema["required"], "the envelope only")
			integ := one(t, res, integrationType, "access911-api-post-webhooks-elevenlabs")
			assert.Equal(t, "AWS_PROXY", get(integ, "type"))

			apiID := "access911-api-api-id"
			assert.Equal(t, "https://"+apiID+".execute-api."+region+".amazonaws.com/v1/webhooks/elevenlabs", res.Outputs[contract.OutputWebhookURL])
			assert.Equal(t, "arn:aws:secretsmanager:"+region+":"+plan.MockAccountID+":secret:access911-webhook-secret-0123456-AbCdEf",
				res.Outputs[contract.OutputWebhookSecretArn])
		})
	}
}

// The inbox: API Gateway writes deliveries too large for Lambda straight to
// the archive bucket with its own role, and the bucket's event invokes the
// function.
func TestProviderInboxPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region, bucket := tc.stack, "access911-archive-0123456"
			name := "access911-api-post-webhooks-elevenlabs-inbox"
			method := one(t, res, methodType, name)
			assert.Equal(t, false, get(method, "apiKeyRequired"))
			assert.Equal(t, map[string]any{"method.request.header.ElevenLabs-Signature": true}, get(method, "requestParameters"),
				"no signature, no write: the gateway refuses it")
			assert.Equal(t, contract.ProviderEnvelopeSchema.Title, get(method, "requestModels.application/json"))

			integ := one(t, res, integrationType, name)
			assert.Equal(t, "AWS", get(integ, "type"))
			assert.Equal(t, "PUT", get(integ, "integrationHttpMethod"))
			assert.Equal(t, "arn:aws:apigateway:"+region+":s3:path/"+bucket+"/inbox/elevenlabs/{key}", get(integ, "uri"))
			assert.Equal(t, "arn:aws:iam::"+plan.MockAccountID+":role/"+name, get(integ, "credentials"))
			assert.Equal(t, map[string]any{
				"integration.request.path.key":                               "context.requestId",
				"integration.request.header.Content-Type":                    "'application/json'",
				"integration.request.header.x-amz-meta-elevenlabs-signature": "method.request.header.ElevenLabs-Signature",
			}, get(integ, "requestParameters"))
			assert.Equal(t, `[45]\d{2}`, get(one(t, res, integrationResponseType, name+"-503"), "selectionPattern"),
				"an S3 error is a 503: the delivery was not kept")

			doc := parsePolicy(t, get(one(t, res, rolePolicyType, name), "policy"))
			require.Len(t, doc.Statement, 2)
			assert.Equal(t, []string{"s3:PutObject"}, doc.Statement[0].Action)
			assert.Equal(t, []string{"arn:aws:s3:::" + bucket + "/inbox/elevenlabs/*"}, doc.Statement[0].Resource, "the inbox prefix only")
			assert.Equal(t, []string{"kms:GenerateDataKey"}, doc.Statement[1].Action)

			notify := one(t, res, "aws:s3/bucketNotification:BucketNotification", "access911-inbox")
			assert.Equal(t, bucket, get(notify, "bucket"))
			assert.Equal(t, "inbox/elevenlabs/", get(notify, "lambdaFunctions.0.filterPrefix"))
			assert.Equal(t, []any{"s3:ObjectCreated:*"}, get(notify, "lambdaFunctions.0.events"))
			assert.Equal(t, "arn:aws:lambda:"+region+":"+plan.MockAccountID+":function:access911-intake-0123456",
				get(notify, "lambdaFunctions.0.lambdaFunctionArn"))
			perm := one(t, res, permissionType, "access911-inbox")
			assert.Equal(t, "s3.amazonaws.com", get(perm, "principal"))
			assert.Equal(t, "arn:aws:s3:::"+bucket, get(perm, "sourceArn"), "only this bucket may invoke")

			// S3 invokes asynchronously: after Lambda's retries a failed event
			// goes to a queue (replay --inbox) instead of being discarded.
			async := one(t, res, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "access911-inbox")
			assert.Equal(t, "access911-intake-0123456", get(async, "functionName"))
			assert.Equal(t, float64(components.InboxRetryAttempts), get(async, "maximumRetryAttempts"))
			assert.Equal(t, 21600.0, get(async, "maximumEventAgeInSeconds"), "six hours, Lambda's longest")
			assert.Equal(t, "arn:aws:sqs:"+region+":"+plan.MockAccountID+":access911-intake-queue-inbox-failures-0123456",
				get(async, "destinationConfig.onFailure.destination"))
			assert.Contains(t, notify.DependsOn, async.URN, "no event before its failures have somewhere to go")

			lc := one(t, res, lifecycleType, "access911-archive")
			assert.Equal(t, components.InboxRuleID, get(lc, "rules.1.id"))
			assert.Equal(t, "inbox/elevenlabs/", get(lc, "rules.1.filter.prefix"))
			assert.Equal(t, float64(contract.InboxExpiryDays), get(lc, "rules.1.expiration.days"))
			assert.Greater(t, contract.InboxExpiryDays, contract.InboxFailureRetentionDays,
				"a delivery outlives the failure record that names it, so replay --inbox finds it")

			assert.Equal(t, "https://access911-api-api-id.execute-api."+region+".amazonaws.com/v1/webhooks/elevenlabs/inbox",
				res.Outputs[contract.OutputWebhookInboxURL])
		})
	}
}

func TestWebhookSecretFromAPulumiSecret(t *testing.T) {
	proj, cfg := stackFile(t, "us-east-1")
	cfg[stackconfig.KeyWebhookSecret] = "wsec_from_config"
	res, err := plan.Run(proj.Name(), "us-east-1", cfg, stacks.Build, stackconfig.KeyWebhookSecret)
	require.NoError(t, err)
	v := one(t, res, secretVersionType, "access911-webhook-secret")
	assert.Equal(t, []string{"secretString"}, v.Secrets, "the value reaches state only as a secret")
	assert.Equal(t, plan.SecretMask, get(v, "secretString"))
	assert.NotContains(t, mustJSON(t, res.Resources), "wsec_from_config", "the value appears nowhere in the plan")
}

func TestWebhookSecretInPlainTextIsRefused(t *testing.T) {
	res, err := synthesize(t, "us-east-1", func(c map[string]string) { c[stackconfig.KeyWebhookSecret] = "wsec_plain" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulumi config set --secret "+stackconfig.KeyWebhookSecret)
	assert.Empty(t, res.Custom(), "refused before any resource is registered")
}

func parseJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
