package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/contract"
)

// InboxArgs is where the API's inbox routes (contract.Route.Inbox) put
// their bodies: the archive bucket under contract.InboxPrefix.
type InboxArgs struct {
	// Region of the bucket: API Gateway's S3 integration URI names it.
	Region     string             `pulumi:"region"`
	BucketName pulumi.StringInput `pulumi:"bucketName"`
	BucketArn  pulumi.StringInput `pulumi:"bucketArn"`
	// KMSKeyArn is the bucket's default encryption key.
	KMSKeyArn pulumi.StringInput `pulumi:"kmsKeyArn"`
}

// inboxRoute registers an inbox route: the signature header required by
// the gateway, the envelope model, and an S3 PutObject integration under
// the request id with API Gateway's own least-privilege role. The gateway
// answers 200 once S3 has the object, 503 when S3 refused it.
func (b *apiBuilder) inboxRoute(r *contract.Route, resourceID pulumi.StringInput, model *apigateway.Model) error {
	in := b.args.Inbox
	if in == nil || in.Region == "" || in.BucketName == nil || in.BucketArn == nil || in.KMSKeyArn == nil {
		return fmt.Errorf("route %s writes to an inbox: the inbox bucket, its key and region are required", r.Pattern())
	}
	logical := b.name + "-" + strings.ToLower(r.Method) + resourceSuffix(r.Path)
	role, err := b.inboxRole(logical, in)
	if err != nil {
		return err
	}
	sigParam := "method.request.header." + contract.SignatureHeader
	method, err := apigateway.NewMethod(b.ctx, logical, &apigateway.MethodArgs{
		RestApi: b.api.ID(), ResourceId: resourceID, HttpMethod: pulumi.String(r.Method),
		Authorization: pulumi.String("NONE"), ApiKeyRequired: pulumi.Bool(!r.Public),
		RequestValidatorId: b.validator.ID(),
		RequestParameters:  pulumi.BoolMap{sigParam: pulumi.Bool(true)},
		RequestModels:      requestModels(model),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("method %s: %w", r.Pattern(), err)
	}
	integ, err := apigateway.NewIntegration(b.ctx, logical, &apigateway.IntegrationArgs{
		RestApi: b.api.ID(), ResourceId: resourceID, HttpMethod: method.HttpMethod,
		Type:                  pulumi.String("AWS"),
		IntegrationHttpMethod: pulumi.String("PUT"),
		Uri:                   pulumi.Sprintf("arn:aws:apigateway:%s:s3:path/%s/%s{key}", in.Region, in.BucketName, contract.InboxPrefix),
		Credentials:           role.Arn,
		PassthroughBehavior:   pulumi.String("WHEN_NO_TEMPLATES"),
		RequestParameters: pulumi.StringMap{
			"integration.request.path.key":                                             pulumi.String("context.requestId"),
			"integration.request.header.Content-Type":                                  pulumi.String("'application/json'"),
			"integration.request.header.x-amz-meta-" + contract.InboxSignatureMetadata: pulumi.String(sigParam),
		},
		TimeoutMilliseconds: pulumi.Int(int(contract.IntegrationTimeout.Milliseconds())),
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{role}))
	if err != nil {
		return fmt.Errorf("integration %s: %w", r.Pattern(), err)
	}
	responses, err := b.inboxResponses(logical, resourceID, method, integ)
	if err != nil {
		return fmt.Errorf("responses %s: %w", r.Pattern(), err)
	}
	b.deps = append(append(b.deps, method, integ), responses...)
	return nil
}

// inboxResponses: 200 {"status":"accepted"} once S3 has the body; any S3
// error becomes 503, so the provider knows the delivery was not kept.
func (b *apiBuilder) inboxResponses(logical string, resourceID pulumi.StringInput, method *apigateway.Method,
	integ *apigateway.Integration) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, resp := range []struct{ status, pattern, template string }{
		{"200", "", `{"status":"accepted","request_id":"$context.requestId"}`},
		{"503", `[45]\d{2}`, `{"error":"the delivery could not be kept; it was not acknowledged","request_id":"$context.requestId"}`},
	} {
		mr, err := apigateway.NewMethodResponse(b.ctx, logical+"-"+resp.status, &apigateway.MethodResponseArgs{
			RestApi: b.api.ID(), ResourceId: resourceID, HttpMethod: method.HttpMethod, StatusCode: pulumi.String(resp.status),
		}, b.parent)
		if err != nil {
			return nil, err
		}
		ir, err := apigateway.NewIntegrationResponse(b.ctx, logical+"-"+resp.status, &apigateway.IntegrationResponseArgs{
			RestApi: b.api.ID(), ResourceId: resourceID, HttpMethod: method.HttpMethod, StatusCode: mr.StatusCode,
			SelectionPattern:  pulumi.String(resp.pattern),
			ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(resp.template)},
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{integ}))
		if err != nil {
			return nil, err
		}
		out = append(out, mr, ir)
	}
	return out, nil
}

