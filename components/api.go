package components

import (
	"fmt"
	"sort"
	"strings"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// APIType is the Pulumi type token of the API component.
const APIType = "access911:components:API"

// APIArgs configures the API. Its routes, schemas, stage name and CORS
// headers are the contract's (contract.Routes), the same the handler serves.
type APIArgs struct {
	// Function serves every route through the Lambda proxy integration,
	// but the call reads when Reads is set.
	Function *Function `pulumi:"function"`
	// Reads, if set, serves GET /calls and GET /calls/{id} (the read
	// cache's reader).
	Reads *Function `pulumi:"reads"`
	// Throttling for the stage (method settings */*) and the usage plan;
	// zero values take the seed's (capacity.ThrottleBurst, ThrottleRateRps).
	ThrottleBurstLimit int     `pulumi:"throttleBurstLimit"`
	ThrottleRateLimit  float64 `pulumi:"throttleRateLimit"`
	// AllowOrigin for CORS; default contract.DefaultAllowOrigin.
	AllowOrigin string `pulumi:"allowOrigin"`
	// LogRetentionDays for the access log; default LogRetentionDays.
	LogRetentionDays int `pulumi:"logRetentionDays"`
	// ManageAccountLogging registers the region's API Gateway account
	// setting (the CloudWatch role API Gateway logs with). It is one per
	// account and region; turn it off where something else owns it.
	ManageAccountLogging bool `pulumi:"manageAccountLogging"`
	// Routes are the routes the API serves, each as the contract declares
	// it; default contract.Routes (a subset leaves out, e.g., the
	// provider's webhook).
	Routes []*contract.Route `pulumi:"routes"`
	// Inbox is where inbox routes put their bodies; required when Routes
	// have one.
	Inbox *InboxArgs `pulumi:"inbox"`
	// APIKeyValue, if set (a Pulumi secret), is the value of the API key
	// our own clients send; unset, API Gateway generates one. A client's
	// key works in another region only when that region's key has the same
	// value (API Gateway compares values), so every region but the one that
	// generates it sets this (see ClientKeySecret).
	APIKeyValue pulumi.StringInput `pulumi:"apiKeyValue"`
	Tags        pulumi.StringMap   `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
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
	if a.Routes == nil {
		a.Routes = contract.Routes
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
		Description:            pulumi.String(appName(b.args.App) + " emergency-call intake"),
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
	for _, r := range b.args.Routes {
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
	for _, r := range b.args.Routes {
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
	for _, r := range b.args.Routes {
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
