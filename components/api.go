package components

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// APIType is the Pulumi type token of the API component.
const APIType = "access911:components:API"

// APIArgs configures the API. Its routes, schemas, stage name and CORS
// headers are the contract's (contract.Routes), the same the handler serves.
type APIArgs struct {
	// Function serves every route through the Lambda proxy integration,
	// but the call reads when Reads is set.
	Function *Function
	// Reads, if set, serves GET /calls and GET /calls/{id} (the read
	// cache's reader).
	Reads *Function
	// Throttling for the stage (method settings */*) and the usage plan;
	// zero values take the seed's (capacity.ThrottleBurst, ThrottleRateRps).
	ThrottleBurstLimit int
	ThrottleRateLimit  float64
	// AllowOrigin for CORS; default contract.DefaultAllowOrigin.
	AllowOrigin string
	// LogRetentionDays for the access log; default LogRetentionDays.
	LogRetentionDays int
	// ManageAccountLogging registers the region's API Gateway account
	// setting (the CloudWatch role API Gateway logs with). It is one per
	// account and region; turn it off where something else owns it.
	ManageAccountLogging bool
	// Inbox is where inbox routes put their bodies; required when the
	// contract has one.
	Inbox *InboxArgs
	// APIKeyValue, if set (a Pulumi secret), is the value of the API key
	// our own clients send; unset, API Gateway generates one. A client's
	// key works in another region only when that region's key has the same
	// value (API Gateway compares values), so every region but the one that
	// generates it sets this (see ClientKeySecret).
	APIKeyValue pulumi.StringInput
	Tags        pulumi.StringMap
}

func (a APIArgs) withDefaults() APIArgs {
	if a.ThrottleBurstLimit == 0 {
		a.ThrottleBurstLimit = capacity.ThrottleBurst
	}
	if a.ThrottleRateLimit == 0 {
		a.ThrottleRateLimit = capacity.ThrottleRateRps
	}
	if a.AllowOrigin == "" {
		a.AllowOrigin = contract.DefaultAllowOrigin
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = LogRetentionDays
	}
	return a
}

// API is the regional REST API in front of the call-intake Lambda.
type API struct {
	pulumi.ResourceState

	RestAPIID    pulumi.StringOutput `pulumi:"restApiId"`
	APIName      pulumi.StringOutput `pulumi:"apiName"`
	StageName    pulumi.StringOutput `pulumi:"stageName"`
	InvokeURL    pulumi.StringOutput `pulumi:"invokeUrl"`
	ExecutionArn pulumi.StringOutput `pulumi:"executionArn"`
	APIKeyID     pulumi.StringOutput `pulumi:"apiKeyId"`
	// APIKeyValue is the key's value, a secret (not a registered output).
	APIKeyValue pulumi.StringOutput
}

// apiBuilder registers the API's children; each method is one concern.
type apiBuilder struct {
	ctx       *pulumi.Context
	name      string
	args      APIArgs
	parent    pulumi.ResourceOption
	api       *apigateway.RestApi
	validator *apigateway.RequestValidator
	// deps are what the deployment snapshots: methods, integrations, CORS.
	deps []pulumi.Resource
}

// NewAPI registers the REST API, its validation, CORS, deployment, stage,
// usage plan and API key.
func NewAPI(ctx *pulumi.Context, name string, args *APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	if args == nil || args.Function == nil {
		return nil, fmt.Errorf("api %q: a function is required", name)
	}
	a := args.withDefaults()
	if a.ThrottleBurstLimit < 1 || a.ThrottleRateLimit <= 0 {
		return nil, fmt.Errorf("api %q: throttling burst %d / rate %g must be positive", name, a.ThrottleBurstLimit, a.ThrottleRateLimit)
	}
	c := &API{}
	if err := ctx.RegisterComponentResource(APIType, name, c, opts...); err != nil {
		return nil, err
	}
	b := &apiBuilder{ctx: ctx, name: name, args: a, parent: pulumi.Parent(c)}
	stage, key, err := b.build()
	if err != nil {
		return nil, fmt.Errorf("api %q: %w", name, err)
	}
	c.RestAPIID = b.api.ID().ToStringOutput()
	c.APIName = b.api.Name
	c.StageName = stage.StageName
	c.InvokeURL = stage.InvokeUrl
	c.ExecutionArn = b.api.ExecutionArn
	c.APIKeyID = key.ID().ToStringOutput()
	c.APIKeyValue = pulumi.ToSecret(key.Value).(pulumi.StringOutput)
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"restApiId": c.RestAPIID, "apiName": c.APIName, "stageName": c.StageName,
		"invokeUrl": c.InvokeURL, "executionArn": c.ExecutionArn, "apiKeyId": c.APIKeyID,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *apiBuilder) build() (*apigateway.Stage, *apigateway.ApiKey, error) {
	if err := b.restAPI(); err != nil {
		return nil, nil, err
	}
	models, err := b.models()
	if err != nil {
		return nil, nil, err
	}
	resources, err := b.resources()
	if err != nil {
		return nil, nil, err
	}
	if err := b.methods(resources, models); err != nil {
		return nil, nil, err
	}
	if err := b.gatewayResponses(); err != nil {
		return nil, nil, err
	}
	stage, err := b.stage()
	if err != nil {
		return nil, nil, err
	}
	key, err := b.usagePlan(stage)
	return stage, key, err
}

