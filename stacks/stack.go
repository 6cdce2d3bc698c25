// Package stacks is the Pulumi program: it reads one region stack's
// configuration (through stackconfig) and composes the components for that
// region with an explicit aws.Provider. main.go only calls Deploy.
//
// Another program builds the same region for its own app with BuildWith:
// its names (Options.App), its configuration namespace, its Lambda package,
// more regions and archive pairs, and the parts it wants (Features).
package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/stacks/stackconfig"
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
// returns the stack outputs. Nothing is registered when the config is bad or
// the capacity check fails.
func Build(ctx *pulumi.Context) (pulumi.Map, error) { return BuildWith(ctx, Options{}) }

// BuildWith is Build with options: access911's composition of a region, on
// another namespace's configuration and another build of the functions.
func BuildWith(ctx *pulumi.Context, o Options) (pulumi.Map, error) {
	o, err := o.normalized()
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	cfg, err := LoadConfigFrom(ctx, o.ConfigNamespace, o.parseOptions())
	if err == nil {
		err = o.features(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("stack %s: invalid configuration:\n%w", ctx.Stack(), err)
	}
	size, err := sizing(cfg, o.Features)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", ctx.Stack(), o.key(stackconfig.KeyNormalLoadRps), err)
	}
	report := size.Report
	if err := report.Err(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), o.renamed(err))
	}
	secrets, err := readSecretValues(ctx)
	if err != nil {
		return nil, fmt.Errorf("stack %s: invalid configuration: %w", ctx.Stack(), err)
	}
	for _, f := range report.Findings {
		if f.Severity != "ok" {
			_ = ctx.Log.Warn("capacity: "+f.String(), nil)
		}
	}
	if cfg.AlarmEmail == "" {
		_ = ctx.Log.Warn("alarms: no one is subscribed to the alarm topic (output "+contract.OutputAlarmTopicArn+
			"): set "+stackconfig.KeyAlarmEmail+" or subscribe your paging tool after this up, or an outage reaches no one", nil)
	}
	code, err := o.code()
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	r, err := compose(ctx, o, cfg, size, code, secrets)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	outputs := r.outputs(cfg)
	outputs[contract.OutputTableBilling] = billingOutput(size.Billing)
	outputs[contract.OutputIntakeModel] = intakeOutput(cfg, size.Buffer)
	outputs[contract.OutputFeedModel] = feedOutput(cfg)
	outputs[contract.OutputCapacityCheck] = capacityOutput(report)
	outputs[contract.OutputArtifactSHA256] = pulumi.String(code.SHA256)
	return outputs, nil
}

// region is one stack's composed components.
type region struct {
	secret  *components.WebhookSecret
	table   *components.CallsTable
	archive *components.ArchiveBucket
	fn      *components.Function
	api     *components.API
	alarms  *components.Alarms
	dns     *components.Failover // nil without a shared hostname
	queue   *components.IntakeQueue
	drain   *components.Drain
	// The dispatcher feed and the secret its tokens are signed with.
	feedSecret *components.WebhookSecret
	feed       *components.Feed
	// readCache is nil unless access911:readCache is valkey.
	readCache *components.ReadCache
	// stream is this region's stream of the calls table (streamArn), read
	// by the feed's swarm alone (the read cache's invalidator gets its
	// batches from the swarm).
	stream pulumi.StringInput
	// code is the one deployment package every function runs.
	code pulumi.Archive
	// account is the AWS account the region's provider deploys into.
	account identity
	// opts name the app and say which parts it has.
	opts Options
}

// compose registers the region's components, each through the region's
// explicit provider (the archive's replica through a second one).
func compose(ctx *pulumi.Context, o Options, cfg stackconfig.Config, size Size, code artifact.Artifact,
	secrets secretValues) (*region, error) {
	provider, err := newProvider(ctx, o, cfg.Region)
	if err != nil {
		return nil, err
	}
	replicaProvider, err := newProvider(ctx, o, cfg.ArchiveReplicaRegion)
	if err != nil {
		return nil, err
	}
	inRegion := pulumi.Provider(provider)
	who, err := callerIdentity(ctx, provider)
	if err != nil {
		return nil, err
	}
	r := &region{opts: o, code: pulumi.NewFileArchive(projectRelative(code.Path)), account: who}
	if err := r.data(ctx, cfg, size.Billing, provider, replicaProvider, secrets.webhook); err != nil {
		return nil, err
	}
	if err := r.compute(ctx, cfg, size.Buffer, code, inRegion); err != nil {
		return nil, err
	}
	if err := r.cache(ctx, cfg, code, provider); err != nil {
		return nil, err
	}
	if err := r.edge(ctx, cfg, inRegion); err != nil {
		return nil, err
	}
	if err := r.dispatcherFeed(ctx, cfg, code, provider, secrets.feed); err != nil {
		return nil, err
	}
	if err := r.failover(ctx, cfg, inRegion); err != nil {
		return nil, err
	}
	return r, nil
}

