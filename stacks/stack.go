package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
)

// Deploy is the Pulumi program: it builds the stack and exports its outputs.
func Deploy(ctx *pulumi.Context) error {
	outputs, err := Build(ctx)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		ctx.Export(k, v)
	}
	return nil
}

// Build validates the configuration, composes the region's components and
// returns the stack outputs. Nothing is registered when the config is bad.
func Build(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("stack %s: invalid configuration:\n%w", ctx.Stack(), err)
	}
	// Replicas of a global table share billing mode and write capacity, and
	// after a failover the active region carries every region's callers. So
	// the decision is made from the failover load, the same in every stack.
	billing, err := capacity.DecideBilling(cfg.FailoverLoadRps)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", ctx.Stack(), KeyFailoverLoadRps, err)
	}

	provider, err := newProvider(ctx, cfg.Region)
	if err != nil {
		return nil, err
	}
	replicaProvider, err := newProvider(ctx, cfg.ArchiveReplicaRegion)
	if err != nil {
		return nil, err
	}
	inRegion := pulumi.Provider(provider)

	tableArgs := &components.CallsTableArgs{Name: cfg.TableName, Billing: billing}
	if !cfg.IsHome() {
		arn, err := globalTableArn(ctx, provider, cfg)
		if err != nil {
			return nil, err
		}
		tableArgs.GlobalTableArn = pulumi.String(arn)
	}
	table, err := components.NewCallsTable(ctx, "calls", tableArgs, inRegion)
	if err != nil {
		return nil, err
	}

	archive, err := components.NewArchiveBucket(ctx, "access911-archive", &components.ArchiveBucketArgs{
		ReplicaProvider: replicaProvider,
	}, inRegion)
	if err != nil {
		return nil, err
	}

	role := "replica"
	if cfg.IsHome() {
		role = "owner"
	}
	return pulumi.Map{
		"region":                   pulumi.String(cfg.Region),
		"activeRegion":             pulumi.String(cfg.ActiveRegion),
		"isActive":                 pulumi.Bool(cfg.IsActive()),
		"homeRegion":               pulumi.String(cfg.HomeRegion),
		"tableRole":                pulumi.String(role),
		"tableName":                table.TableName,
		"tableArn":                 table.TableArn,
		"tableBillingMode":         table.BillingMode,
		"archiveBucketName":        archive.BucketName,
		"archiveBucketArn":         archive.BucketArn,
		"archiveKmsKeyArn":         archive.KMSKeyArn,
		"archiveReplicaRegion":     pulumi.String(cfg.ArchiveReplicaRegion),
		"archiveReplicaBucketName": archive.ReplicaBucketName,
	}, nil
}

// newProvider is the explicit AWS provider for one region. Every AWS resource
// in the program names its provider, so no resource can land in whatever
// region the operator's shell happens to default to.
func newProvider(ctx *pulumi.Context, region string) (*aws.Provider, error) {
	p, err := aws.NewProvider(ctx, "aws-"+region, &aws.ProviderArgs{
		Region: pulumi.String(region),
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{
			"project":    pulumi.String(Namespace),
			"stack":      pulumi.String(ctx.Stack()),
			"managed-by": pulumi.String("pulumi"),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("aws provider %s: %w", region, err)
	}
	return p, nil
}

// globalTableArn is the ARN of the home region's table. The table has the
// same explicit name in every region, so the ARN follows from the account,
// which the provider reports; the home stack must be up first (README).
func globalTableArn(ctx *pulumi.Context, provider *aws.Provider, cfg Config) (string, error) {
	id, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Provider(provider))
	if err != nil {
		return "", fmt.Errorf("global table arn: caller identity: %w", err)
	}
	partition := "aws"
	if parts := strings.SplitN(id.Arn, ":", 3); len(parts) == 3 && parts[1] != "" {
		partition = parts[1]
	}
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, cfg.HomeRegion, id.AccountId, cfg.TableName), nil
}
