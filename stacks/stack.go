// Package stacks is the Pulumi program: it reads one region stack's
// configuration (through stackconfig) and composes the components for that
// region with an explicit aws.Provider. main.go only calls Deploy.
package stacks

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/capacity"
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

// Options let another program build a region from this composition: its
// own configuration namespace and its own Lambda artifact.
type Options struct {
	// ConfigNamespace is where the keys are read ("shop" reads shop:regions,
	// ...); default stackconfig.Namespace ("access911").
	ConfigNamespace string
	// Code is the Lambda deployment package; nil builds ./cmd/lambda of the
	// module the program runs in (artifact.Build), access911's own.
	Code *artifact.Artifact
	// ArchivePairs add to the default archive destinations by serving
	// region (us-east-2 has none: an app serving from Ohio names one).
	ArchivePairs map[string]string
}

// BuildWith is Build with options: access911's composition of a region, on
// another namespace's configuration and another build of the functions.
func BuildWith(ctx *pulumi.Context, o Options) (pulumi.Map, error) {
	cfg, err := LoadConfigFrom(ctx, o.ConfigNamespace, o.ArchivePairs)
	if err != nil {
		return nil, fmt.Errorf("stack %s: invalid configuration:\n%w", ctx.Stack(), err)
	}
	size, err := Sizing(cfg)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", ctx.Stack(), stackconfig.KeyNormalLoadRps, err)
	}
	report := size.Report
	if err := report.Err(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
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
	r, err := compose(ctx, cfg, size, code, secrets)
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
}

// compose registers the region's components, each through the region's
// explicit provider (the archive's replica through a second one).
func compose(ctx *pulumi.Context, cfg stackconfig.Config, size Size, code artifact.Artifact,
	secrets secretValues) (*region, error) {
	provider, err := newProvider(ctx, cfg.Region)
	if err != nil {
		return nil, err
	}
	replicaProvider, err := newProvider(ctx, cfg.ArchiveReplicaRegion)
	if err != nil {
		return nil, err
	}
	inRegion := pulumi.Provider(provider)
	who, err := callerIdentity(ctx, provider)
	if err != nil {
		return nil, err
	}
	r := &region{code: pulumi.NewFileArchive(projectRelative(code.Path)), account: who}
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

// dispatcherFeed registers the feed's token secret and the feed, on this
// region's stream of the calls table: the table's own in the home region,
// the replica's (looked up once the replica exists) elsewhere.
func (r *region) dispatcherFeed(ctx *pulumi.Context, cfg stackconfig.Config, code artifact.Artifact, provider *aws.Provider,
	secretValue pulumi.StringInput) error {
	inRegion := pulumi.Provider(provider)
	var err error
	if r.feedSecret, err = components.NewWebhookSecret(ctx, "access911-feed-secret", &components.WebhookSecretArgs{
		Value: secretValue, Description: "The secret dispatcher tokens for the live feed are signed with",
	}, inRegion); err != nil {
		return err
	}
	stream := r.stream
	f := cfg.Feed
	var invalidator *components.FeedCacheInvalidator
	if r.readCache != nil { // the swarm is the stream's one reader and hands the cache its changes
		invalidator = &components.FeedCacheInvalidator{FunctionName: r.readCache.InvalidatorFunction, FunctionArn: r.readCache.InvalidatorArn}
	}
	r.feed, err = components.NewFeed(ctx, "access911-feed", &components.FeedArgs{
		Code: r.code, CodeHash: code.SHA256,
		StreamArn: stream, SecretArn: r.feedSecret.SecretArn,
		FailureBucketArn: r.archive.BucketArn, FailureKeyArn: r.archive.KMSKeyArn,
		Partitions: f.Partitions, PartitionsPerArea: f.PartitionsPerArea, Queues: f.Queues, QueryBatchSize: f.QueryBatchSize, QueryConcurrency: f.QueryConcurrency,
		TimeoutSeconds: capacity.TimeoutSeconds, MemoryMB: capacity.MemoryMB, LogRetentionDays: cfg.LogRetentionDays,
		AlarmTopicArn: r.alarms.TopicArn, Region: cfg.Region, StageDependsOn: []pulumi.Resource{r.api},
		CacheInvalidator: invalidator,
	}, inRegion)
	return err
}

// streamArn is this region's stream of the calls table: the table's own in
// the home region, the replica's (looked up once the replica exists)
// elsewhere.
func (r *region) streamArn(ctx *pulumi.Context, inRegion pulumi.ResourceOrInvokeOption) pulumi.StringInput {
	if !r.table.Replica {
		return r.table.StreamArn
	}
	return dynamodb.LookupTableOutput(ctx, dynamodb.LookupTableOutputArgs{Name: r.table.TableName},
		inRegion, pulumi.DependsOn([]pulumi.Resource{r.table})).StreamArn()
}

// CacheZoneIDs are the zones the read cache's subnets go in, in a fixed
// order: the region's standard zones (opt-in not required: no Local or
// Wavelength Zone) by ID, sorted, as AWS promises no order (EC2 API
// Reference, DescribeAvailabilityZones) and a plan must not change when
// the list comes back reordered.
func CacheZoneIDs(ids []string) []string {
	return slices.Sorted(slices.Values(ids))
}

// cache registers, with access911:readCache valkey, the read cache: its
// VPC in two of the region's zones, the serverless cache, and the reader
// and invalidator functions.
func (r *region) cache(ctx *pulumi.Context, cfg stackconfig.Config, code artifact.Artifact, provider *aws.Provider) error {
	if !cfg.ReadCache.Enabled() {
		return nil
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}}},
		pulumi.Provider(provider))
	if err != nil {
		return fmt.Errorf("availability zones of %s: %w", cfg.Region, err)
	}
	rc := cfg.ReadCache
	r.readCache, err = components.NewReadCache(ctx, "access911-read-cache", &components.ReadCacheArgs{
		Code: r.code, CodeHash: code.SHA256, AvailabilityZoneIDs: CacheZoneIDs(zones.ZoneIds),
		DynamoDBServiceName: "com.amazonaws." + cfg.Region + ".dynamodb",
		TableName:           r.table.TableName, TableArn: r.table.TableArn,
		TTLSeconds: rc.TTLSeconds, QueryTTLSeconds: rc.QueryTTLSeconds, MaxECPUPerSecond: rc.MaxECPUPerSecond, MaxDataGB: rc.MaxDataGB,
		MemoryMB: capacity.MemoryMB, TimeoutSeconds: capacity.TimeoutSeconds, LogRetentionDays: cfg.LogRetentionDays,
		AllowOrigin: cfg.CORSAllowOrigin,
	}, pulumi.Provider(provider))
	return err
}

