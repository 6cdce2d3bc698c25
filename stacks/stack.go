package stacks

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/project"
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
	billing, err := TableBilling(cfg)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", ctx.Stack(), KeyFailoverLoadRps, err)
	}
	report := CapacityReport(cfg, billing)
	if err := report.Err(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	for _, f := range report.Findings {
		if f.Severity != "ok" {
			_ = ctx.Log.Warn("capacity: "+f.String(), nil)
		}
	}
	code, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: moduleDir()})
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
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

	fn, err := components.NewFunction(ctx, "access911-intake", &components.FunctionArgs{
		Code:                pulumi.NewFileArchive(projectRelative(code.Path)),
		CodeHash:            code.SHA256,
		ReservedConcurrency: cfg.LambdaReservedConcurrency,
		MemoryMB:            cfg.LambdaMemoryMB,
		TimeoutSeconds:      cfg.LambdaTimeoutSeconds,
		LogRetentionDays:    cfg.LogRetentionDays,
		TableName:           table.TableName,
		TableArn:            table.TableArn,
		ArchiveBucketName:   archive.BucketName,
		ArchiveBucketArn:    archive.BucketArn,
		ArchiveKMSKeyArn:    archive.KMSKeyArn,
		Environment: pulumi.StringMap{
			"ACCESS911_REGION":  pulumi.String(cfg.Region),
			"METRICS_NAMESPACE": pulumi.String(contract.Namespace),
			"CORS_ALLOW_ORIGIN": pulumi.String(cfg.CORSAllowOrigin),
		},
	}, inRegion)
	if err != nil {
		return nil, err
	}
	api, err := components.NewAPI(ctx, "access911-api", &components.APIArgs{
		Function:             fn,
		ThrottleBurstLimit:   cfg.APIThrottleBurst,
		ThrottleRateLimit:    float64(cfg.APIThrottleRateRps),
		AllowOrigin:          cfg.CORSAllowOrigin,
		LogRetentionDays:     cfg.LogRetentionDays,
		ManageAccountLogging: true,
	}, inRegion)
	if err != nil {
		return nil, err
	}
	alarms, err := components.NewAlarms(ctx, "access911-alarms", &components.AlarmsArgs{
		APIName:             api.APIName,
		StageName:           api.StageName,
		FunctionName:        fn.FunctionName,
		ReservedConcurrency: fn.ReservedConcurrency,
		TableName:           table.TableName,
		AlarmEmail:          cfg.AlarmEmail,
		DashboardName:       "access911-" + cfg.Region,
	}, inRegion)
	if err != nil {
		return nil, err
	}

	dnsOutputs := pulumi.Map{}
	if cfg.DNSEnabled() {
		fo, err := components.NewFailover(ctx, "access911-dns", &components.FailoverArgs{
			Hostname:      cfg.APIHostname,
			ZoneID:        cfg.HostedZoneID,
			SetIdentifier: cfg.Region,
			Weight:        cfg.RecordWeight(),
			API:           api,
			TTL:           cfg.DNSTTLSeconds,
		}, inRegion)
		if err != nil {
			return nil, err
		}
		dnsOutputs = pulumi.Map{
			"apiHostname":        pulumi.String(cfg.APIHostname),
			"hostedZoneId":       pulumi.String(cfg.HostedZoneID),
			"healthCheckId":      fo.HealthCheckID,
			"dnsWeight":          pulumi.Int(fo.Weight),
			"regionalDomainName": fo.RegionalDomainName,
		}
	}

	role := "replica"
	if cfg.IsHome() {
		role = "owner"
	}
	outputs := pulumi.Map{
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
		"functionName":             fn.FunctionName,
		"apiUrl":                   api.InvokeURL,
		"apiKeyId":                 api.APIKeyID,
		"alarmTopicArn":            alarms.TopicArn,
		"dashboardName":            alarms.DashboardName,
		"artifactSha256":           pulumi.String(code.SHA256),
		"capacityCheck":            capacityOutput(report),
	}
	for k, v := range dnsOutputs {
		outputs[k] = v
	}
	return outputs, nil
}

// TableBilling decides the global table's billing once, identically in every
// stack: replicas share billing mode and write capacity, the active region
// carries every region's callers after a failover, and the platform is
// designed for 10x spikes, so the seed's rule is applied to the design peak.
func TableBilling(cfg Config) (capacity.Billing, error) {
	return capacity.DecideBilling(capacity.DesignPeakRps(cfg.FailoverLoadRps))
}

// CapacityReport runs the capacity consistency check on a stack's config.
func CapacityReport(cfg Config, billing capacity.Billing) capacity.Report {
	return capacity.Check(capacity.CheckInput{
		FailoverLoadRps:     cfg.FailoverLoadRps,
		RateLimit:           float64(cfg.APIThrottleRateRps),
		BurstLimit:          cfg.APIThrottleBurst,
		ReservedConcurrency: cfg.LambdaReservedConcurrency,
		MemoryMB:            cfg.LambdaMemoryMB,
		Timeout:             time.Duration(cfg.LambdaTimeoutSeconds) * time.Second,
		P99Duration:         time.Duration(cfg.ExpectedP99Ms) * time.Millisecond,
		Billing:             billing,
	}, cfg.CapacityCheck)
}

func capacityOutput(r capacity.Report) pulumi.Map {
	findings := pulumi.Array{}
	for _, f := range r.Findings {
		findings = append(findings, pulumi.Map{
			"check": pulumi.String(f.Check), "needed": pulumi.Float64(f.Needed), "configured": pulumi.Float64(f.Configured),
			"unit": pulumi.String(f.Unit), "severity": pulumi.String(f.Severity), "detail": pulumi.String(f.Detail),
		})
	}
	return pulumi.Map{"mode": pulumi.String(r.Mode), "findings": findings}
}

// projectRelative makes a path under the project relative to it: Pulumi runs
// the program in the project directory, and state and plans then hold no
// machine-specific path.
func projectRelative(path string) string {
	if rel, err := filepath.Rel(moduleDir(), path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// moduleDir is the directory holding go.mod: the project directory under
// `pulumi up`, found by walking up from the working directory in tests and
// the offline plan.
func moduleDir() string {
	dir, err := project.FindUp(".", "go.mod")
	if err != nil {
		return "."
	}
	return dir
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
