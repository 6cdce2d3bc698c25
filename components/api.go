package components

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// APIType is the Pulumi type token of the API component.
const APIType = "access911:components:API"

// API Gateway defaults.
const (
	// ThrottleBurstLimit: seed 000, ThrottleSettings BurstLimit: 5000.
	ThrottleBurstLimit = 5000
	// ThrottleRateLimit: seed 000, ThrottleSettings RateLimit: 2000 (rps).
	ThrottleRateLimit = 2000
	// StageName is the deployed stage.
	StageName = "v1"
	// DefaultAllowOrigin is the CORS origin when none is configured.
	DefaultAllowOrigin = "*"
	// IntegrationTimeoutMs is API Gateway's REST integration limit (29 s).
	IntegrationTimeoutMs = 29000
)

// CORS response headers, shared by OPTIONS, gateway responses and the handler.
const (
	CORSAllowMethods = "GET,POST,OPTIONS"
	CORSAllowHeaders = "Content-Type,X-Api-Key,X-Amz-Date,Authorization,X-Amz-Security-Token"
)

// Route is one method on one path of the API.
type Route struct {
	Method string
	Path   string           // e.g. /calls/{id}
	Body   *contract.Schema // validated request body, if any
	Query  []contract.Param // query-string parameters
	// Public routes need no API key (health checkers).
	Public bool
}

// Routes are the API's methods; the handler serves the same set.
var Routes = []Route{
	{Method: "POST", Path: "/calls", Body: &contract.CallSchema},
	{Method: "GET", Path: "/calls", Query: contract.QueryCallsParams},
	{Method: "GET", Path: "/calls/{id}"},
	{Method: "POST", Path: "/simulate", Body: &contract.SimulateSchema},
	{Method: "GET", Path: "/health", Public: true},
}

// APIArgs configures the API.
type APIArgs struct {
	// Function serves every route through the Lambda proxy integration.
	Function *Function
	// Throttling for the stage (method settings */*) and the usage plan;
	// zero values take the seed's defaults.
	ThrottleBurstLimit int
	ThrottleRateLimit  float64
	// AllowOrigin for CORS; default "*".
	AllowOrigin string
	// LogRetentionDays for the access log; default LogRetentionDays.
	LogRetentionDays int
	// ManageAccountLogging registers the region's API Gateway account
	// setting (the CloudWatch role API Gateway logs with). It is one per
	// account and region; turn it off where something else owns it.
	ManageAccountLogging bool
	Tags                 pulumi.StringMap
}

