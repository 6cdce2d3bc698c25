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
	Code     pulumi.Archive `pulumi:"code"`
	CodeHash string         `pulumi:"codeHash"`
	// CodeObject, instead of Code, is the package as an S3 object in the
	// function's region (a release pipeline's upload); CodeHash is still
	// its base64 SHA-256.
	CodeObject *CodeObject `pulumi:"codeObject"`
	// Sizing; zero values take the seed's (capacity.ReservedConcurrency,
	// capacity.MemoryMB, capacity.TimeoutSeconds).
	ReservedConcurrency int `pulumi:"reservedConcurrency"`
	MemoryMB            int `pulumi:"memoryMb"`
	TimeoutSeconds      int `pulumi:"timeoutSeconds"`
	LogRetentionDays    int `pulumi:"logRetentionDays"`
	// TableName and TableArn are the calls table in this region.
	TableName pulumi.StringInput `pulumi:"tableName"`
	TableArn  pulumi.StringInput `pulumi:"tableArn"`
	// ArchiveBucketName, ArchiveBucketArn and ArchiveKMSKeyArn are the archive.
	ArchiveBucketName pulumi.StringInput `pulumi:"archiveBucketName"`
	ArchiveBucketArn  pulumi.StringInput `pulumi:"archiveBucketArn"`
	ArchiveKMSKeyArn  pulumi.StringInput `pulumi:"archiveKmsKeyArn"`
	// WebhookSecretArn is the provider's webhook secret, read once per cold
	// start; nil for an API without the provider's webhook (the function
	// then has no rights on the secret, the inbox or the provider's audio).
	WebhookSecretArn pulumi.StringInput `pulumi:"webhookSecretArn"`
	// Intake, if set, is the durable intake queue the function falls back
	// to (or, buffered, sends every call to).
	Intake *FunctionIntake `pulumi:"intake"`
	// AllowOrigin is the CORS origin the handler answers; default
	// contract.DefaultAllowOrigin.
	AllowOrigin string           `pulumi:"allowOrigin"`
	Tags        pulumi.StringMap `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
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
	case codeMissing(a.Code, a.CodeObject, a.CodeHash) != nil:
		return codeMissing(a.Code, a.CodeObject, a.CodeHash)
	case a.TableArn == nil || a.TableName == nil:
		return fmt.Errorf("the calls table is required")
	case a.ArchiveBucketArn == nil || a.ArchiveBucketName == nil || a.ArchiveKMSKeyArn == nil:
		return fmt.Errorf("the archive bucket and its key are required")
	case a.MemoryMB < 128 || a.MemoryMB > 10240:
		return fmt.Errorf("memory %d MB is outside Lambda's 128-10240 MB", a.MemoryMB)
	case a.TimeoutSeconds < 1 || a.TimeoutSeconds > 900:
		return fmt.Errorf("timeout %d s is outside Lambda's 1-900 s", a.TimeoutSeconds)
	case a.ReservedConcurrency < 1:
		return fmt.Errorf("reserved concurrency must be at least 1, got %d", a.ReservedConcurrency)
	}
	return nil
}

// FunctionIntake is the intake queue as the call-intake function sees it.
type FunctionIntake struct {
	Mode      string             `pulumi:"mode"` // contract.IntakeDirect or IntakeBuffered
	QueueURL  pulumi.StringInput `pulumi:"queueUrl"`
	QueueArn  pulumi.StringInput `pulumi:"queueArn"`
	KMSKeyArn pulumi.StringInput `pulumi:"kmsKeyArn"`
	// InboxFailuresArn is the on-failure destination of the function's
	// asynchronous (inbox) invocations; Lambda sends the records with the
	// function's role. Encrypted with KMSKeyArn.
	InboxFailuresArn pulumi.StringInput `pulumi:"inboxFailuresArn"`
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
	env := pulumi.StringMap{
		contract.EnvCallsTable:      a.TableName,
		contract.EnvArchiveBucket:   a.ArchiveBucketName,
		contract.EnvCORSAllowOrigin: pulumi.String(a.AllowOrigin),
	}
	none := pulumi.StringInput(pulumi.String(""))
	secret := none
	if a.WebhookSecretArn != nil {
		env[contract.EnvWebhookSecretARN], secret = a.WebhookSecretArn, a.WebhookSecretArn
	}
	queueArn, queueKey, failures := none, none, none
	if a.Intake != nil {
		env[contract.EnvIntakeQueueURL] = a.Intake.QueueURL
		env[contract.EnvIntakeMode] = pulumi.String(a.Intake.Mode)
		queueArn, queueKey = a.Intake.QueueArn, a.Intake.KMSKeyArn
		if a.Intake.InboxFailuresArn != nil {
			failures = a.Intake.InboxFailuresArn
		}
	}
	fn, err := registerLambda(ctx, name, lambdaSpec{
		app:         a.App,
		description: appName(a.App) + " call intake: provider webhook, POST /calls, queries, /simulate",
		roleNote:    appName(a.App) + " call-intake Lambda",
		code:        a.Code, object: a.CodeObject, codeHash: a.CodeHash,
		memoryMB: a.MemoryMB, timeoutSeconds: a.TimeoutSeconds, reserved: a.ReservedConcurrency,
		logRetentionDays: a.LogRetentionDays, env: env, tags: a.Tags,
		policy: func(logGroupArn pulumi.StringOutput) pulumi.StringOutput {
			return pulumi.All(a.TableArn, a.ArchiveBucketArn, a.ArchiveKMSKeyArn, logGroupArn, secret, queueArn, queueKey,
				failures).ApplyT(func(v []any) string {
				return FunctionPolicy(PolicyResources{Table: v[0].(string), Bucket: v[1].(string), ArchiveKey: v[2].(string),
					LogGroup: v[3].(string), WebhookSecret: v[4].(string), Queue: v[5].(string), QueueKey: v[6].(string),
					InboxFailures: v[7].(string)}).JSON()
			}).(pulumi.StringOutput)
		},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", name, err)
	}
	c.Lambda = fn.function
	c.FunctionName = fn.function.Name
	c.FunctionArn = fn.function.Arn
	c.InvokeArn = fn.function.InvokeArn
	c.RoleArn = fn.role.Arn
	c.LogGroupName = fn.logGroup.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"functionName": c.FunctionName, "functionArn": c.FunctionArn, "invokeArn": c.InvokeArn,
		"roleArn": c.RoleArn, "logGroupName": c.LogGroupName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// lambdaSpec is one Lambda of the project: the artifact's binary with its
// own sizing, environment and role policy (built from its log group's ARN).
type lambdaSpec struct {
	// app, if set, is the ServiceDimension value of the function's metrics.
	app                                string
	description, roleNote              string
	code                               pulumi.Archive
	object                             *CodeObject
	codeHash                           string
	memoryMB, timeoutSeconds, reserved int
	logRetentionDays                   int
	env                                pulumi.StringMap
	tags                               pulumi.StringMap
	policy                             func(logGroupArn pulumi.StringOutput) pulumi.StringOutput
	// vpc, if set, puts the function in those subnets and security groups.
	vpc *lambda.FunctionVpcConfigArgs
}

type registeredLambda struct {
	function *lambda.Function
	role     *iam.Role
	logGroup *cloudwatch.LogGroup
}

// registerLambda registers a log group with retention, a role with the
// spec's policy, and the function on provided.al2023/arm64 with JSON logs
// and active tracing, created only once its permissions exist.
func registerLambda(ctx *pulumi.Context, name string, spec lambdaSpec, parent pulumi.ResourceOption) (registeredLambda, error) {
	var r registeredLambda
	var err error
	if r.logGroup, err = cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/aws/lambda/" + name + "-"),
		RetentionInDays: pulumi.Int(spec.logRetentionDays),
		Tags:            spec.tags,
	}, parent); err != nil {
		return r, fmt.Errorf("log group: %w", err)
	}
	if r.role, err = iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String(spec.roleNote),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("lambda.amazonaws.com")),
		Tags:             spec.tags,
	}, parent); err != nil {
		return r, fmt.Errorf("role: %w", err)
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: r.role.ID(), Policy: spec.policy(r.logGroup.Arn),
	}, parent)
	if err != nil {
		return r, fmt.Errorf("role policy: %w", err)
	}
	// Zero reserved is unreserved (-1, Lambda's default), never a function
	// reserved to zero (which would throttle every invocation).
	reserved := pulumi.IntPtrInput(nil)
	if spec.reserved > 0 {
		reserved = pulumi.Int(spec.reserved)
	}
	if spec.app != "" {
		spec.env[contract.EnvMetricsService] = pulumi.String(spec.app)
	}
	r.function, err = lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Description:                  pulumi.String(spec.description),
		Runtime:                      pulumi.String(contract.Runtime),
		Architectures:                pulumi.StringArray{pulumi.String(contract.Architecture)},
		Handler:                      pulumi.String(contract.Binary),
		Code:                         spec.code,
		S3Bucket:                     spec.object.bucket(),
		S3Key:                        spec.object.key(),
		S3ObjectVersion:              spec.object.version(),
		SourceCodeHash:               pulumi.String(spec.codeHash),
		Role:                         r.role.Arn,
		MemorySize:                   pulumi.Int(spec.memoryMB),
		Timeout:                      pulumi.Int(spec.timeoutSeconds),
		ReservedConcurrentExecutions: reserved,
		Environment:                  lambda.FunctionEnvironmentArgs{Variables: spec.env},
		TracingConfig:                lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		VpcConfig:                    vpcConfig(spec.vpc),
		LoggingConfig: lambda.FunctionLoggingConfigArgs{
			LogFormat:           pulumi.String("JSON"),
			LogGroup:            r.logGroup.Name,
			ApplicationLogLevel: pulumi.String("INFO"),
			SystemLogLevel:      pulumi.String("WARN"),
		},
		Tags: spec.tags,
		// The role's permissions must exist before the first invocation.
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	return r, err
}

func vpcConfig(v *lambda.FunctionVpcConfigArgs) lambda.FunctionVpcConfigPtrInput {
	if v == nil {
		return nil
	}
	return v
}

// FunctionDynamoDBActions are exactly the DynamoDB calls the handler makes.
var FunctionDynamoDBActions = []string{
	"dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
}

// PolicyResources are the ARNs the function's policy grants access to.
type PolicyResources struct {
	Table, Bucket, ArchiveKey, LogGroup, WebhookSecret string
	// Queue and QueueKey: the intake queue and its key ("" without one).
	Queue, QueueKey string
	// InboxFailures: the asynchronous on-failure destination ("" without
	// one), encrypted with QueueKey.
	InboxFailures string
}

// FunctionPolicy is the Lambda role's policy: the handler's DynamoDB actions
// on this table and its index; PutObject under the archive prefix with the
// archive key, HeadObject (s3:GetObject) on call audio only, reading and
// deleting inbox deliveries (decrypting with the archive key); reading
// the webhook secret; its own log group; X-Ray; and with an intake queue,
// SendMessage on it with its key.
func FunctionPolicy(r PolicyResources) PolicyDocument {
	statements := []PolicyStatement{{
		Sid: "CallsTable", Effect: "Allow",
		Action:   FunctionDynamoDBActions,
		Resource: []string{r.Table, r.Table + "/index/" + contract.EmergencyTypeIndex},
	}, {
		Sid: "ArchivePayloads", Effect: "Allow",
		Action:   []string{"s3:PutObject"},
		Resource: []string{r.Bucket + "/" + contract.ArchivePrefix + "*"},
	}}
	if r.WebhookSecret != "" { // the provider's webhook
		statements = append(statements, PolicyStatement{
			// The webhook looks for a conversation's audio to link it.
			Sid: "FindCallAudio", Effect: "Allow",
			Action:   []string{"s3:GetObject"},
			Resource: []string{r.Bucket + "/" + contract.ProviderArchivePrefix + "*/audio.mp3"},
		}, PolicyStatement{
			// Deliveries API Gateway left in the inbox: read, then removed.
			Sid: "ProcessInbox", Effect: "Allow",
			Action:   []string{"s3:GetObject", "s3:DeleteObject"},
			Resource: []string{r.Bucket + "/" + contract.InboxPrefix + "*"},
		})
	}
	statements = append(statements, PolicyStatement{
		Sid: "ArchiveEncryption", Effect: "Allow",
		Action:   []string{"kms:GenerateDataKey", "kms:Decrypt"},
		Resource: []string{r.ArchiveKey},
	})
	if r.WebhookSecret != "" {
		statements = append(statements, PolicyStatement{
			Sid: "WebhookSecret", Effect: "Allow",
			Action:   []string{"secretsmanager:GetSecretValue"},
			Resource: []string{r.WebhookSecret},
		})
	}
	doc := PolicyDocument{Version: policyVersion, Statement: append(statements, PolicyStatement{
		Sid: "OwnLogs", Effect: "Allow",
		Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: []string{r.LogGroup + ":*"},
	}, tracingStatement)}
	if r.Queue != "" {
		doc.Statement = append(doc.Statement,
			PolicyStatement{Sid: "EnqueueCalls", Effect: "Allow", Action: []string{"sqs:SendMessage"}, Resource: []string{r.Queue}},
			PolicyStatement{Sid: "EncryptQueuedCalls", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{r.QueueKey}})
	}
	if r.InboxFailures != "" {
		// Lambda developer guide, invocation-async-retain-records: Lambda sends
		// an asynchronous invocation's failure record with the function's
		// execution role (sqs:SendMessage; the queue's key is granted above).
		doc.Statement = append(doc.Statement, PolicyStatement{Sid: "RecordFailedInboxEvents", Effect: "Allow",
			Action: []string{"sqs:SendMessage"}, Resource: []string{r.InboxFailures}})
	}
	return doc
}

// tracingStatement lets a function send X-Ray traces, which has no
// resource-level permissions, hence its "*" resource; no action is a
// wildcard.
var tracingStatement = PolicyStatement{
	Sid: "Tracing", Effect: "Allow",
	Action:   []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
	Resource: []string{"*"},
}
