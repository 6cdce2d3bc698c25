package components

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The API's stage: throttling, access logs, the usage plan and key, CORS
// preflights and the account's logging role.

// GatewayErrorTemplate is the body of API Gateway's own errors. A gateway
// response template is not processed by VTL, only substituted, so only
// variables that are valid inside JSON may appear: messageString is quoted
// by API Gateway, responseType is a bare word. validationErrorString may not:
// it holds double quotes (`[object has missing required properties
// (["latitude"])]`) and would make every validation 400 invalid JSON. The
// price: the gateway's 400 says "Invalid request body" without the field;
// the handler, which checks the same schema, names it (docs/testing.md).
const GatewayErrorTemplate = `{"error":$context.error.messageString,"type":"$context.error.responseType","request_id":"$context.requestId"}`

// gatewayResponses put CORS headers on API Gateway's own errors (validation
// 400s, throttling 429s, 5xx), or browsers hide the reason from the caller.
func (b *apiBuilder) gatewayResponses() error {
	for _, rt := range []string{"DEFAULT_4XX", "DEFAULT_5XX"} {
		gr, err := apigateway.NewResponse(b.ctx, b.name+"-"+strings.ToLower(rt), &apigateway.ResponseArgs{
			RestApiId:          b.api.ID(),
			ResponseType:       pulumi.String(rt),
			ResponseParameters: corsHeaders("gatewayresponse.header.", b.args.AllowOrigin),
			ResponseTemplates:  pulumi.StringMap{"application/json": pulumi.String(GatewayErrorTemplate)},
		}, b.parent)
		if err != nil {
			return fmt.Errorf("gateway response %s: %w", rt, err)
		}
		b.deps = append(b.deps, gr)
	}
	return nil
}

// stage registers the invoke permission, the deployment, the access log
// group, the stage and its method settings (throttling, metrics).
func (b *apiBuilder) stage() (*apigateway.Stage, error) {
	a := b.args
	// Only this API may invoke the function, on any stage, method and path.
	perm, err := lambda.NewPermission(b.ctx, b.name+"-invoke", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  a.Function.FunctionName,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", b.api.ExecutionArn),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("invoke permission: %w", err)
	}
	stageDeps := []pulumi.Resource{perm}
	if a.Reads != nil {
		reads, err := lambda.NewPermission(b.ctx, b.name+"-invoke-reads", &lambda.PermissionArgs{
			Action:    pulumi.String("lambda:InvokeFunction"),
			Function:  a.Reads.FunctionName,
			Principal: pulumi.String("apigateway.amazonaws.com"),
			SourceArn: pulumi.Sprintf("%s/*/GET/calls*", b.api.ExecutionArn),
		}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("reads invoke permission: %w", err)
		}
		stageDeps = append(stageDeps, reads)
	}
	if a.ManageAccountLogging {
		account, err := accountLogging(b.ctx, b.name, a.Tags, b.parent)
		if err != nil {
			return nil, fmt.Errorf("account logging: %w", err)
		}
		stageDeps = append(stageDeps, account)
	}
	// A new deployment whenever the API's definition changes, or a function
	// behind it is replaced or added (a deployment snapshots integrations).
	triggers := pulumi.StringMap{
		"definition":  pulumi.String(definitionHash(a.Routes, a.AllowOrigin)),
		"integration": a.Function.InvokeArn,
	}
	if a.Reads != nil {
		triggers["reads"] = a.Reads.InvokeArn
	}
	deployment, err := apigateway.NewDeployment(b.ctx, b.name, &apigateway.DeploymentArgs{
		RestApi:     b.api.ID(),
		Description: pulumi.String(appName(a.App) + " API"),
		Triggers:    triggers,
	}, b.parent, pulumi.DependsOn(b.deps))
	if err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	accessLogs, err := cloudwatch.NewLogGroup(b.ctx, b.name+"-access", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/apigateway/" + b.name + "-access-"),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            a.Tags,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("access log group: %w", err)
	}
	stage, err := apigateway.NewStage(b.ctx, b.name, &apigateway.StageArgs{
		RestApi:            b.api.ID(),
		Deployment:         deployment.ID(),
		StageName:          pulumi.String(contract.StageName),
		XrayTracingEnabled: pulumi.Bool(true),
		AccessLogSettings: apigateway.StageAccessLogSettingsArgs{
			DestinationArn: accessLogs.Arn,
			Format:         pulumi.String(AccessLogFormat),
		},
		Tags: a.Tags,
	}, b.parent, pulumi.DependsOn(stageDeps))
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if _, err := apigateway.NewMethodSettings(b.ctx, b.name, &apigateway.MethodSettingsArgs{
		RestApi:    b.api.ID(),
		StageName:  stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: apigateway.MethodSettingsSettingsArgs{
			MetricsEnabled:       pulumi.Bool(true),
			LoggingLevel:         pulumi.String("ERROR"),
			DataTraceEnabled:     pulumi.Bool(false), // never log call payloads
			ThrottlingBurstLimit: pulumi.Int(a.ThrottleBurstLimit),
			ThrottlingRateLimit:  pulumi.Float64(a.ThrottleRateLimit),
		},
	}, b.parent); err != nil {
		return nil, fmt.Errorf("method settings: %w", err)
	}
	return stage, nil
}

