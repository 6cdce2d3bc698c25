package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// CallsTableType is the Pulumi type token of the CallsTable component.
const CallsTableType = "access911:components:CallsTable"

// StreamViewType: global tables replicate from the table's stream and need
// both images.
const StreamViewType = "NEW_AND_OLD_IMAGES"

// CallsTableArgs configures the calls table.
type CallsTableArgs struct {
	// Name is the physical table name. Every replica of a global table has the
	// same name, so it is set explicitly rather than auto-named.
	Name string
	// Billing is the capacity decision for the whole global table (replicas
	// share billing mode and write capacity, so it is decided once, by the
	// caller, and passed to the owner and every replica alike).
	Billing capacity.Billing
	// GlobalTableArn selects the role. Nil: this component owns the table
	// (the home region). Set: it owns a replica of that table in the region of
	// its provider.
	GlobalTableArn pulumi.StringInput
	// TTLAttribute names the expiry attribute; defaults to contract.TTLAttribute.
	TTLAttribute string
	// Tags are added to the table or replica (the provider's default tags
	// apply as well).
	Tags pulumi.StringMap
}

// CallsTable is the DynamoDB table (or global-table replica) that stores calls.
type CallsTable struct {
	pulumi.ResourceState

	// TableName is the physical name, the same in every region.
	TableName pulumi.StringOutput `pulumi:"tableName"`
	// TableArn is the ARN of the table in this component's region.
	TableArn pulumi.StringOutput `pulumi:"tableArn"`
	// StreamArn is the table's stream, set when this component owns the
	// table. A replica's stream is its own (AWS gives it another label) and
	// TableReplica does not report it: the stack looks it up.
	StreamArn pulumi.StringOutput `pulumi:"streamArn"`
	// BillingMode is the mode the global table uses.
	BillingMode pulumi.StringOutput `pulumi:"billingMode"`
	// Replica tells whether this component owns a replica rather than the table.
	Replica bool
}

// NewCallsTable registers the calls table. Security defaults are always on:
// server-side encryption with KMS, point-in-time recovery, deletion protection,
// and the Pulumi resource is protected and retained on delete, so neither a
// stray `pulumi destroy` nor a replacement can drop emergency-call data.
func NewCallsTable(ctx *pulumi.Context, name string, args *CallsTableArgs, opts ...pulumi.ResourceOption) (*CallsTable, error) {
	if args == nil || args.Name == "" {
		return nil, fmt.Errorf("calls table %q: a physical table name is required", name)
	}
	if args.Billing.Mode != capacity.PayPerRequest && args.Billing.Mode != capacity.Provisioned {
		return nil, fmt.Errorf("calls table %q: billing mode %q is not one of %s, %s",
			name, args.Billing.Mode, capacity.PayPerRequest, capacity.Provisioned)
	}
	ttl := args.TTLAttribute
	if ttl == "" {
		ttl = contract.TTLAttribute
	}

	c := &CallsTable{Replica: args.GlobalTableArn != nil}
	if err := ctx.RegisterComponentResource(CallsTableType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	// Data is protected in Pulumi as well as in AWS.
	dataOpts := []pulumi.ResourceOption{parent, pulumi.Protect(true), pulumi.RetainOnDelete(true)}

	var dependsOn pulumi.Resource
	if c.Replica {
		// The replica inherits key schema, GSI, stream, TTL, encryption type
		// and billing mode from the global table; PITR and deletion
		// protection are per replica and are turned on here too.
		replica, err := dynamodb.NewTableReplica(ctx, name+"-replica", &dynamodb.TableReplicaArgs{
			GlobalTableArn:            args.GlobalTableArn,
			PointInTimeRecovery:       pulumi.Bool(true),
			DeletionProtectionEnabled: pulumi.Bool(true),
			Tags:                      args.Tags,
		}, dataOpts...)
		if err != nil {
			return nil, fmt.Errorf("calls table %q: replica: %w", name, err)
		}
		c.TableArn = replica.Arn
		dependsOn = replica
	} else {
		table, err := dynamodb.NewTable(ctx, name, ownerTableArgs(args, ttl), append(dataOpts,
			// Replicas are owned by other stacks through TableReplica; the
			// table must not try to remove them (the provider's documented
			// pairing of aws_dynamodb_table with aws_dynamodb_table_replica).
			// Autoscaling owns the provisioned capacity once the table exists.
			pulumi.IgnoreChanges([]string{"replicas", "readCapacity", "writeCapacity"}))...)
		if err != nil {
			return nil, fmt.Errorf("calls table %q: %w", name, err)
		}
		c.TableArn, c.StreamArn = table.Arn, table.StreamArn
		dependsOn = table
	}
	c.TableName = pulumi.String(args.Name).ToStringOutput()
	c.BillingMode = pulumi.String(args.Billing.Mode).ToStringOutput()

	if as := args.Billing.Autoscaling; args.Billing.Mode == capacity.Provisioned && as != nil {
		// Provisioned global tables need autoscaling on every replica (the
		// replica's capacity lives in its own region), table and index alike.
		if err := registerAutoscaling(ctx, name, args.Name, as, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{dependsOn})); err != nil {
			return nil, fmt.Errorf("calls table %q: autoscaling: %w", name, err)
		}
	}

	outputs := pulumi.Map{"tableName": c.TableName, "tableArn": c.TableArn, "billingMode": c.BillingMode}
	if !c.Replica {
		outputs["streamArn"] = c.StreamArn
	}
	if err := ctx.RegisterResourceOutputs(c, outputs); err != nil {
		return nil, err
	}
	return c, nil
}