// outputs are the stack outputs, by the contract's names (the drill and the
// offline plan read them back).
func (r *region) outputs(cfg stackconfig.Config) pulumi.Map {
	role := contract.TableRoleReplica
	if cfg.IsHome() {
		role = contract.TableRoleOwner
	}
	out := pulumi.Map{
		contract.OutputRegion:                   pulumi.String(cfg.Region),
		contract.OutputActiveRegion:             pulumi.String(cfg.ActiveRegion),
		contract.OutputIsActive:                 pulumi.Bool(cfg.IsActive()),
		contract.OutputHomeRegion:               pulumi.String(cfg.HomeRegion),
		contract.OutputTableRole:                pulumi.String(role),
		contract.OutputTableName:                r.table.TableName,
		contract.OutputTableArn:                 r.table.TableArn,
		contract.OutputTableBillingMode:         r.table.BillingMode,
		contract.OutputArchiveBucketName:        r.archive.BucketName,
		contract.OutputArchiveBucketArn:         r.archive.BucketArn,
		contract.OutputArchiveKMSKeyArn:         r.archive.KMSKeyArn,
		contract.OutputArchiveReplicaRegion:     pulumi.String(cfg.ArchiveReplicaRegion),
		contract.OutputArchiveReplicaBucketName: r.archive.ReplicaBucketName,
		contract.OutputFunctionName:             r.fn.FunctionName,
		contract.OutputAPIURL:                   r.api.InvokeURL,
		contract.OutputAPIKeyID:                 r.api.APIKeyID,
		contract.OutputAPIKeySecretName:         pulumi.String(r.opts.apiKeySecretName()),
		contract.OutputAlarmTopicArn:            r.alarms.TopicArn,
		contract.OutputDashboardName:            r.alarms.DashboardName,
	}
	r.optionalOutputs(out)
	if r.dns != nil {
		out[contract.OutputAPIHostname] = pulumi.String(cfg.APIHostname)
		out[contract.OutputHostedZoneID] = pulumi.String(cfg.HostedZoneID)
		out[contract.OutputHealthCheckID] = r.dns.HealthCheckID
		out[contract.OutputGateCheckID] = r.dns.GateCheckID
		out[contract.OutputFailoverOrder] = pulumi.ToStringArray(cfg.FailoverOrder)
		out[contract.OutputRegionalHostname] = pulumi.String(r.dns.RegionalHostname)
		out[contract.OutputRegionalDomainName] = r.dns.RegionalDomainName
		if r.feed != nil {
			out[contract.OutputFeedHostname] = pulumi.String(contract.FeedHostnamePrefix + cfg.APIHostname)
		}
	}
	return out
}

// optionalOutputs are the outputs of the parts an app may leave out.
func (r *region) optionalOutputs(out pulumi.Map) {
	if r.secret != nil {
		out[contract.OutputWebhookURL] = pulumi.Sprintf("%s%s", r.api.InvokeURL, contract.ProviderWebhook.Path)
		out[contract.OutputWebhookInboxURL] = pulumi.Sprintf("%s%s", r.api.InvokeURL, contract.ProviderInbox.Path)
		out[contract.OutputWebhookSecretArn] = r.secret.SecretArn
	}
	if r.queue != nil {
		out[contract.OutputIntakeQueueURL] = r.queue.QueueURL
		out[contract.OutputIntakeDLQURL] = r.queue.DLQURL
		out[contract.OutputInboxFailuresURL] = r.queue.InboxFailuresURL
		out[contract.OutputDrainFunctionName] = r.drain.FunctionName
	}
	if r.feed != nil {
		out[contract.OutputFeedURL] = r.feed.URL
		out[contract.OutputFeedSecretArn] = r.feedSecret.SecretArn
		out[contract.OutputFeedConnectionsTable] = r.feed.ConnectionsTable
		out[contract.OutputFeedDLQURL] = r.feed.DLQURL
		out[contract.OutputFeedSwarmFunction] = r.feed.SwarmFunction
	}
}
