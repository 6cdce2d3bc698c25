package stacks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

const (
	functionType            = "aws:lambda/function:Function"
	logGroupType            = "aws:cloudwatch/logGroup:LogGroup"
	restAPIType             = "aws:apigateway/restApi:RestApi"
	validatorType           = "aws:apigateway/requestValidator:RequestValidator"
	methodType              = "aws:apigateway/method:Method"
	integrationType         = "aws:apigateway/integration:Integration"
	modelType               = "aws:apigateway/model:Model"
	permissionType          = "aws:lambda/permission:Permission"
	integrationResponseType = "aws:apigateway/integrationResponse:IntegrationResponse"
	gwResponseType          = "aws:apigateway/response:Response"
	settingsType            = "aws:apigateway/methodSettings:MethodSettings"
	stageType               = "aws:apigateway/stage:Stage"
	usagePlanType           = "aws:apigateway/usagePlan:UsagePlan"
	usagePlanKey            = "aws:apigateway/usagePlanKey:UsagePlanKey"
	deploymentType          = "aws:apigateway/deployment:Deployment"
	alarmType               = "aws:cloudwatch/metricAlarm:MetricAlarm"
	topicType               = "aws:sns/topic:Topic"
	dashboardType           = "aws:cloudwatch/dashboard:Dashboard"
)

func TestFunctionPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region := tc.stack
			fn := one(t, res, functionType, "access911-intake")
			assert.Equal(t, region, fn.Region)
			assert.Equal(t, "provided.al2023", get(fn, "runtime"))
			assert.Equal(t, []any{"arm64"}, get(fn, "architectures"))
			assert.Equal(t, "bootstrap", get(fn, "handler"))
			assert.Equal(t, 100.0, get(fn, "reservedConcurrentExecutions"), "seed RESERVED_CONCURRENCY")
			assert.Equal(t, 512.0, get(fn, "memorySize"), "seed MEMORY_SIZE")
			assert.Equal(t, 30.0, get(fn, "timeout"), "seed TIMEOUT")
			assert.Equal(t, "Active", get(fn, "tracingConfig.mode"))
			assert.Equal(t, "JSON", get(fn, "loggingConfig.logFormat"))
			assert.Equal(t, res.Outputs["artifactSha256"], get(fn, "sourceCodeHash"))
			assert.NotEmpty(t, get(fn, "sourceCodeHash"))
			assert.Equal(t, map[string]any{"archive": "dist/lambda-linux-arm64.zip"}, get(fn, "code"), "the built artifact, by a project-relative path")

			lg := one(t, res, logGroupType, "access911-intake")
			assert.Equal(t, 30.0, get(lg, "retentionInDays"))
			lgName := "/aws/lambda/access911-intake-0123456"
			secretArn := "arn:aws:secretsmanager:" + region + ":" + plan.MockAccountID + ":secret:access911-webhook-secret-0123456-AbCdEf"
			assert.Equal(t, lgName, get(fn, "loggingConfig.logGroup"), "the function logs to its explicit log group")

			// Exactly the variables cmd/lambda reads; its region is Lambda's AWS_REGION.
			assert.Equal(t, map[string]any{
				contract.EnvCallsTable:       "access911-calls",
				contract.EnvArchiveBucket:    "access911-archive-0123456",
				contract.EnvCORSAllowOrigin:  "*",
				contract.EnvWebhookSecretARN: secretArn,
				contract.EnvIntakeQueueURL:   "https://sqs." + region + ".amazonaws.com/" + plan.MockAccountID + "/access911-intake-queue-0123456",
				contract.EnvIntakeMode:       "direct",
			}, get(fn, "environment.variables"))

			role := one(t, res, roleType, "access911-intake")
			trust := parsePolicy(t, get(role, "assumeRolePolicy"))
			assert.Equal(t, map[string]any{"Service": "lambda.amazonaws.com"}, trust.Statement[0].Principal)

			doc := parsePolicy(t, get(one(t, res, rolePolicyType, "access911-intake"), "policy"))
			tableArn := "arn:aws:dynamodb:" + region + ":" + plan.MockAccountID + ":table/access911-calls"
			grants := map[string][]string{}
			for _, st := range doc.Statement {
				assert.Equal(t, "Allow", st.Effect)
				for _, a := range st.Action {
					assert.NotContains(t, a, "*", "no wildcard action in the Lambda role")
					grants[a] = append(grants[a], st.Resource...)
				}
			}
			for _, a := range []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"} {
				assert.Equal(t, []string{tableArn, tableArn + "/index/emergency-type-index"}, grants[a], "%s only on this table and its index", a)
			}
			assert.Equal(t, []string{"arn:aws:s3:::access911-archive-0123456/calls/*"}, grants["s3:PutObject"])
			assert.Equal(t, []string{"arn:aws:s3:::access911-archive-0123456/calls/elevenlabs/*/audio.mp3",
				"arn:aws:s3:::access911-archive-0123456/inbox/elevenlabs/*"}, grants["s3:GetObject"],
				"reads only call audio (to link it) and inbox deliveries, nothing else in the archive")
			assert.Equal(t, []string{"arn:aws:s3:::access911-archive-0123456/inbox/elevenlabs/*"}, grants["s3:DeleteObject"],
				"deletes processed inbox deliveries only")
			assert.Equal(t, grants["kms:GenerateDataKey"], grants["kms:Decrypt"], "decrypts only with the keys it encrypts with")
			assert.Equal(t, []string{secretArn}, grants["secretsmanager:GetSecretValue"], "this stack's webhook secret only")
			assert.Equal(t, []string{"arn:aws:kms:" + region + ":" + plan.MockAccountID + ":key/access911-archive-key-id",
				"arn:aws:kms:" + region + ":" + plan.MockAccountID + ":key/access911-intake-queue-key-id"}, grants["kms:GenerateDataKey"],
				"the archive's key and the intake queue's key only")
			logArn := "arn:aws:logs:" + region + ":" + plan.MockAccountID + ":log-group:" + lgName + ":*"
			assert.Equal(t, []string{logArn}, grants["logs:PutLogEvents"])
			assert.Equal(t, []string{"*"}, grants["xray:PutTraceSegments"], "X-Ray has no resource-level permissions")
			queueArn := "arn:aws:sqs:" + region + ":" + plan.MockAccountID + ":access911-intake-queue-0123456"
			failuresArn := "arn:aws:sqs:" + region + ":" + plan.MockAccountID + ":access911-intake-queue-inbox-failures-0123456"
			assert.Equal(t, []string{queueArn, failuresArn}, grants["sqs:SendMessage"],
				"sends to this region's intake queue, and (as Lambda, with this role) failed inbox events to their queue")
			assert.Len(t, grants, 16, "nothing beyond what the handler uses: %v", grants)
		})
	}
}

func TestAPIPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			region := tc.stack
			api := one(t, res, restAPIType, "access911-api")
			assert.Equal(t, "REGIONAL", get(api, "endpointConfiguration.types"))

			v := one(t, res, validatorType, "access911-api")
			assert.Equal(t, true, get(v, "validateRequestBody"))
			assert.Equal(t, true, get(v, "validateRequestParameters"))
			validatorID := "access911-api-id"

			// Every route of the handler, plus a CORS preflight per resource.
			methods := res.ByType(methodType)
			seen := map[string]bool{}
			for _, m := range methods {
				seen[get(m, "httpMethod").(string)+" "+m.Name] = true
				assert.Equal(t, validatorID, get(m, "requestValidatorId"), "validator on %s", m.Name)
				assert.Equal(t, "NONE", get(m, "authorization"))
			}
			assert.Len(t, methods, len(contract.Routes)+9, "8 routes and an OPTIONS on each of 9 resources")
			for _, p := range []string{"calls", "calls-id", "simulate", "health", "control", "control-region", "webhooks", "webhooks-elevenlabs", "webhooks-elevenlabs-inbox"} {
				assert.True(t, seen["OPTIONS access911-api-"+p+"-options"], "CORS preflight on %s", p)
			}

			control := one(t, res, methodType, "access911-api-get-control-region")
			assert.Equal(t, false, get(control, "apiKeyRequired"), "Route 53's checkers send no key")
			assert.Equal(t, map[string]any{"method.request.path.region": true}, get(control, "requestParameters"))

			postCalls := one(t, res, methodType, "access911-api-post-calls")
			assert.Equal(t, true, get(postCalls, "apiKeyRequired"), "the webhook needs the telephony provider's key")
			assert.Equal(t, "EmergencyCall", get(postCalls, "requestModels.application/json"))
			assert.Equal(t, "EmergencyCall", get(postCalls, "requestModels.$default"), "a body of any other content type is validated too")
			simulate := one(t, res, methodType, "access911-api-post-simulate")
			assert.Equal(t, "SimulateRequest", get(simulate, "requestModels.application/json"))
			query := one(t, res, methodType, "access911-api-get-calls")
			assert.Equal(t, map[string]any{
				"method.request.querystring.emergency_type": true,
				"method.request.querystring.since":          false,
				"method.request.querystring.until":          false,
				"method.request.querystring.limit":          false,
				"method.request.querystring.cursor":         false,
			}, get(query, "requestParameters"))
			byID := one(t, res, methodType, "access911-api-get-calls-id")
			assert.Equal(t, map[string]any{"method.request.path.id": true}, get(byID, "requestParameters"))
			health := one(t, res, methodType, "access911-api-get-health")
			assert.Equal(t, false, get(health, "apiKeyRequired"), "health checkers carry no key")

			// Models are the handler's own schemas.
			for name, schema := range map[string]contract.Schema{"access911-api-emergencycall": contract.CallSchema, "access911-api-simulaterequest": contract.SimulateSchema} {
				m := one(t, res, modelType, name)
				assert.Equal(t, schema.Title, get(m, "name"))
				assert.Equal(t, "application/json", get(m, "contentType"))
				assert.JSONEq(t, schema.JSONSchemaString(), get(m, "schema").(string))
				var doc map[string]any
				require.NoError(t, json.Unmarshal([]byte(get(m, "schema").(string)), &doc))
				assert.Equal(t, "http://json-schema.org/draft-04/schema#", doc["$schema"])
			}

			invokeArn := "arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/arn:aws:lambda:" + region + ":" + plan.MockAccountID + ":function:access911-intake-0123456/invocations"
			proxies := 0
			for _, in := range res.ByType(integrationType) {
				switch get(in, "type") {
				case "AWS_PROXY":
					proxies++
					assert.Equal(t, invokeArn, get(in, "uri"))
					assert.Equal(t, "POST", get(in, "integrationHttpMethod"))
					assert.Equal(t, 29000.0, get(in, "timeoutMilliseconds"))
				case "MOCK", "AWS": // CORS preflights; the inbox's S3 write (webhook_test.go)
				default:
					t.Errorf("unexpected integration type %v", get(in, "type"))
				}
			}
			assert.Equal(t, len(contract.Routes)-1, proxies, "every route but the inbox goes to the function")

			perm := one(t, res, permissionType, "access911-api-invoke")
			assert.Equal(t, "lambda:InvokeFunction", get(perm, "action"))
			assert.Equal(t, "apigateway.amazonaws.com", get(perm, "principal"))
			assert.Equal(t, "arn:aws:execute-api:"+region+":"+plan.MockAccountID+":access911-api-api-id/*/*", get(perm, "sourceArn"))

			for _, rt := range []string{"default_4xx", "default_5xx"} {
				gr := one(t, res, gwResponseType, "access911-api-"+rt)
				params := get(gr, "responseParameters").(map[string]any)
				assert.Equal(t, "'*'", params["gatewayresponse.header.Access-Control-Allow-Origin"], rt)
				assert.Contains(t, params["gatewayresponse.header.Access-Control-Allow-Headers"], "X-Api-Key", rt)
				// Substituted, not rendered by VTL: every variable must be
				// valid inside JSON whatever its value.
				template := get(gr, "responseTemplates.application/json").(string)
				assert.Equal(t, components.GatewayErrorTemplate, template)
				assert.NotContains(t, template, "validationErrorString", "holds double quotes: invalid JSON")
				sample := strings.NewReplacer(`$context.error.messageString`, `"Invalid request body"`,
					`$context.error.responseType`, `BAD_REQUEST_BODY`, `$context.requestId`, `a1b2`).Replace(template)
				assert.True(t, json.Valid([]byte(sample)), sample)
			}

			ms := one(t, res, settingsType, "access911-api")
			assert.Equal(t, "*/*", get(ms, "methodPath"))
			assert.Equal(t, 5000.0, get(ms, "settings.throttlingBurstLimit"), "seed BurstLimit")
			assert.Equal(t, 2000.0, get(ms, "settings.throttlingRateLimit"), "seed RateLimit")
			assert.Equal(t, true, get(ms, "settings.metricsEnabled"))
			assert.Equal(t, false, get(ms, "settings.dataTraceEnabled"), "payloads are never logged")

			stage := one(t, res, stageType, "access911-api")
			assert.Equal(t, "v1", get(stage, "stageName"))
			assert.Equal(t, true, get(stage, "xrayTracingEnabled"))
			accessLog := one(t, res, logGroupType, "access911-api-access")
			assert.Equal(t, "arn:aws:logs:"+region+":"+plan.MockAccountID+":log-group:/aws/apigateway/access911-api-access-0123456", get(stage, "accessLogSettings.destinationArn"))
			var format map[string]string
			require.NoError(t, json.Unmarshal([]byte(get(stage, "accessLogSettings.format").(string)), &format))
			assert.Equal(t, "$context.requestId", format["requestId"])
			assert.Equal(t, 30.0, get(accessLog, "retentionInDays"))

			plan := one(t, res, usagePlanType, "access911-api")
			assert.Equal(t, 5000.0, get(plan, "throttleSettings.burstLimit"))
			assert.Equal(t, 2000.0, get(plan, "throttleSettings.rateLimit"))
			assert.Equal(t, "v1", get(plan, "apiStages.0.stage"))
			one(t, res, usagePlanKey, "access911-api-telephony")

			dep := one(t, res, deploymentType, "access911-api")
			assert.Equal(t, components.DefinitionHash("*"), get(dep, "triggers.definition"))
			assert.Equal(t, invokeArn, get(dep, "triggers.integration"), "a replaced function redeploys the API")
			assert.Equal(t, "https://access911-api-api-id.execute-api."+region+".amazonaws.com/v1", res.Outputs["apiUrl"])
		})
	}
}

