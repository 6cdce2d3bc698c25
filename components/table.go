package components

import (
	"errors"
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
	Name string `pulumi:"name"`
	// Billing is the capacity decision for the whole global table (replicas
	// share billing mode and write capacity, so it is decided once, by the
	// caller, and passed to the owner and every replica alike).
	Billing capacity.Billing `pulumi:"billing"`
	// GlobalTableArn selects the role. Nil: this component owns the table
	// (the home region). Set: it owns a replica of that table in the region of
	// its provider.
	GlobalTableArn pulumi.StringInput `pulumi:"globalTableArn"`
	// TTLAttribute names the expiry attribute; defaults to contract.TTLAttribute.
	TTLAttribute string `pulumi:"ttlAttribute"`
	// Keys is the table's key schema and its global secondary indexes;
	// nil is access911's (AccessKeys: conversation_id / timestamp, and the
	// emergency-type index).
	Keys *TableKeys `pulumi:"keys"`
	// AllowDestroy turns off what keeps the data by default: deletion
	// protection in AWS, and protect and retain-on-delete in Pulumi. Leave
	// it false for anything holding records.
	AllowDestroy bool `pulumi:"allowDestroy"`
	// Tags are added to the table or replica (the provider's default tags
	// apply as well).
	Tags pulumi.StringMap `pulumi:"tags"`
}

// TableKeys is a table's key schema and its global secondary indexes.
type TableKeys struct {
	Hash    contract.KeyAttribute `pulumi:"hash"`
	Range   contract.KeyAttribute `pulumi:"range"` // Name "" for a hash-only table
	Indexes []TableIndex          `pulumi:"indexes"`
}

// TableIndex is one global secondary index, projecting every attribute.
type TableIndex struct {
	Name  string                `pulumi:"name"`
	Hash  contract.KeyAttribute `pulumi:"hash"`
	Range contract.KeyAttribute `pulumi:"range"`
}

// AccessKeys is access911's key schema: calls by conversation and time, and
// seed 000's emergency-type index.
func AccessKeys() *TableKeys {
	attr := map[string]contract.KeyAttribute{}
	for _, a := range contract.KeyAttributes() {
		attr[a.Name] = a
	}
	return &TableKeys{Hash: attr[contract.TableHashKey], Range: attr[contract.TableRangeKey],
		Indexes: []TableIndex{{Name: contract.EmergencyTypeIndex, Hash: attr[contract.IndexHashKey], Range: attr[contract.IndexRangeKey]}}}
}

// attributes are the key attributes of the table and its indexes, each once.
func (k *TableKeys) attributes() []contract.KeyAttribute {
	var out []contract.KeyAttribute
	seen := map[string]bool{}
	add := func(a contract.KeyAttribute) {
		if a.Name != "" && !seen[a.Name] {
			seen[a.Name] = true
			out = append(out, a)
		}
	}
	add(k.Hash)
	add(k.Range)
	for _, ix := range k.Indexes {
		add(ix.Hash)
		add(ix.Range)
	}
	return out
}