// inboxRole lets API Gateway put objects under the inbox prefix, encrypted
// with the bucket's key, and nothing else.
func (b *apiBuilder) inboxRole(logical string, in *InboxArgs) (*iam.Role, error) {
	role, err := iam.NewRole(b.ctx, logical, &iam.RoleArgs{
		Description:      pulumi.String("API Gateway writes provider deliveries to the archive inbox"),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("apigateway.amazonaws.com")),
		Tags:             b.args.Tags,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("inbox role: %w", err)
	}
	_, err = iam.NewRolePolicy(b.ctx, logical, &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.All(in.BucketArn, in.KMSKeyArn).ApplyT(func(v []any) string {
			return InboxWriterPolicy(v[0].(string), v[1].(string)).JSON()
		}).(pulumi.StringOutput),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("inbox role policy: %w", err)
	}
	return role, nil
}

// InboxWriterPolicy is API Gateway's inbox role policy.
func InboxWriterPolicy(bucketArn, kmsKeyArn string) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{
		{Sid: "PutDeliveries", Effect: "Allow", Action: []string{"s3:PutObject"},
			Resource: []string{bucketArn + "/" + contract.InboxPrefix + "*"}},
		{Sid: "EncryptDeliveries", Effect: "Allow", Action: []string{"kms:GenerateDataKey"},
			Resource: []string{kmsKeyArn}},
	}}
}

// InboxTriggerType is the Pulumi type token of the InboxTrigger component.
const InboxTriggerType = "access911:components:InboxTrigger"

// InboxTriggerArgs connects the archive bucket's inbox to the function.
type InboxTriggerArgs struct {
	Function   *Function          `pulumi:"function"`
	BucketName pulumi.StringInput `pulumi:"bucketName"`
	BucketArn  pulumi.StringInput `pulumi:"bucketArn"`
	// FailureDestinationArn receives the record of every inbox event the
	// function failed after Lambda's asynchronous retries (an SQS queue the
	// function's role may send to). Without one Lambda discards the event.
	FailureDestinationArn pulumi.StringInput `pulumi:"failureDestinationArn"`
}

// Asynchronous invocation settings of the inbox events: Lambda's most
// patient. Two retries after a function error; an event throttled (the
// intake function shares its reserved concurrency with the API) is retried
// for up to six hours; after either it goes to the on-failure destination
// instead of being discarded (Lambda developer guide, "Configuring error
// handling for asynchronous invocation").
const (
	InboxRetryAttempts      = 2
	InboxMaxEventAgeSeconds = 21600
)

// InboxTrigger invokes the function for every delivery API Gateway puts in
// the inbox. It owns the bucket's notification configuration (S3 keeps one
// per bucket).
type InboxTrigger struct {
	pulumi.ResourceState
}

// NewInboxTrigger registers the invoke permission (this bucket only), the
// function's asynchronous error handling (retries, event age, on-failure
// destination) and the bucket notification for ObjectCreated under
// contract.InboxPrefix.
func NewInboxTrigger(ctx *pulumi.Context, name string, args *InboxTriggerArgs, opts ...pulumi.ResourceOption) (*InboxTrigger, error) {
	if args == nil || args.Function == nil || args.BucketName == nil || args.BucketArn == nil || args.FailureDestinationArn == nil {
		return nil, fmt.Errorf("inbox trigger %q: the function, the bucket and an on-failure destination are required", name)
	}
	c := &InboxTrigger{}
	if err := ctx.RegisterComponentResource(InboxTriggerType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	perm, err := lambda.NewPermission(ctx, name, &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  args.Function.FunctionName,
		Principal: pulumi.String("s3.amazonaws.com"),
		SourceArn: args.BucketArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("inbox trigger %q: permission: %w", name, err)
	}
	async, err := lambda.NewFunctionEventInvokeConfig(ctx, name, &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             args.Function.FunctionName,
		MaximumRetryAttempts:     pulumi.Int(InboxRetryAttempts),
		MaximumEventAgeInSeconds: pulumi.Int(InboxMaxEventAgeSeconds),
		DestinationConfig: lambda.FunctionEventInvokeConfigDestinationConfigArgs{
			OnFailure: lambda.FunctionEventInvokeConfigDestinationConfigOnFailureArgs{Destination: args.FailureDestinationArn},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("inbox trigger %q: asynchronous invocation: %w", name, err)
	}
	if _, err := s3.NewBucketNotification(ctx, name, &s3.BucketNotificationArgs{
		Bucket: args.BucketName,
		LambdaFunctions: s3.BucketNotificationLambdaFunctionArray{s3.BucketNotificationLambdaFunctionArgs{
			LambdaFunctionArn: args.Function.FunctionArn,
			Events:            pulumi.StringArray{pulumi.String("s3:ObjectCreated:*")},
			FilterPrefix:      pulumi.String(contract.InboxPrefix),
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{perm, async})); err != nil {
		return nil, fmt.Errorf("inbox trigger %q: notification: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{}); err != nil {
		return nil, err
	}
	return c, nil
}