func (a APIArgs) withDefaults() APIArgs {
	if a.ThrottleBurstLimit == 0 {
		a.ThrottleBurstLimit = ThrottleBurstLimit
	}
	if a.ThrottleRateLimit == 0 {
		a.ThrottleRateLimit = ThrottleRateLimit
	}
	if a.AllowOrigin == "" {
		a.AllowOrigin = DefaultAllowOrigin
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
	parent := pulumi.Parent(c)
	fail := func(what string, err error) (*API, error) { return nil, fmt.Errorf("api %q: %s: %w", name, what, err) }

	api, err := apigateway.NewRestApi(ctx, name, &apigateway.RestApiArgs{
		Description:            pulumi.String("access911 emergency-call intake"),
		EndpointConfiguration:  apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		ApiKeySource:           pulumi.String("HEADER"),
		MinimumCompressionSize: pulumi.String("1024"),
		Tags:                   a.Tags,
	}, parent)
	if err != nil {
		return fail("rest api", err)
	}
	validator, err := apigateway.NewRequestValidator(ctx, name, &apigateway.RequestValidatorArgs{
		RestApi:                   api.ID(),
		Name:                      pulumi.String("body-and-parameters"),
		ValidateRequestBody:       pulumi.Bool(true),
		ValidateRequestParameters: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return fail("request validator", err)
	}

	// Models, one per body schema, generated from the handler's definitions.
	models := map[string]*apigateway.Model{}
	for _, r := range Routes {
		if r.Body == nil || models[r.Body.Title] != nil {
			continue
		}
		m, err := apigateway.NewModel(ctx, name+"-"+strings.ToLower(r.Body.Title), &apigateway.ModelArgs{
			RestApi:     api.ID(),
			Name:        pulumi.String(r.Body.Title),
			ContentType: pulumi.String("application/json"),
			Schema:      pulumi.String(r.Body.JSONSchemaString()),
		}, parent)
		if err != nil {
			return fail("model "+r.Body.Title, err)
		}
		models[r.Body.Title] = m
	}

	// Resources: one per path segment.
	resources := map[string]pulumi.StringInput{"/": api.RootResourceId}
	var paths []string
	for _, r := range Routes {
		paths = append(paths, r.Path)
	}
	var deps []pulumi.Resource
	for _, p := range uniqueSortedPrefixes(paths) {
		parentPath, part := splitPath(p)
		res, err := apigateway.NewResource(ctx, name+resourceSuffix(p), &apigateway.ResourceArgs{
			RestApi:  api.ID(),
			ParentId: resources[parentPath],
			PathPart: pulumi.String(part),
		}, parent)
		if err != nil {
			return fail("resource "+p, err)
		}
		resources[p] = res.ID()
		cors, err := corsPreflight(ctx, name+resourceSuffix(p), api, res, validator, a.AllowOrigin, parent)
		if err != nil {
			return fail("cors "+p, err)
		}
		deps = append(deps, cors...)
	}

	for _, r := range Routes {
		logical := name + "-" + strings.ToLower(r.Method) + resourceSuffix(r.Path)
		params := pulumi.BoolMap{}
		for _, q := range r.Query {
			params["method.request.querystring."+q.Name] = pulumi.Bool(q.Required)
		}
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params["method.request.path."+strings.Trim(seg, "{}")] = pulumi.Bool(true)
			}
		}
		margs := &apigateway.MethodArgs{
			RestApi:            api.ID(),
			ResourceId:         resources[r.Path],
			HttpMethod:         pulumi.String(r.Method),
			Authorization:      pulumi.String("NONE"),
			ApiKeyRequired:     pulumi.Bool(!r.Public),
			RequestValidatorId: validator.ID(),
			RequestParameters:  params,
		}
		if r.Body != nil {
			margs.RequestModels = pulumi.StringMap{"application/json": models[r.Body.Title].Name}
		}
		method, err := apigateway.NewMethod(ctx, logical, margs, parent)
		if err != nil {
			return fail("method "+r.Method+" "+r.Path, err)
		}
		integ, err := apigateway.NewIntegration(ctx, logical, &apigateway.IntegrationArgs{
			RestApi:               api.ID(),
			ResourceId:            resources[r.Path],
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"),
			Uri:                   a.Function.InvokeArn,
			TimeoutMilliseconds:   pulumi.Int(IntegrationTimeoutMs),
		}, parent)
		if err != nil {
			return fail("integration "+r.Method+" "+r.Path, err)
		}
		deps = append(deps, method, integ)
	}

	// Only this API may invoke the function, on any stage, method and path.
	perm, err := lambda.NewPermission(ctx, name+"-invoke", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  a.Function.FunctionName,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", api.ExecutionArn),
	}, parent)
	if err != nil {
		return fail("invoke permission", err)
	}

	// CORS headers on API Gateway's own errors (validation 400s, throttling
	// 429s, 5xx), or browsers hide the reason from the caller.
	for _, rt := range []string{"DEFAULT_4XX", "DEFAULT_5XX"} {
		gr, err := apigateway.NewResponse(ctx, name+"-"+strings.ToLower(rt), &apigateway.ResponseArgs{
			RestApiId:          api.ID(),
			ResponseType:       pulumi.String(rt),
			ResponseParameters: corsHeaders("gatewayresponse.header.", a.AllowOrigin),
			ResponseTemplates: pulumi.StringMap{
				"application/json": pulumi.String(`{"error":$context.error.messageString,"detail":"$context.error.validationErrorString"}`),
			},
		}, parent)
		if err != nil {
			return fail("gateway response "+rt, err)
		}
		deps = append(deps, gr)
	}

	var account pulumi.Resource
	if a.ManageAccountLogging {
		acct, err := accountLogging(ctx, name, a.Tags, parent)
		if err != nil {
			return fail("account logging", err)
		}
		account = acct
	}

	deployment, err := apigateway.NewDeployment(ctx, name, &apigateway.DeploymentArgs{
		RestApi:     api.ID(),
		Description: pulumi.String("access911 API"),
		// A new deployment whenever the API's definition changes, or the
		// function behind it is replaced (a deployment snapshots integrations).
		Triggers: pulumi.StringMap{
			"definition":  pulumi.String(DefinitionHash(a.AllowOrigin)),
			"integration": a.Function.InvokeArn,
		},
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return fail("deployment", err)
	}
	accessLogs, err := cloudwatch.NewLogGroup(ctx, name+"-access", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/apigateway/" + name + "-access-"),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            a.Tags,
	}, parent)
	if err != nil {
		return fail("access log group", err)
	}
	stageOpts := []pulumi.ResourceOption{parent, pulumi.DependsOn([]pulumi.Resource{perm})}
	if account != nil {
		stageOpts = append(stageOpts, pulumi.DependsOn([]pulumi.Resource{account}))
	}
	stage, err := apigateway.NewStage(ctx, name, &apigateway.StageArgs{
		RestApi:            api.ID(),
		Deployment:         deployment.ID(),
		StageName:          pulumi.String(StageName),
		XrayTracingEnabled: pulumi.Bool(true),
		AccessLogSettings: apigateway.StageAccessLogSettingsArgs{
			DestinationArn: accessLogs.Arn,
			Format:         pulumi.String(AccessLogFormat),
		},
		Tags: a.Tags,
	}, stageOpts...)
	if err != nil {
		return fail("stage", err)
	}
	if _, err := apigateway.NewMethodSettings(ctx, name, &apigateway.MethodSettingsArgs{
		RestApi:    api.ID(),
		StageName:  stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: apigateway.MethodSettingsSettingsArgs{
			MetricsEnabled:       pulumi.Bool(true),
			LoggingLevel:         pulumi.String("ERROR"),
			DataTraceEnabled:     pulumi.Bool(false), // never log call payloads
			ThrottlingBurstLimit: pulumi.Int(a.ThrottleBurstLimit),
			ThrottlingRateLimit:  pulumi.Float64(a.ThrottleRateLimit),
		},
	}, parent); err != nil {
		return fail("method settings", err)
	}

	plan, err := apigateway.NewUsagePlan(ctx, name, &apigateway.UsagePlanArgs{
		Description: pulumi.String("telephony provider webhook"),
		ApiStages: apigateway.UsagePlanApiStageArray{apigateway.UsagePlanApiStageArgs{
			ApiId: api.ID(), Stage: stage.StageName,
		}},
		ThrottleSettings: apigateway.UsagePlanThrottleSettingsArgs{
			BurstLimit: pulumi.Int(a.ThrottleBurstLimit),
			RateLimit:  pulumi.Float64(a.ThrottleRateLimit),
		},
		Tags: a.Tags,
	}, parent)
	if err != nil {
		return fail("usage plan", err)
	}
	key, err := apigateway.NewApiKey(ctx, name+"-telephony", &apigateway.ApiKeyArgs{
		Description: pulumi.String("API key of the telephony provider that calls the webhook"),
		Enabled:     pulumi.Bool(true),
		Tags:        a.Tags,
	}, parent)
	if err != nil {
		return fail("api key", err)
	}
	if _, err := apigateway.NewUsagePlanKey(ctx, name+"-telephony", &apigateway.UsagePlanKeyArgs{
		KeyId: key.ID(), KeyType: pulumi.String("API_KEY"), UsagePlanId: plan.ID(),
	}, parent); err != nil {
		return fail("usage plan key", err)
	}

	c.RestAPIID = api.ID().ToStringOutput()
	c.APIName = api.Name
	c.StageName = stage.StageName
	c.InvokeURL = stage.InvokeUrl
	c.ExecutionArn = api.ExecutionArn
	c.APIKeyID = key.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"restApiId": c.RestAPIID, "apiName": c.APIName, "stageName": c.StageName,
		"invokeUrl": c.InvokeURL, "executionArn": c.ExecutionArn, "apiKeyId": c.APIKeyID,
	}); err != nil {
		return nil, err
	}
	return c, nil
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
		Routes []Route
		Models []string
		Origin string
	}{Routes, modelSchemas(), allowOrigin})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func modelSchemas() []string {
	var out []string
	for _, r := range Routes {
		if r.Body != nil {
			out = append(out, r.Body.JSONSchemaString())
		}
	}
	return out
}

func corsHeaders(prefix, origin string) pulumi.StringMap {
	return pulumi.StringMap{
		prefix + "Access-Control-Allow-Origin":  pulumi.String("'" + origin + "'"),
		prefix + "Access-Control-Allow-Methods": pulumi.String("'" + CORSAllowMethods + "'"),
		prefix + "Access-Control-Allow-Headers": pulumi.String("'" + CORSAllowHeaders + "'"),
	}
}

// corsPreflight answers OPTIONS on a resource from API Gateway itself.
func corsPreflight(ctx *pulumi.Context, name string, api *apigateway.RestApi, res *apigateway.Resource,
	validator *apigateway.RequestValidator, origin string, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
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