// A client's API key works in every region: the home region's key value
// (generated by API Gateway) goes into one secret replicated to every other
// region, and each other region's key takes its value from its replica.
func TestOneAPIKeyValueInEveryRegion(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			key := one(t, res, "aws:apigateway/apiKey:ApiKey", "access911-api-telephony")
			assert.Equal(t, contract.APIKeySecretName, res.Outputs[contract.OutputAPIKeySecretName])
			secrets := res.ByType(secretType)
			if !tc.owner {
				assert.Equal(t, []string{"value"}, key.Secrets, "the home region's value, read from this region's replica, kept secret")
				for _, s := range secrets {
					assert.NotEqual(t, contract.APIKeySecretName, get(s, "name"), "only the home stack owns the secret")
				}
				return
			}
			assert.Nil(t, get(key, "value"), "the home region's key is generated by API Gateway")
			secret := one(t, res, secretType, "access911-api-key")
			assert.Equal(t, contract.APIKeySecretName, get(secret, "name"), "a fixed name: each region finds its replica by it")
			assert.True(t, secret.Protect)
			assert.Equal(t, []any{map[string]any{"region": "us-west-2"}, map[string]any{"region": "eu-west-1"}}, get(secret, "replicas"))
			version := one(t, res, secretVersionType, "access911-api-key")
			assert.Equal(t, []string{"secretString"}, version.Secrets, "the key's value is stored as a secret")
			assert.Contains(t, version.DependsOn, key.URN, "the value is the generated key's")
		})
	}
}