// data registers the calls table (or this region's replica), the archive
// and the webhook secret.
func (r *region) data(ctx *pulumi.Context, cfg stackconfig.Config, billing capacity.Billing, provider, replicaProvider *aws.Provider,
	secretValue pulumi.StringInput) error {
	inRegion := pulumi.Provider(provider)
	tableArgs := &components.CallsTableArgs{Name: cfg.TableName, Billing: billing}
	if !cfg.IsHome() {
		tableArgs.GlobalTableArn = pulumi.String(globalTableArn(r.account, cfg))
	}
	var err error
	if r.table, err = components.NewCallsTable(ctx, "calls", tableArgs, inRegion); err != nil {
		return err
	}
	if r.archive, err = components.NewArchiveBucket(ctx, "access911-archive", &components.ArchiveBucketArgs{
		InboxExpiry:     true, // the provider inbox lives in this bucket
		ReplicaProvider: replicaProvider,
	}, inRegion); err != nil {
		return err
	}
	r.stream = r.streamArn(ctx, inRegion)
	r.secret, err = components.NewWebhookSecret(ctx, "access911-webhook-secret", &components.WebhookSecretArgs{
		Value: secretValue,
	}, inRegion)
	return err
}

// compute registers the intake queue, the call-intake function and the
// drain function that empties the queue.
func (r *region) compute(ctx *pulumi.Context, cfg stackconfig.Config, buffer capacity.Buffer, code artifact.Artifact,
	inRegion pulumi.ResourceOption) error {
	var err error
	if r.queue, err = components.NewIntakeQueue(ctx, "access911-intake-queue", &components.IntakeQueueArgs{
		DrainTimeoutSeconds: capacity.TimeoutSeconds,
		MaxReceiveCount:     cfg.IntakeMaxReceiveCount,
	}, inRegion); err != nil {
		return err
	}
	archive := r.code
	if r.fn, err = components.NewFunction(ctx, "access911-intake", &components.FunctionArgs{
		Code:                archive,
		CodeHash:            code.SHA256,
		ReservedConcurrency: cfg.LambdaReservedConcurrency,
		MemoryMB:            cfg.LambdaMemoryMB,
		TimeoutSeconds:      cfg.LambdaTimeoutSeconds,
		LogRetentionDays:    cfg.LogRetentionDays,
		TableName:           r.table.TableName,
		TableArn:            r.table.TableArn,
		ArchiveBucketName:   r.archive.BucketName,
		ArchiveBucketArn:    r.archive.BucketArn,
		ArchiveKMSKeyArn:    r.archive.KMSKeyArn,
		WebhookSecretArn:    r.secret.SecretArn,
		Intake: &components.FunctionIntake{Mode: cfg.IntakeMode, QueueURL: r.queue.QueueURL,
			QueueArn: r.queue.QueueArn, KMSKeyArn: r.queue.KMSKeyArn, InboxFailuresArn: r.queue.InboxFailuresArn},
		AllowOrigin: cfg.CORSAllowOrigin,
	}, inRegion); err != nil {
		return err
	}
	r.drain, err = components.NewDrain(ctx, "access911-drain", &components.DrainArgs{
		Code: archive, CodeHash: code.SHA256, Queue: r.queue,
		TableName: r.table.TableName, TableArn: r.table.TableArn,
		BatchSize: cfg.IntakeBatchSize, BatchWindowSeconds: cfg.IntakeBatchWindowSeconds,
		MaxConcurrency: buffer.Concurrency, TimeoutSeconds: capacity.TimeoutSeconds,
		MemoryMB: capacity.MemoryMB, LogRetentionDays: cfg.LogRetentionDays,
	}, inRegion)
	return err
}

