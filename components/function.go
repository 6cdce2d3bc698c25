package components

import (
	"fmt"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FunctionType is the Pulumi type token of the Function component.
const FunctionType = "access911:components:Function"

// LogRetentionDays keeps function and access logs for a month.
const LogRetentionDays = 30

// FunctionArgs configures the call-intake Lambda.
type FunctionArgs struct {
	// Code is the deployment package (a zip with "bootstrap") and CodeHash its
	// base64 SHA-256, so unchanged code is not redeployed.
	Code     pulumi.Archive
	CodeHash string
	// Sizing; zero values take the seed's (capacity.ReservedConcurrency,
	// capacity.MemoryMB, capacity.TimeoutSeconds).
	ReservedConcurrency int
	MemoryMB            int
	TimeoutSeconds      int
	LogRetentionDays    int
	// TableName and TableArn are the calls table in this region.
	TableName pulumi.StringInput
	TableArn  pulumi.StringInput
	// ArchiveBucketName, ArchiveBucketArn and ArchiveKMSKeyArn are the archive.
	ArchiveBucketName pulumi.StringInput
	ArchiveBucketArn  pulumi.StringInput
	ArchiveKMSKeyArn  pulumi.StringInput
	// WebhookSecretArn is the provider's webhook secret, read once per cold
	// start.
	WebhookSecretArn pulumi.StringInput
	// AllowOrigin is the CORS origin the handler answers; default
	// contract.DefaultAllowOrigin.
	AllowOrigin string
	Tags        pulumi.StringMap
}

func (a FunctionArgs) withDefaults() FunctionArgs {
	if a.ReservedConcurrency == 0 {
		a.ReservedConcurrency = capacity.ReservedConcurrency
	}
	if a.MemoryMB == 0 {
		a.MemoryMB = capacity.MemoryMB
	}
	if a.TimeoutSeconds == 0 {
		a.TimeoutSeconds = capacity.TimeoutSeconds
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = LogRetentionDays
	}
	if a.AllowOrigin == "" {
		a.AllowOrigin = contract.DefaultAllowOrigin
	}
	return a
}

func (a FunctionArgs) validate() error {
	switch {
	case a.Code == nil || a.CodeHash == "":
		return fmt.Errorf("a deployment package and its hash are required")
	case a.TableArn == nil || a.TableName == nil:
		return fmt.Errorf("the calls table is required")
	case a.ArchiveBucketArn == nil || a.ArchiveBucketName == nil || a.ArchiveKMSKeyArn == nil:
		return fmt.Errorf("the archive bucket and its key are required")
	case a.WebhookSecretArn == nil:
		return fmt.Errorf("the webhook secret is required")
	case a.MemoryMB < 128 || a.MemoryMB > 10240:
		return fmt.Errorf("memory %d MB is outside Lambda's 128-10240 MB", a.MemoryMB)
	case a.TimeoutSeconds < 1 || a.TimeoutSeconds > 900:
		return fmt.Errorf("timeout %d s is outside Lambda's 1-900 s", a.TimeoutSeconds)
	case a.ReservedConcurrency < 1:
		return fmt.Errorf("reserved concurrency must be at least 1, got %d", a.ReservedConcurrency)
	}
	return nil
}

// Function is the call-intake Lambda with its role and log group.
type Function struct {
	pulumi.ResourceState

	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	FunctionArn  pulumi.StringOutput `pulumi:"functionArn"`
	InvokeArn    pulumi.StringOutput `pulumi:"invokeArn"`
	RoleArn      pulumi.StringOutput `pulumi:"roleArn"`
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
	// Lambda is the function resource, for permissions.
	Lambda *lambda.Function
	// ReservedConcurrency is the configured limit (alarms read it).
	ReservedConcurrency int
}

// NewFunction registers the call-intake Lambda: provided.al2023 on arm64, an
// explicit log group with retention, JSON logs, active X-Ray tracing and a
// least-privilege role.
func NewFunction(ctx *pulumi.Context, name string, args *FunctionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	if args == nil {
		args = &FunctionArgs{}
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("function %q: %w", name, err)
	}
	c := &Function{ReservedConcurrency: a.ReservedConcurrency}
	if err := ctx.RegisterComponentResource(FunctionType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	logGroup, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/lambda/" + name + "-"),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            a.Tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("function %q: log group: %w", name, err)
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String("access911 call-intake Lambda"),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("lambda.amazonaws.com")),
		Tags:             a.Tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("function %q: role: %w", name, err)
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.All(a.TableArn, a.ArchiveBucketArn, a.ArchiveKMSKeyArn, logGroup.Arn, a.WebhookSecretArn).ApplyT(func(v []any) string {
			return FunctionPolicy(PolicyResources{Table: v[0].(string), Bucket: v[1].(string), ArchiveKey: v[2].(string),
				LogGroup: v[3].(string), WebhookSecret: v[4].(string)}).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("function %q: role policy: %w", name, err)
	}

	env := pulumi.StringMap{
		contract.EnvCallsTable:       a.TableName,
		contract.EnvArchiveBucket:    a.ArchiveBucketName,
		contract.EnvCORSAllowOrigin:  pulumi.String(a.AllowOrigin),
		contract.EnvWebhookSecretARN: a.WebhookSecretArn,
	}
	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Description:                  pulumi.String("access911 call intake: provider webhook, POST /calls, queries, /simulate"),
		Runtime:                      pulumi.String(contract.Runtime),
		Architectures:                pulumi.StringArray{pulumi.String(contract.Architecture)},
		Handler:                      pulumi.String(contract.Binary),
		Code:                         a.Code,
		SourceCodeHash:               pulumi.String(a.CodeHash),
		Role:                         role.Arn,
		MemorySize:                   pulumi.Int(a.MemoryMB),
		Timeout:                      pulumi.Int(a.TimeoutSeconds),
		ReservedConcurrentExecutions: pulumi.Int(a.ReservedConcurrency),
		Environment:                  lambda.FunctionEnvironmentArgs{Variables: env},
		TracingConfig:                lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{
			LogFormat:           pulumi.String("JSON"),
			LogGroup:            logGroup.Name,
			ApplicationLogLevel: pulumi.String("INFO"),
			SystemLogLevel:      pulumi.String("WARN"),
		},
		Tags: a.Tags,
		// The role's permissions must exist before the first invocation.
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", name, err)
	}

	c.Lambda = fn
	c.FunctionName = fn.Name
	c.FunctionArn = fn.Arn
	c.InvokeArn = fn.InvokeArn
	c.RoleArn = role.Arn
	c.LogGroupName = logGroup.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"functionName": c.FunctionName, "functionArn": c.FunctionArn, "invokeArn": c.InvokeArn,
		"roleArn": c.RoleArn, "logGroupName": c.LogGroupName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// FunctionDynamoDBActions are exactly the DynamoDB calls the handler makes.
var FunctionDynamoDBActions = []string{
	"dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
}

// PolicyResources are the ARNs the function's policy grants access to.
type PolicyResources struct {
	Table, Bucket, ArchiveKey, LogGroup, WebhookSecret string
}

// FunctionPolicy is the Lambda role's policy: the handler's DynamoDB actions
// on this table and its index; PutObject under the archive prefix with the
// archive key, HeadObject (s3:GetObject) on call audio only, reading and
// deleting inbox deliveries (decrypting with the archive key); reading
// the webhook secret; its own log group; and X-Ray (which has no
// resource-level permissions, hence its "*" resource; no action is a
// wildcard).
func FunctionPolicy(r PolicyResources) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{
		{
			Sid: "CallsTable", Effect: "Allow",
			Action:   FunctionDynamoDBActions,
			Resource: []string{r.Table, r.Table + "/index/" + contract.EmergencyTypeIndex},
		},
		{
			Sid: "ArchivePayloads", Effect: "Allow",
			Action:   []string{"s3:PutObject"},
			Resource: []string{r.Bucket + "/" + contract.ArchivePrefix + "*"},
		},
		{
			// The webhook looks for a conversation's audio to link it.
			Sid: "FindCallAudio", Effect: "Allow",
			Action:   []string{"s3:GetObject"},
			Resource: []string{r.Bucket + "/" + contract.ProviderArchivePrefix + "*/audio.mp3"},
		},
		{
			// Deliveries API Gateway left in the inbox: read, then removed.
			Sid: "ProcessInbox", Effect: "Allow",
			Action:   []string{"s3:GetObject", "s3:DeleteObject"},
			Resource: []string{r.Bucket + "/" + contract.InboxPrefix + "*"},
		},
		{
			Sid: "ArchiveEncryption", Effect: "Allow",
			Action:   []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Resource: []string{r.ArchiveKey},
		},
		{
			Sid: "WebhookSecret", Effect: "Allow",
			Action:   []string{"secretsmanager:GetSecretValue"},
			Resource: []string{r.WebhookSecret},
		},
		{
			Sid: "OwnLogs", Effect: "Allow",
			Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{r.LogGroup + ":*"},
		},
		{
			Sid: "Tracing", Effect: "Allow",
			Action:   []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
			Resource: []string{"*"},
		},
	}}
}