// validate refuses a schema DynamoDB would: no hash key, a type other than
// S, N or B, or one attribute given two types.
func (k *TableKeys) validate() error {
	types := map[string]string{}
	check := func(where string, a contract.KeyAttribute, required bool) error {
		if a.Name == "" {
			if required {
				return fmt.Errorf("%s: a hash key is required", where)
			}
			return nil
		}
		if a.Type != "S" && a.Type != "N" && a.Type != "B" {
			return fmt.Errorf("%s: attribute %q has type %q: accepted: S, N or B", where, a.Name, a.Type)
		}
		if t, ok := types[a.Name]; ok && t != a.Type {
			return fmt.Errorf("%s: attribute %q is %s here and %s elsewhere", where, a.Name, a.Type, t)
		}
		types[a.Name] = a.Type
		return nil
	}
	if err := errors.Join(check("table key", k.Hash, true), check("table key", k.Range, false)); err != nil {
		return err
	}
	for _, ix := range k.Indexes {
		if ix.Name == "" {
			return errors.New("an index needs a name")
		}
		if err := errors.Join(check("index "+ix.Name, ix.Hash, true), check("index "+ix.Name, ix.Range, false)); err != nil {
			return err
		}
	}
	return nil
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
	if args.Billing.Mode == capacity.Provisioned && (args.Billing.ReadCapacity < 1 || args.Billing.WriteCapacity < 1) {
		return nil, fmt.Errorf("calls table %q: provisioned billing with %d read and %d write units: accepted: at least 1 of each",
			name, args.Billing.ReadCapacity, args.Billing.WriteCapacity)
	}
	keys := args.Keys
	if keys == nil {
		keys = AccessKeys()
	}
	if err := keys.validate(); err != nil {
		return nil, fmt.Errorf("calls table %q: %w", name, err)
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
	// Data is protected in Pulumi as well as in AWS, unless the caller
	// says it may go (AllowDestroy).
	keep := !args.AllowDestroy
	dataOpts := []pulumi.ResourceOption{parent, pulumi.Protect(keep), pulumi.RetainOnDelete(keep)}

	var dependsOn pulumi.Resource
	if c.Replica {
		// The replica inherits key schema, GSI, stream, TTL, encryption type
		// and billing mode from the global table; PITR and deletion
		// protection are per replica and are turned on here too.
		replica, err := dynamodb.NewTableReplica(ctx, name+"-replica", &dynamodb.TableReplicaArgs{
			GlobalTableArn:            args.GlobalTableArn,
			PointInTimeRecovery:       pulumi.Bool(true),
			DeletionProtectionEnabled: pulumi.Bool(keep),
			Tags:                      args.Tags,
		}, dataOpts...)
		if err != nil {
			return nil, fmt.Errorf("calls table %q: replica: %w", name, err)
		}
		c.TableArn = replica.Arn
		dependsOn = replica
	} else {
		table, err := dynamodb.NewTable(ctx, name, ownerTableArgs(args, keys, ttl), append(dataOpts,
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
		if err := registerAutoscaling(ctx, name, args.Name, keys, as, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{dependsOn})); err != nil {
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

func ownerTableArgs(args *CallsTableArgs, keys *TableKeys, ttl string) *dynamodb.TableArgs {
	attrs := dynamodb.TableAttributeArray{}
	for _, a := range keys.attributes() {
		attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(a.Name), Type: pulumi.String(a.Type)})
	}
	ta := &dynamodb.TableArgs{
		Name:        pulumi.String(args.Name),
		BillingMode: pulumi.String(args.Billing.Mode),
		HashKey:     pulumi.String(keys.Hash.Name),
		Attributes:  attrs,
		// The seed turns PITR on only with on-demand billing. Emergency-call
		// records are evidence, and a provisioned table is no less valuable:
		// PITR is on in both modes (35 days of restore points).
		PointInTimeRecovery: dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		// KMS encryption at rest with the AWS-managed key (alias/aws/dynamodb),
		// which every replica region has without extra key plumbing.
		ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		DeletionProtectionEnabled: pulumi.Bool(!args.AllowDestroy),
		StreamEnabled:             pulumi.Bool(true),
		StreamViewType:            pulumi.String(StreamViewType),
		Ttl:                       dynamodb.TableTtlArgs{AttributeName: pulumi.String(ttl), Enabled: pulumi.Bool(true)},
		Tags:                      args.Tags,
	}
	if keys.Range.Name != "" {
		ta.RangeKey = pulumi.String(keys.Range.Name)
	}
	if args.Billing.Mode == capacity.Provisioned {
		ta.ReadCapacity = pulumi.Int(args.Billing.ReadCapacity)
		ta.WriteCapacity = pulumi.Int(args.Billing.WriteCapacity)
	}
	indexes := dynamodb.TableGlobalSecondaryIndexArray{}
	for _, ix := range keys.Indexes {
		gsi := dynamodb.TableGlobalSecondaryIndexArgs{Name: pulumi.String(ix.Name), HashKey: pulumi.String(ix.Hash.Name), ProjectionType: pulumi.String("ALL")}
		if ix.Range.Name != "" {
			gsi.RangeKey = pulumi.String(ix.Range.Name)
		}
		if args.Billing.Mode == capacity.Provisioned {
			gsi.ReadCapacity = pulumi.Int(args.Billing.ReadCapacity)
			gsi.WriteCapacity = pulumi.Int(args.Billing.WriteCapacity)
		}
		indexes = append(indexes, gsi)
	}
	if len(indexes) > 0 {
		ta.GlobalSecondaryIndexes = indexes
	}
	return ta
}

// scalingDimension is one Application Auto Scaling target on the table or GSI.
type scalingDimension struct {
	suffix     string // logical-name suffix
	resourceID string
	dimension  string
	metric     string
}

func scalingDimensions(tableName string, keys *TableKeys) []scalingDimension {
	table := "table/" + tableName
	dims := []scalingDimension{
		{"table-read", table, "dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"},
		{"table-write", table, "dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"},
	}
	for i, ix := range keys.Indexes {
		suffix := "index"
		if i > 0 { // access911's one index keeps its names: index-read, index-write
			suffix = "index-" + ix.Name
		}
		index := table + "/index/" + ix.Name
		dims = append(dims,
			scalingDimension{suffix + "-read", index, "dynamodb:index:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"},
			scalingDimension{suffix + "-write", index, "dynamodb:index:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"})
	}
	return dims
}

func registerAutoscaling(ctx *pulumi.Context, name, tableName string, keys *TableKeys, as *capacity.Autoscaling, opts ...pulumi.ResourceOption) error {
	for _, d := range scalingDimensions(tableName, keys) {
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