// edge registers the API, its alarms and, with a shared hostname, the DNS
// failover record of this region.
func (r *region) edge(ctx *pulumi.Context, cfg stackconfig.Config, inRegion pulumi.ResourceOrInvokeOption) error {
	var err error
	var reads *components.Function
	if r.readCache != nil {
		reads = r.readCache.Reader
	}
	if r.api, err = components.NewAPI(ctx, "access911-api", &components.APIArgs{
		Function:             r.fn,
		Reads:                reads,
		ThrottleBurstLimit:   cfg.APIThrottleBurst,
		ThrottleRateLimit:    float64(cfg.APIThrottleRateRps),
		AllowOrigin:          cfg.CORSAllowOrigin,
		LogRetentionDays:     cfg.LogRetentionDays,
		ManageAccountLogging: true,
		Inbox: &components.InboxArgs{Region: cfg.Region, BucketName: r.archive.BucketName,
			BucketArn: r.archive.BucketArn, KMSKeyArn: r.archive.KMSKeyArn},
		APIKeyValue: sharedAPIKey(ctx, cfg, inRegion),
	}, inRegion); err != nil {
		return err
	}
	if cfg.IsHome() {
		if _, err = components.NewClientKeySecret(ctx, "access911-api-key", &components.ClientKeySecretArgs{
			Name: contract.APIKeySecretName, Value: r.api.APIKeyValue, ReplicaRegions: cfg.OtherRegions(),
		}, inRegion); err != nil {
			return err
		}
	}
	if _, err = components.NewInboxTrigger(ctx, "access911-inbox", &components.InboxTriggerArgs{
		Function: r.fn, BucketName: r.archive.BucketName, BucketArn: r.archive.BucketArn,
		FailureDestinationArn: r.queue.InboxFailuresArn,
	}, inRegion); err != nil {
		return err
	}
	if r.alarms, err = components.NewAlarms(ctx, "access911-alarms", &components.AlarmsArgs{
		Region:              cfg.Region,
		APIName:             r.api.APIName,
		StageName:           r.api.StageName,
		FunctionName:        r.fn.FunctionName,
		ReservedConcurrency: r.fn.ReservedConcurrency,
		TableName:           r.table.TableName,
		Intake: &components.IntakeAlarms{QueueName: r.queue.QueueName, DLQName: r.queue.DLQName,
			InboxFailuresName: r.queue.InboxFailuresName,
			DrainFunctionName: r.drain.FunctionName, DrainConcurrency: r.drain.MaxConcurrency},
		ReadCache:     r.readCacheAlarms(),
		Standby:       !cfg.IsActive(),
		AccountID:     pulumi.String(r.account.AccountID),
		AlarmEmail:    cfg.AlarmEmail,
		DashboardName: "access911-" + cfg.Region,
	}, inRegion); err != nil {
		return err
	}
	return nil
}