func TestAlarmsPerStack(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, nil)
			topic := one(t, res, topicType, "access911-alarms")
			// A customer managed key CloudWatch may use: with alias/aws/sns no
			// alarm notification would ever be delivered.
			key := one(t, res, kmsKeyType, "access911-alarms")
			keyArn := "arn:aws:kms:" + tc.stack + ":" + plan.MockAccountID + ":key/access911-alarms-key-id"
			assert.Equal(t, keyArn, get(topic, "kmsMasterKeyId"), "encrypted with its own key")
			assert.True(t, key.Protect)
			assert.Equal(t, true, get(key, "enableKeyRotation"))
			keyPolicy := parsePolicy(t, get(key, "policy"))
			require.Len(t, keyPolicy.Statement, 2)
			assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::" + plan.MockAccountID + ":root"}, keyPolicy.Statement[0].Principal)
			assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, keyPolicy.Statement[1].Principal)
			assert.Equal(t, []string{"kms:Decrypt", "kms:GenerateDataKey*"}, keyPolicy.Statement[1].Action)
			assert.Empty(t, res.ByType("aws:sns/topicSubscription:TopicSubscription"), "no e-mail configured")
			topicArn := "arn:aws:sns:" + tc.stack + ":" + plan.MockAccountID + ":access911-alarms-0123456"

			alarms := map[string]plan.Resource{}
			for _, a := range res.ByType(alarmType) {
				if !strings.HasPrefix(a.Name, "access911-alarms-") {
					continue // the feed's own alarms: feed_test.go
				}
				alarms[strings.TrimPrefix(a.Name, "access911-alarms-")] = a
				assert.Equal(t, []any{topicArn}, get(a, "alarmActions"), a.Name)
				assert.Equal(t, []any{topicArn}, get(a, "okActions"), a.Name)
				assert.Equal(t, "notBreaching", get(a, "treatMissingData"), a.Name)
			}
			// 14, the replication lag, and in a standby the traffic alarm.
			standby := tc.stack != "us-east-1"
			require.Len(t, alarms, map[bool]int{false: 15, true: 16}[standby])
			lag := alarms["ReplicationLag"]
			assert.Equal(t, contract.ReplicatedCallLag, get(lag, "metricName"))
			assert.Equal(t, float64(components.ReplicationLagAlarmMs), get(lag, "threshold"))
			assert.Equal(t, float64(components.ReplicationLagAlarmPeriods), get(lag, "evaluationPeriods"))
			if traffic, ok := alarms["StandbyTakingTraffic"]; assert.Equal(t, standby, ok, "only a standby alarms on traffic") && ok {
				assert.Equal(t, "Count", get(traffic, "metricName"))
				assert.Equal(t, "AWS/ApiGateway", get(traffic, "namespace"))
				assert.Equal(t, float64(components.StandbyIdleRequestsPerPeriod), get(traffic, "threshold"))
				assert.Equal(t, "v1", get(traffic, "dimensions.Stage"))
			}

			er := alarms["HighErrorRate"]
			assert.Equal(t, 5.0, get(er, "threshold"), "seed HighErrorRate Threshold 5.0")
			assert.Equal(t, 2.0, get(er, "evaluationPeriods"), "seed HighErrorRate EvaluationPeriods 2")
			assert.Equal(t, "GreaterThanThreshold", get(er, "comparisonOperator"))
			assert.Equal(t, "5XXError", get(er, "metricQueries.0.metric.metricName"))
			assert.Equal(t, "Count", get(er, "metricQueries.1.metric.metricName"))
			assert.Equal(t, "IF(requests > 0, 100 * errors / requests, 0)", get(er, "metricQueries.2.expression"))
			assert.Equal(t, true, get(er, "metricQueries.2.returnData"))

			rt := alarms["HighResponseTime"]
			assert.Equal(t, 10000.0, get(rt, "threshold"), "seed 10.0 s, in the metric's milliseconds")
			assert.Equal(t, 3.0, get(rt, "evaluationPeriods"), "seed HighResponseTime EvaluationPeriods 3")
			assert.Equal(t, "Latency", get(rt, "metricName"))
			assert.Equal(t, "GreaterThanThreshold", get(rt, "comparisonOperator"))

			assert.Equal(t, "Throttles", get(alarms["LambdaThrottles"], "metricName"))
			assert.Equal(t, 80.0, get(alarms["LambdaConcurrencyNearLimit"], "threshold"), "80 % of reserved 100")
			assert.Equal(t, "ConcurrentExecutions", get(alarms["LambdaConcurrencyNearLimit"], "metricName"))
			assert.Equal(t, "Errors", get(alarms["LambdaErrors"], "metricName"))
			assert.Equal(t, "WriteThrottleEvents", get(alarms["DynamoDBTableThrottles"], "metricQueries.1.metric.metricName"))
			assert.Equal(t, "emergency-type-index", get(alarms["DynamoDBIndexThrottles"], "metricQueries.0.metric.dimensions.GlobalSecondaryIndexName"))
			qd := alarms["QueueDepth"]
			assert.Equal(t, "DispatchAI", get(qd, "namespace"))
			assert.Equal(t, "QueueDepth", get(qd, "metricName"))
			assert.Equal(t, 1000.0, get(qd, "threshold"), "10 queued per reserved instance")
			sig := alarms["WebhookSignatureRejected"]
			assert.Equal(t, contract.WebhookRejected, get(sig, "metricName"))
			assert.Equal(t, 0.0, get(sig, "threshold"), "any refused delivery: a wrong secret refuses every call")

			dash := one(t, res, dashboardType, "access911-alarms")
			assert.Equal(t, "access911-"+tc.stack, get(dash, "dashboardName"))
			body := get(dash, "dashboardBody").(string)
			var dashDoc struct {
				Widgets []struct {
					Properties map[string]any `json:"properties"`
				} `json:"widgets"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &dashDoc))
			require.Len(t, dashDoc.Widgets, 9)
			for _, w := range dashDoc.Widgets {
				assert.Equal(t, tc.stack, w.Properties["region"], "metric widgets name their region")
			}
			for _, m := range []string{"Count", "Latency", "5XXError", "ConcurrentExecutions", "WriteThrottleEvents", "QueueDepth", "DispatchAI", "WebhookDeliveries", "WebhookRejected"} {
				assert.Contains(t, body, `"`+m+`"`)
			}
		})
	}
}

func TestPerRegionOverrides(t *testing.T) {
	res := mustSynthesize(t, "us-west-2", func(c map[string]string) {
		c[stackconfig.KeyLambdaMemoryMB] = "1024"
		c[stackconfig.KeyLambdaReservedConcurrency] = "200"
		c[stackconfig.KeyAPIThrottleRateRps] = "2500"
		c[stackconfig.KeyAPIThrottleBurst] = "3000"
		c[stackconfig.KeyAlarmEmail] = "oncall@example.org"
	})
	fn := one(t, res, functionType, "access911-intake")
	assert.Equal(t, 1024.0, get(fn, "memorySize"))
	assert.Equal(t, 200.0, get(fn, "reservedConcurrentExecutions"))
	ms := one(t, res, settingsType, "access911-api")
	assert.Equal(t, 2500.0, get(ms, "settings.throttlingRateLimit"))
	assert.Equal(t, 3000.0, get(ms, "settings.throttlingBurstLimit"))
	plan := one(t, res, usagePlanType, "access911-api")
	assert.Equal(t, 2500.0, get(plan, "throttleSettings.rateLimit"))
	sub := res.ByType("aws:sns/topicSubscription:TopicSubscription")
	require.Len(t, sub, 1)
	assert.Equal(t, "oncall@example.org", get(sub[0], "endpoint"))
	assert.Equal(t, 160.0, get(one(t, res, alarmType, "access911-alarms-LambdaConcurrencyNearLimit"), "threshold"))
}

func TestCapacityCheckInTheStack(t *testing.T) {
	res := mustSynthesize(t, "us-east-1", nil)
	out := res.Outputs["capacityCheck"].(map[string]any)
	assert.Equal(t, "enforce", out["mode"])
	first := out["findings"].([]any)[0].(map[string]any)
	assert.Equal(t, "concurrency at the API rate limit", first["check"])
	assert.Equal(t, 90.0, first["needed"])
	assert.Equal(t, 100.0, first["configured"])

	slow := func(c map[string]string) { c[stackconfig.KeyLambdaReservedConcurrency] = "50" }
	res, err := synthesize(t, "us-east-1", slow)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needed 90 executions, configured 50 executions")
	for _, r := range res.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:"), "nothing registered on a capacity failure: %s", r.Type)
	}

	res = mustSynthesize(t, "us-east-1", func(c map[string]string) {
		slow(c)
		c[stackconfig.KeyCapacityCheck] = "warn"
	})
	assert.Equal(t, 50.0, get(one(t, res, functionType, "access911-intake"), "reservedConcurrentExecutions"), "warn mode deploys")
}