func (b *apiBuilder) restAPI() error {
	var err error
	b.api, err = apigateway.NewRestApi(b.ctx, b.name, &apigateway.RestApiArgs{
		Description:            pulumi.String("access911 emergency-call intake"),
		EndpointConfiguration:  apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		ApiKeySource:           pulumi.String("HEADER"),
		MinimumCompressionSize: pulumi.String("1024"),
		Tags:                   b.args.Tags,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("rest api: %w", err)
	}
	b.validator, err = apigateway.NewRequestValidator(b.ctx, b.name, &apigateway.RequestValidatorArgs{
		RestApi:                   b.api.ID(),
		Name:                      pulumi.String("body-and-parameters"),
		ValidateRequestBody:       pulumi.Bool(true),
		ValidateRequestParameters: pulumi.Bool(true),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("request validator: %w", err)
	}
	return nil
}

// models registers one model per body schema, generated from the contract's
// definitions, the same the handler validates with.
func (b *apiBuilder) models() (map[string]*apigateway.Model, error) {
	models := map[string]*apigateway.Model{}
	for _, r := range contract.Routes {
		if r.Body == nil || models[r.Body.Title] != nil {
			continue
		}
		m, err := apigateway.NewModel(b.ctx, b.name+"-"+strings.ToLower(r.Body.Title), &apigateway.ModelArgs{
			RestApi:     b.api.ID(),
			Name:        pulumi.String(r.Body.Title),
			ContentType: pulumi.String("application/json"),
			Schema:      pulumi.String(r.Body.JSONSchemaString()),
		}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", r.Body.Title, err)
		}
		models[r.Body.Title] = m
	}
	return models, nil
}

// resources registers one resource per path segment, each with its CORS
// preflight, and returns their ids by path.
func (b *apiBuilder) resources() (map[string]pulumi.StringInput, error) {
	ids := map[string]pulumi.StringInput{"/": b.api.RootResourceId}
	var paths []string
	for _, r := range contract.Routes {
		paths = append(paths, r.Path)
	}
	for _, p := range uniqueSortedPrefixes(paths) {
		parentPath, part := splitPath(p)
		res, err := apigateway.NewResource(b.ctx, b.name+resourceSuffix(p), &apigateway.ResourceArgs{
			RestApi:  b.api.ID(),
			ParentId: ids[parentPath],
			PathPart: pulumi.String(part),
		}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", p, err)
		}
		ids[p] = res.ID()
		cors, err := b.corsPreflight(b.name+resourceSuffix(p), res)
		if err != nil {
			return nil, fmt.Errorf("cors %s: %w", p, err)
		}
		b.deps = append(b.deps, cors...)
	}
	return ids, nil
}

// methods registers each route's method (validated, API key unless public)
// and its Lambda proxy integration; inbox routes write to S3 instead.
// target is the function that serves a route: the reader for the call
// reads when there is one, else the function.
func (b *apiBuilder) target(r *contract.Route) *Function {
	if b.args.Reads != nil && (r == &contract.GetCall || r == &contract.QueryCalls) {
		return b.args.Reads
	}
	return b.args.Function
}

func (b *apiBuilder) methods(resources map[string]pulumi.StringInput, models map[string]*apigateway.Model) error {
	for _, r := range contract.Routes {
		if r.Inbox {
			if err := b.inboxRoute(r, resources[r.Path], models[r.Body.Title]); err != nil {
				return err
			}
			continue
		}
		logical := b.name + "-" + strings.ToLower(r.Method) + resourceSuffix(r.Path)
		margs := &apigateway.MethodArgs{
			RestApi:            b.api.ID(),
			ResourceId:         resources[r.Path],
			HttpMethod:         pulumi.String(r.Method),
			Authorization:      pulumi.String("NONE"),
			ApiKeyRequired:     pulumi.Bool(!r.Public),
			RequestValidatorId: b.validator.ID(),
			RequestParameters:  requestParameters(r),
		}
		if r.Body != nil {
			margs.RequestModels = requestModels(models[r.Body.Title])
		}
		method, err := apigateway.NewMethod(b.ctx, logical, margs, b.parent)
		if err != nil {
			return fmt.Errorf("method %s: %w", r.Pattern(), err)
		}
		integ, err := apigateway.NewIntegration(b.ctx, logical, &apigateway.IntegrationArgs{
			RestApi:               b.api.ID(),
			ResourceId:            resources[r.Path],
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"),
			Uri:                   b.target(r).InvokeArn,
			TimeoutMilliseconds:   pulumi.Int(int(contract.IntegrationTimeout.Milliseconds())),
		}, b.parent)
		if err != nil {
			return fmt.Errorf("integration %s: %w", r.Pattern(), err)
		}
		b.deps = append(b.deps, method, integ)
	}
	return nil
}

// requestModels validates a body against its model whatever its content
// type: API Gateway checks a body only against the model of its content type
// ("$default" for any other), so a text/plain body would otherwise skip
// validation. The function answers other types 415.
func requestModels(m *apigateway.Model) pulumi.StringMap {
	return pulumi.StringMap{"application/json": m.Name, "$default": m.Name}
}

// requestParameters are a route's query and path parameters, each marked
// required or not, for the request validator.
func requestParameters(r *contract.Route) pulumi.BoolMap {
	params := pulumi.BoolMap{}
	for _, q := range r.Query {
		params["method.request.querystring."+q.Name] = pulumi.Bool(q.Required)
	}
	for _, seg := range strings.Split(r.Path, "/") {
		if strings.HasPrefix(seg, "{") {
			params["method.request.path."+strings.Trim(seg, "{}")] = pulumi.Bool(true)
		}
	}
	return params
}

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
		"definition":  pulumi.String(DefinitionHash(a.AllowOrigin)),
		"integration": a.Function.InvokeArn,
	}
	if a.Reads != nil {
		triggers["reads"] = a.Reads.InvokeArn
	}
	deployment, err := apigateway.NewDeployment(b.ctx, b.name, &apigateway.DeploymentArgs{
		RestApi:     b.api.ID(),
		Description: pulumi.String("access911 API"),
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

// DefinitionHash fingerprints everything a deployment snapshots: routes,
// models and CORS. A change redeploys; no change, no new deployment.
func DefinitionHash(allowOrigin string) string {
	b, _ := json.Marshal(struct {
		Routes []*contract.Route
		Models []string
		Origin string
	}{contract.Routes, modelSchemas(), allowOrigin})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func modelSchemas() []string {
	var out []string
	for _, r := range contract.Routes {
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

// uniqueSortedPrefixes lists every path and its parents ("/calls",
// "/calls/{id}"), parents first.
func uniqueSortedPrefixes(paths []string) []string {
	seen := map[string]bool{}
	for _, p := range paths {
		parts := strings.Split(strings.Trim(p, "/"), "/")
		for i := range parts {
			seen["/"+strings.Join(parts[:i+1], "/")] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if ci, cj := strings.Count(out[i], "/"), strings.Count(out[j], "/"); ci != cj {
			return ci < cj
		}
		return out[i] < out[j]
	})
	return out
}

func splitPath(p string) (parent, part string) {
	i := strings.LastIndex(p, "/")
	parent = p[:i]
	if parent == "" {
		parent = "/"
	}
	return parent, p[i+1:]
}

// resourceSuffix turns /calls/{id} into "-calls-id" for logical names.
func resourceSuffix(p string) string {
	r := strings.NewReplacer("{", "", "}", "", "/", "-")
	return r.Replace(p)
}