// usagePlan registers the usage plan (the stage's throttle again, per key)
// and the telephony provider's API key on it.
func (b *apiBuilder) usagePlan(stage *apigateway.Stage) (*apigateway.ApiKey, error) {
	a := b.args
	plan, err := apigateway.NewUsagePlan(b.ctx, b.name, &apigateway.UsagePlanArgs{
		Description: pulumi.String("telephony provider webhook"),
		ApiStages: apigateway.UsagePlanApiStageArray{apigateway.UsagePlanApiStageArgs{
			ApiId: b.api.ID(), Stage: stage.StageName,
		}},
		ThrottleSettings: apigateway.UsagePlanThrottleSettingsArgs{
			BurstLimit: pulumi.Int(a.ThrottleBurstLimit),
			RateLimit:  pulumi.Float64(a.ThrottleRateLimit),
		},
		Tags: a.Tags,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("usage plan: %w", err)
	}
	var value pulumi.StringPtrInput
	if a.APIKeyValue != nil {
		value = pulumi.ToSecret(a.APIKeyValue).(pulumi.StringOutput)
	}
	key, err := apigateway.NewApiKey(b.ctx, b.name+"-telephony", &apigateway.ApiKeyArgs{
		Description: pulumi.String("API key of our own clients (POST /calls, GET /calls, /simulate), the same value in every region"),
		Enabled:     pulumi.Bool(true),
		Value:       value,
		Tags:        a.Tags,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("api key: %w", err)
	}
	if _, err := apigateway.NewUsagePlanKey(b.ctx, b.name+"-telephony", &apigateway.UsagePlanKeyArgs{
		KeyId: key.ID(), KeyType: pulumi.String("API_KEY"), UsagePlanId: plan.ID(),
	}, b.parent); err != nil {
		return nil, fmt.Errorf("usage plan key: %w", err)
	}
	return key, nil
}

// AccessLogFormat is the stage's JSON access-log line.
var AccessLogFormat = func() string {
	b, _ := json.Marshal(map[string]string{
		"requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
		"requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
		"resourcePath": "$context.resourcePath", "status": "$context.status",
		"responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
		"integrationLatencyMs": "$context.integration.latency", "integrationStatus": "$context.integration.status",
		"errorMessage": "$context.error.message", "apiKeyId": "$context.identity.apiKeyId",
		"xrayTraceId": "$context.xrayTraceId",
	})
	return string(b)
}()

// DefinitionHash fingerprints everything a deployment of the contract's
// routes snapshots: routes, models and CORS. A change redeploys; no change,
// no new deployment.
func DefinitionHash(allowOrigin string) string { return definitionHash(contract.Routes, allowOrigin) }

func definitionHash(routes []*contract.Route, allowOrigin string) string {
	b, _ := json.Marshal(struct {
		Routes []*contract.Route
		Models []string
		Origin string
	}{routes, modelSchemas(routes), allowOrigin})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func modelSchemas(routes []*contract.Route) []string {
	var out []string
	for _, r := range routes {
		if r.Body != nil {
			out = append(out, r.Body.JSONSchemaString())
		}
	}
	return out
}

func corsHeaders(prefix, origin string) pulumi.StringMap {
	return pulumi.StringMap{
		prefix + "Access-Control-Allow-Origin":  pulumi.String("'" + origin + "'"),
		prefix + "Access-Control-Allow-Methods": pulumi.String("'" + contract.CORSAllowMethods + "'"),
		prefix + "Access-Control-Allow-Headers": pulumi.String("'" + contract.CORSAllowHeaders + "'"),
	}
}

// corsPreflight answers OPTIONS on a resource from API Gateway itself.
func (b *apiBuilder) corsPreflight(name string, res *apigateway.Resource) ([]pulumi.Resource, error) {
	ctx, api, validator, origin, opts := b.ctx, b.api, b.validator, b.args.AllowOrigin, []pulumi.ResourceOption{b.parent}
	method, err := apigateway.NewMethod(ctx, name+"-options", &apigateway.MethodArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: pulumi.String("OPTIONS"),
		Authorization: pulumi.String("NONE"), ApiKeyRequired: pulumi.Bool(false),
		RequestValidatorId: validator.ID(),
	}, opts...)
	if err != nil {
		return nil, err
	}
	integ, err := apigateway.NewIntegration(ctx, name+"-options", &apigateway.IntegrationArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: method.HttpMethod,
		Type:             pulumi.String("MOCK"),
		RequestTemplates: pulumi.StringMap{"application/json": pulumi.String(`{"statusCode": 200}`)},
	}, opts...)
	if err != nil {
		return nil, err
	}
	mr, err := apigateway.NewMethodResponse(ctx, name+"-options", &apigateway.MethodResponseArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: method.HttpMethod, StatusCode: pulumi.String("200"),
		ResponseParameters: pulumi.BoolMap{
			"method.response.header.Access-Control-Allow-Origin":  pulumi.Bool(true),
			"method.response.header.Access-Control-Allow-Methods": pulumi.Bool(true),
			"method.response.header.Access-Control-Allow-Headers": pulumi.Bool(true),
		},
	}, opts...)
	if err != nil {
		return nil, err
	}
	ir, err := apigateway.NewIntegrationResponse(ctx, name+"-options", &apigateway.IntegrationResponseArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: method.HttpMethod, StatusCode: mr.StatusCode,
		ResponseParameters: corsHeaders("method.response.header.", origin),
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{integ}))...)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{method, integ, mr, ir}, nil
}

// accountLogging gives API Gateway in this region a role to write logs.
func accountLogging(ctx *pulumi.Context, name string, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	role, err := iam.NewRole(ctx, name+"-cloudwatch", &iam.RoleArgs{
		Description:      pulumi.String("API Gateway writes access and execution logs"),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("apigateway.amazonaws.com")),
		Tags:             tags,
	}, opts...)
	if err != nil {
		return nil, err
	}
	// The same actions as AWS's AmazonAPIGatewayPushToCloudWatchLogs; API
	// Gateway names its execution log groups itself, hence the resource.
	pol, err := iam.NewRolePolicy(ctx, name+"-cloudwatch", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.String(PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{{
			Sid: "PushLogs", Effect: "Allow",
			Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups",
				"logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"},
			Resource: []string{"*"},
		}}}.JSON()),
	}, opts...)
	if err != nil {
		return nil, err
	}
	return apigateway.NewAccount(ctx, name, &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{pol}))...)
}