func (r *region) readCacheAlarms() *components.ReadCacheAlarms {
	if r.readCache == nil {
		return nil
	}
	return &components.ReadCacheAlarms{ReaderFunctionName: r.readCache.ReaderFunction, InvalidatorFunctionName: r.readCache.InvalidatorFunction}
}

// sharedAPIKey is the API key value a region's key must have so that a
// client's key works in every region: nil in the home region, whose key API
// Gateway generates and whose stack writes it to contract.APIKeySecretName
// (replicated to every other region); elsewhere the value read from this
// region's replica of that secret (so the home stack goes first, as it must
// for the table).
func sharedAPIKey(ctx *pulumi.Context, cfg stackconfig.Config, inRegion pulumi.InvokeOption) pulumi.StringInput {
	if cfg.IsHome() {
		return nil
	}
	v := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{
		SecretId: pulumi.String(contract.APIKeySecretName),
	}, inRegion).SecretString()
	return pulumi.ToSecret(v).(pulumi.StringOutput)
}

// failover registers, with a shared hostname, this region's gate and its
// records in the failover chain for the API and the dispatcher feed; every
// serving region reads the control for it.
func (r *region) failover(ctx *pulumi.Context, cfg stackconfig.Config, inRegion pulumi.ResourceOption) error {
	if !cfg.DNSEnabled() {
		return nil
	}
	var err error
	r.dns, err = components.NewFailover(ctx, "access911-dns", &components.FailoverArgs{
		Hostname: cfg.APIHostname,
		ZoneID:   cfg.HostedZoneID,
		Region:   cfg.Region,
		Position: cfg.FailoverPosition(),
		Readers:  cfg.Regions,
		API:      r.api,
		Feed:     &components.FailoverFeed{APIID: r.feed.APIID, StageName: r.feed.StageName},
		TTL:      cfg.DNSTTLSeconds,
	}, inRegion)
	return err
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
		contract.OutputWebhookURL:               pulumi.Sprintf("%s%s", r.api.InvokeURL, contract.ProviderWebhook.Path),
		contract.OutputWebhookInboxURL:          pulumi.Sprintf("%s%s", r.api.InvokeURL, contract.ProviderInbox.Path),
		contract.OutputWebhookSecretArn:         r.secret.SecretArn,
		contract.OutputIntakeQueueURL:           r.queue.QueueURL,
		contract.OutputIntakeDLQURL:             r.queue.DLQURL,
		contract.OutputInboxFailuresURL:         r.queue.InboxFailuresURL,
		contract.OutputDrainFunctionName:        r.drain.FunctionName,
		contract.OutputAPIKeyID:                 r.api.APIKeyID,
		contract.OutputAPIKeySecretName:         pulumi.String(contract.APIKeySecretName),
		contract.OutputAlarmTopicArn:            r.alarms.TopicArn,
		contract.OutputDashboardName:            r.alarms.DashboardName,
		contract.OutputFeedURL:                  r.feed.URL,
		contract.OutputFeedSecretArn:            r.feedSecret.SecretArn,
		contract.OutputFeedConnectionsTable:     r.feed.ConnectionsTable,
		contract.OutputFeedDLQURL:               r.feed.DLQURL,
		contract.OutputFeedSwarmFunction:        r.feed.SwarmFunction,
	}
	if r.dns != nil {
		out[contract.OutputAPIHostname] = pulumi.String(cfg.APIHostname)
		out[contract.OutputHostedZoneID] = pulumi.String(cfg.HostedZoneID)
		out[contract.OutputHealthCheckID] = r.dns.HealthCheckID
		out[contract.OutputGateCheckID] = r.dns.GateCheckID
		out[contract.OutputFailoverOrder] = pulumi.ToStringArray(cfg.FailoverOrder)
		out[contract.OutputRegionalHostname] = pulumi.String(r.dns.RegionalHostname)
		out[contract.OutputRegionalDomainName] = r.dns.RegionalDomainName
		out[contract.OutputFeedHostname] = pulumi.String(contract.FeedHostnamePrefix + cfg.APIHostname)
	}
	return out
}

// code is the Lambda artifact the options give, or access911's build.
func (o Options) code() (artifact.Artifact, error) {
	if o.Code != nil {
		if o.Code.Path == "" || o.Code.SHA256 == "" {
			return artifact.Artifact{}, errors.New("options: Code needs the zip's Path and its SHA256")
		}
		return *o.Code, nil
	}
	return artifact.Build(context.Background(), artifact.Options{ModuleDir: moduleDir()})
}