func ownerTableArgs(args *CallsTableArgs, ttl string) *dynamodb.TableArgs {
	attrs := dynamodb.TableAttributeArray{}
	for _, a := range contract.KeyAttributes() {
		attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(a.Name), Type: pulumi.String(a.Type)})
	}
	gsi := dynamodb.TableGlobalSecondaryIndexArgs{
		Name:           pulumi.String(contract.EmergencyTypeIndex),
		HashKey:        pulumi.String(contract.IndexHashKey),
		RangeKey:       pulumi.String(contract.IndexRangeKey),
		ProjectionType: pulumi.String("ALL"),
	}
	ta := &dynamodb.TableArgs{
		Name:        pulumi.String(args.Name),
		BillingMode: pulumi.String(args.Billing.Mode),
		HashKey:     pulumi.String(contract.TableHashKey),
		RangeKey:    pulumi.String(contract.TableRangeKey),
		Attributes:  attrs,
		// The seed turns PITR on only with on-demand billing. Emergency-call
		// records are evidence, and a provisioned table is no less valuable:
		// PITR is on in both modes (35 days of restore points).
		PointInTimeRecovery: dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		// KMS encryption at rest with the AWS-managed key (alias/aws/dynamodb),
		// which every replica region has without extra key plumbing.
		ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		DeletionProtectionEnabled: pulumi.Bool(true),
		StreamEnabled:             pulumi.Bool(true),
		StreamViewType:            pulumi.String(StreamViewType),
		Ttl:                       dynamodb.TableTtlArgs{AttributeName: pulumi.String(ttl), Enabled: pulumi.Bool(true)},
		Tags:                      args.Tags,
	}
	if args.Billing.Mode == capacity.Provisioned {
		ta.ReadCapacity = pulumi.Int(args.Billing.ReadCapacity)
		ta.WriteCapacity = pulumi.Int(args.Billing.WriteCapacity)
		gsi.ReadCapacity = pulumi.Int(args.Billing.ReadCapacity)
		gsi.WriteCapacity = pulumi.Int(args.Billing.WriteCapacity)
	}
	ta.GlobalSecondaryIndexes = dynamodb.TableGlobalSecondaryIndexArray{gsi}
	return ta
}

// scalingDimension is one Application Auto Scaling target on the table or GSI.
type scalingDimension struct {
	suffix     string // logical-name suffix
	resourceID string
	dimension  string
	metric     string
}

func scalingDimensions(tableName string) []scalingDimension {
	table := "table/" + tableName
	index := table + "/index/" + contract.EmergencyTypeIndex
	return []scalingDimension{
		{"table-read", table, "dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"},
		{"table-write", table, "dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"},
		{"index-read", index, "dynamodb:index:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"},
		{"index-write", index, "dynamodb:index:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"},
	}
}

func registerAutoscaling(ctx *pulumi.Context, name, tableName string, as *capacity.Autoscaling, opts ...pulumi.ResourceOption) error {
	for _, d := range scalingDimensions(tableName) {
		target, err := appautoscaling.NewTarget(ctx, name+"-"+d.suffix, &appautoscaling.TargetArgs{
			ServiceNamespace:  pulumi.String("dynamodb"),
			ResourceId:        pulumi.String(d.resourceID),
			ScalableDimension: pulumi.String(d.dimension),
			MinCapacity:       pulumi.Int(as.Min),
			MaxCapacity:       pulumi.Int(as.Max),
		}, opts...)
		if err != nil {
			return err
		}
		_, err = appautoscaling.NewPolicy(ctx, name+"-"+d.suffix, &appautoscaling.PolicyArgs{
			PolicyType:        pulumi.String("TargetTrackingScaling"),
			ServiceNamespace:  target.ServiceNamespace,
			ResourceId:        target.ResourceId,
			ScalableDimension: target.ScalableDimension,
			TargetTrackingScalingPolicyConfiguration: appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
				TargetValue: pulumi.Float64(as.TargetPercent),
				PredefinedMetricSpecification: appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String(d.metric),
				},
			},
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{target}))...)
		if err != nil {
			return err
		}
	}
	return nil
}
