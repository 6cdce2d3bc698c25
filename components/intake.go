package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// IntakeQueueType is the Pulumi type token of the IntakeQueue component.
const IntakeQueueType = "access911:components:IntakeQueue"

// IntakeQueueArgs configures the durable intake queue.
type IntakeQueueArgs struct {
	// DrainTimeoutSeconds is the drain function's timeout: the visibility
	// timeout is capacity.VisibilityTimeoutFactor times it.
	DrainTimeoutSeconds int `pulumi:"drainTimeoutSeconds"`
	// MaxReceiveCount deliveries before a call moves to the dead-letter
	// queue; default capacity.DefaultMaxReceiveCount.
	MaxReceiveCount int              `pulumi:"maxReceiveCount"`
	Tags            pulumi.StringMap `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

// IntakeQueue is the intake queue, its dead-letter queue and their key.
type IntakeQueue struct {
	pulumi.ResourceState

	QueueURL  pulumi.StringOutput `pulumi:"queueUrl"`
	QueueArn  pulumi.StringOutput `pulumi:"queueArn"`
	QueueName pulumi.StringOutput `pulumi:"queueName"`
	DLQURL    pulumi.StringOutput `pulumi:"dlqUrl"`
	DLQArn    pulumi.StringOutput `pulumi:"dlqArn"`
	DLQName   pulumi.StringOutput `pulumi:"dlqName"`
	KMSKeyArn pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// InboxFailures keeps the records of inbox events (S3 -> the intake
	// function, asynchronous) that failed every retry: the asynchronous
	// invocation's on-failure destination, read by `replay --inbox`.
	InboxFailuresURL  pulumi.StringOutput `pulumi:"inboxFailuresUrl"`
	InboxFailuresArn  pulumi.StringOutput `pulumi:"inboxFailuresArn"`
	InboxFailuresName pulumi.StringOutput `pulumi:"inboxFailuresName"`
}

// Queue retention: a backlog has a week to drain (capacity.QueueRetentionDays);
// dead-letter queues keep SQS's longest, two weeks, so a dead-lettered call
// outlives its source queue's retention (DLQ expiry counts from the first
// enqueue).
const (
	queueRetentionSeconds      = capacity.QueueRetentionDays * 24 * 3600
	deadLetterRetentionSeconds = capacity.DeadLetterRetentionDays * 24 * 3600
)

// NewIntakeQueue registers a customer-managed KMS key (rotated, protected),
// the dead-letter queue (14 days) and the intake queue (7 days), with the
// redrive policy between them, and the inbox failure queue (14 days): all
// SSE-KMS with the key, all with TLS-only policies.
func NewIntakeQueue(ctx *pulumi.Context, name string, args *IntakeQueueArgs, opts ...pulumi.ResourceOption) (*IntakeQueue, error) {
	if args == nil || args.DrainTimeoutSeconds < 1 {
		return nil, fmt.Errorf("intake queue %q: the drain function's timeout is required", name)
	}
	a := *args
	if a.MaxReceiveCount == 0 {
		a.MaxReceiveCount = capacity.DefaultMaxReceiveCount
	}
	c := &IntakeQueue{}
	if err := ctx.RegisterComponentResource(IntakeQueueType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(appName(a.App) + " intake queue: queued emergency calls"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(KMSKeyDeletionWindowDays),
		Tags:                 a.Tags,
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("intake queue %q: key: %w", name, err)
	}
	queueArgs := func(extra sqs.QueueArgs) *sqs.QueueArgs {
		extra.KmsMasterKeyId = key.Arn
		extra.KmsDataKeyReusePeriodSeconds = pulumi.Int(300) // one data key per 5 minutes, not per message
		if extra.MessageRetentionSeconds == nil {
			extra.MessageRetentionSeconds = pulumi.Int(queueRetentionSeconds)
		}
		extra.Tags = a.Tags
		return &extra
	}
	dlq, err := sqs.NewQueue(ctx, name+"-dlq", queueArgs(sqs.QueueArgs{NamePrefix: pulumi.String(name + "-dlq-"),
		MessageRetentionSeconds: pulumi.Int(deadLetterRetentionSeconds)}), parent)
	if err != nil {
		return nil, fmt.Errorf("intake queue %q: dead-letter queue: %w", name, err)
	}
	queue, err := sqs.NewQueue(ctx, name, queueArgs(sqs.QueueArgs{
		NamePrefix:               pulumi.String(name + "-"),
		VisibilityTimeoutSeconds: pulumi.Int(capacity.VisibilityTimeoutFactor * a.DrainTimeoutSeconds),
		ReceiveWaitTimeSeconds:   pulumi.Int(20), // long polling
		RedrivePolicy: dlq.Arn.ApplyT(func(arn string) string {
			b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": a.MaxReceiveCount})
			return string(b)
		}).(pulumi.StringOutput),
	}), parent)
	if err != nil {
		return nil, fmt.Errorf("intake queue %q: %w", name, err)
	}
	failures, err := sqs.NewQueue(ctx, name+"-inbox-failures", queueArgs(sqs.QueueArgs{
		NamePrefix:              pulumi.String(name + "-inbox-failures-"),
		MessageRetentionSeconds: pulumi.Int(contract.InboxFailureRetentionDays * 24 * 3600),
	}), parent)
	if err != nil {
		return nil, fmt.Errorf("intake queue %q: inbox failure queue: %w", name, err)
	}
	if err := intakeQueuePolicies(ctx, name, queue, dlq, failures, parent); err != nil {
		return nil, err
	}
	c.QueueURL, c.QueueArn, c.QueueName = queue.Url, queue.Arn, queue.Name
	c.DLQURL, c.DLQArn, c.DLQName = dlq.Url, dlq.Arn, dlq.Name
	c.KMSKeyArn = key.Arn
	c.InboxFailuresURL, c.InboxFailuresArn, c.InboxFailuresName = failures.Url, failures.Arn, failures.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"queueUrl": c.QueueURL, "queueArn": c.QueueArn, "queueName": c.QueueName,
		"dlqUrl": c.DLQURL, "dlqArn": c.DLQArn, "dlqName": c.DLQName, "kmsKeyArn": c.KMSKeyArn,
		"inboxFailuresUrl": c.InboxFailuresURL, "inboxFailuresArn": c.InboxFailuresArn, "inboxFailuresName": c.InboxFailuresName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// intakeQueuePolicies registers the DLQ's redrive allow policy (only the
// intake queue dead-letters there; replay moves messages back with
// StartMessageMoveTask) and the TLS-only policy of each of the three queues.
func intakeQueuePolicies(ctx *pulumi.Context, name string, queue, dlq, failures *sqs.Queue, parent pulumi.ResourceOption) error {
	if _, err := sqs.NewRedriveAllowPolicy(ctx, name+"-dlq", &sqs.RedriveAllowPolicyArgs{
		QueueUrl: dlq.Url,
		RedriveAllowPolicy: queue.Arn.ApplyT(func(arn string) string {
			b, _ := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{arn}})
			return string(b)
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return fmt.Errorf("intake queue %q: redrive allow policy: %w", name, err)
	}
	for _, q := range []struct {
		name string
		q    *sqs.Queue
	}{{name, queue}, {name + "-dlq", dlq}, {name + "-inbox-failures", failures}} {
		if _, err := sqs.NewQueuePolicy(ctx, q.name, &sqs.QueuePolicyArgs{
			QueueUrl: q.q.Url,
			Policy:   q.q.Arn.ApplyT(func(arn string) string { return TLSOnlyQueuePolicy(arn).JSON() }).(pulumi.StringOutput),
		}, parent); err != nil {
			return fmt.Errorf("intake queue %q: policy: %w", q.name, err)
		}
	}
	return nil
}

// TLSOnlyQueuePolicy denies every request to the queue that does not use
// TLS. It grants nothing: access comes from the functions' roles.
func TLSOnlyQueuePolicy(queueArn string) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*",
		Action:    []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"},
		Resource:  []string{queueArn},
		Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}}
}

// DrainType is the Pulumi type token of the Drain component.
const DrainType = "access911:components:Drain"

// DrainArgs configures the drain function and its event source mapping.
type DrainArgs struct {
	// Code and CodeHash are the same deployment package as the intake
	// function: one binary, whose entry tells SQS batches from API events.
	Code     pulumi.Archive `pulumi:"code"`
	CodeHash string         `pulumi:"codeHash"`
	// CodeObject, instead of Code, is the package as an S3 object in the
	// function's region (a release pipeline's upload); CodeHash is still
	// its base64 SHA-256.
	CodeObject *CodeObject  `pulumi:"codeObject"`
	Queue      *IntakeQueue `pulumi:"queue"`
	// TableName and TableArn are the calls table in this region.
	TableName pulumi.StringInput `pulumi:"tableName"`
	TableArn  pulumi.StringInput `pulumi:"tableArn"`
	// BatchSize and BatchWindowSeconds shape each invocation's batch.
	BatchSize          int `pulumi:"batchSize"`
	BatchWindowSeconds int `pulumi:"batchWindowSeconds"`
	// MaxConcurrency is the mapping's maximum concurrency (2-1000) and the
	// function's reserved concurrency, so the mapping can always use it.
	MaxConcurrency   int              `pulumi:"maxConcurrency"`
	TimeoutSeconds   int              `pulumi:"timeoutSeconds"`
	MemoryMB         int              `pulumi:"memoryMb"`
	LogRetentionDays int              `pulumi:"logRetentionDays"`
	Tags             pulumi.StringMap `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

// Drain is the drain function and its event source mapping.
type Drain struct {
	pulumi.ResourceState

	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// MaxConcurrency is the mapping's configured maximum (alarms read it).
	MaxConcurrency int
}

// NewDrain registers the drain function (the intake binary, its own role:
// only the conditional put, this queue's receive/delete and its key) and an
// SQS event source mapping with ReportBatchItemFailures.
func NewDrain(ctx *pulumi.Context, name string, args *DrainArgs, opts ...pulumi.ResourceOption) (*Drain, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("drain %q: %w", name, err)
	}
	a := *args
	c := &Drain{MaxConcurrency: a.MaxConcurrency}
	if err := ctx.RegisterComponentResource(DrainType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	fn, err := registerLambda(ctx, name, lambdaSpec{
		app:         a.App,
		description: appName(a.App) + " drain: stores the calls queued on the intake queue",
		roleNote:    appName(a.App) + " drain Lambda",
		code:        a.Code, object: a.CodeObject, codeHash: a.CodeHash,
		memoryMB: a.MemoryMB, timeoutSeconds: a.TimeoutSeconds, reserved: a.MaxConcurrency,
		logRetentionDays: a.LogRetentionDays, tags: a.Tags,
		env: pulumi.StringMap{contract.EnvCallsTable: a.TableName, contract.EnvIntakeQueueURL: a.Queue.QueueURL},
		policy: func(logGroupArn pulumi.StringOutput) pulumi.StringOutput {
			return pulumi.All(a.TableArn, a.Queue.QueueArn, a.Queue.KMSKeyArn, logGroupArn).ApplyT(func(v []any) string {
				return DrainPolicy(v[0].(string), v[1].(string), v[2].(string), v[3].(string)).JSON()
			}).(pulumi.StringOutput)
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("drain %q: %w", name, err)
	}
	if _, err := lambda.NewEventSourceMapping(ctx, name, &lambda.EventSourceMappingArgs{
		EventSourceArn:                 a.Queue.QueueArn,
		FunctionName:                   fn.function.Arn,
		BatchSize:                      pulumi.Int(a.BatchSize),
		MaximumBatchingWindowInSeconds: pulumi.Int(a.BatchWindowSeconds),
		FunctionResponseTypes:          pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
		ScalingConfig:                  lambda.EventSourceMappingScalingConfigArgs{MaximumConcurrency: pulumi.Int(a.MaxConcurrency)},
	}, parent); err != nil {
		return nil, fmt.Errorf("drain %q: event source mapping: %w", name, err)
	}
	c.FunctionName = fn.function.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"functionName": c.FunctionName}); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *DrainArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("a deployment package and its hash are required")
	case codeMissing(a.Code, a.CodeObject, a.CodeHash) != nil:
		return codeMissing(a.Code, a.CodeObject, a.CodeHash)
	case a.Queue == nil || a.TableName == nil || a.TableArn == nil:
		return fmt.Errorf("the intake queue and the calls table are required")
	case a.BatchSize < 1 || a.BatchSize > 10000:
		return fmt.Errorf("batch size %d is outside SQS's 1-10000", a.BatchSize)
	case a.BatchSize > 10 && a.BatchWindowSeconds < 1:
		return fmt.Errorf("a batch of %d needs a batching window of at least 1 s", a.BatchSize)
	case a.MaxConcurrency < capacity.MinDrainConcurrency || a.MaxConcurrency > capacity.MaxDrainConcurrency:
		return fmt.Errorf("maximum concurrency %d is outside %d-%d", a.MaxConcurrency, capacity.MinDrainConcurrency, capacity.MaxDrainConcurrency)
	case a.TimeoutSeconds < 1 || a.MemoryMB < 128 || a.LogRetentionDays < 1:
		return fmt.Errorf("timeout, memory and log retention are required")
	}
	return nil
}

// DrainPolicy is the drain function's policy: the conditional put (and the
// read of an existing call it makes), this queue's messages as the event
// source mapping consumes them, its key to decrypt them, its own logs and
// X-Ray.
func DrainPolicy(tableArn, queueArn, keyArn, logGroupArn string) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{
		{Sid: "StoreCalls", Effect: "Allow", Action: []string{"dynamodb:PutItem", "dynamodb:GetItem"}, Resource: []string{tableArn}},
		{Sid: "ConsumeQueue", Effect: "Allow",
			Action:   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"},
			Resource: []string{queueArn}},
		{Sid: "DecryptQueuedCalls", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{keyArn}},
		{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logGroupArn + ":*"}},
		tracingStatement,
	}}
}
