package stacks

import (
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

// The parts of a region, each registered through the region's provider.

// dispatcherFeed registers the feed's token secret and the feed, on this
// region's stream of the calls table: the table's own in the home region,
// the replica's (looked up once the replica exists) elsewhere.
func (r *region) dispatcherFeed(ctx *pulumi.Context, cfg stackconfig.Config, code artifact.Artifact, provider *aws.Provider,
	secretValue pulumi.StringInput) error {
	if r.opts.Features.NoFeed {
		return nil
	}
	inRegion := pulumi.Provider(provider)
	var err error
	if r.feedSecret, err = components.NewWebhookSecret(ctx, r.opts.name("feed-secret"), &components.WebhookSecretArgs{
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
	r.feed, err = components.NewFeed(ctx, r.opts.name("feed"), &components.FeedArgs{App: r.opts.componentApp(),
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
	r.readCache, err = components.NewReadCache(ctx, r.opts.name("read-cache"), &components.ReadCacheArgs{App: r.opts.componentApp(),
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
	if r.table, err = components.NewCallsTable(ctx, r.opts.keptName("calls"), tableArgs, inRegion); err != nil {
		return err
	}
	archive := &components.ArchiveBucketArgs{
		InboxExpiry:     !r.opts.Features.NoProviderWebhook, // the provider inbox lives in this bucket
		ReplicaProvider: replicaProvider,
	}
	if !r.opts.isAccess911() {
		archive.Purpose = r.opts.App + " call archive"
	}
	if r.archive, err = components.NewArchiveBucket(ctx, r.opts.name("archive"), archive, inRegion); err != nil {
		return err
	}
	r.stream = r.streamArn(ctx, inRegion)
	if r.opts.Features.NoProviderWebhook {
		return nil
	}
	r.secret, err = components.NewWebhookSecret(ctx, r.opts.name("webhook-secret"), &components.WebhookSecretArgs{
		Value: secretValue,
	}, inRegion)
	return err
}

// compute registers the intake queue, the call-intake function and the
// drain function that empties the queue.
func (r *region) compute(ctx *pulumi.Context, cfg stackconfig.Config, buffer capacity.Buffer, code artifact.Artifact,
	inRegion pulumi.ResourceOption) error {
	var err error
	if !r.opts.Features.NoIntakeQueue {
		if r.queue, err = components.NewIntakeQueue(ctx, r.opts.name("intake-queue"), &components.IntakeQueueArgs{
			App:                 r.opts.componentApp(),
			DrainTimeoutSeconds: capacity.TimeoutSeconds,
			MaxReceiveCount:     cfg.IntakeMaxReceiveCount,
		}, inRegion); err != nil {
			return err
		}
	}
	fn := &components.FunctionArgs{
		App:                 r.opts.componentApp(),
		Code:                r.code,
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
		AllowOrigin:         cfg.CORSAllowOrigin,
	}
	if r.secret != nil {
		fn.WebhookSecretArn = r.secret.SecretArn
	}
	if r.queue != nil {
		fn.Intake = &components.FunctionIntake{Mode: cfg.IntakeMode, QueueURL: r.queue.QueueURL,
			QueueArn: r.queue.QueueArn, KMSKeyArn: r.queue.KMSKeyArn, InboxFailuresArn: r.queue.InboxFailuresArn}
	}
	if r.fn, err = components.NewFunction(ctx, r.opts.name("intake"), fn, inRegion); err != nil || r.queue == nil {
		return err
	}
	r.drain, err = components.NewDrain(ctx, r.opts.name("drain"), &components.DrainArgs{
		App: r.opts.componentApp(), Code: r.code, CodeHash: code.SHA256, Queue: r.queue,
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
	if err := r.restAPI(ctx, cfg, inRegion); err != nil {
		return err
	}
	var err error
	if r.secret != nil {
		if _, err = components.NewInboxTrigger(ctx, r.opts.name("inbox"), &components.InboxTriggerArgs{
			Function: r.fn, BucketName: r.archive.BucketName, BucketArn: r.archive.BucketArn,
			FailureDestinationArn: r.queue.InboxFailuresArn,
		}, inRegion); err != nil {
			return err
		}
	}
	alarms := &components.AlarmsArgs{
		App:                 r.opts.componentApp(),
		Region:              cfg.Region,
		APIName:             r.api.APIName,
		StageName:           r.api.StageName,
		FunctionName:        r.fn.FunctionName,
		ReservedConcurrency: r.fn.ReservedConcurrency,
		TableName:           r.table.TableName,
		ReadCache:           r.readCacheAlarms(),
		Standby:             !cfg.IsActive(),
		AccountID:           pulumi.String(r.account.AccountID),
		AlarmEmail:          cfg.AlarmEmail,
		DashboardName:       r.opts.name(cfg.Region),
	}
	if r.queue != nil {
		alarms.Intake = &components.IntakeAlarms{QueueName: r.queue.QueueName, DLQName: r.queue.DLQName,
			InboxFailuresName: r.queue.InboxFailuresName,
			DrainFunctionName: r.drain.FunctionName, DrainConcurrency: r.drain.MaxConcurrency}
	}
	r.alarms, err = components.NewAlarms(ctx, r.opts.name("alarms"), alarms, inRegion)
	return err
}

// restAPI registers the API (the provider's routes and inbox only with the
// webhook) and, in the home region, the secret every region's key is read
// from.
func (r *region) restAPI(ctx *pulumi.Context, cfg stackconfig.Config, inRegion pulumi.ResourceOrInvokeOption) error {
	api := &components.APIArgs{
		App:                  r.opts.componentApp(),
		Function:             r.fn,
		ThrottleBurstLimit:   cfg.APIThrottleBurst,
		ThrottleRateLimit:    float64(cfg.APIThrottleRateRps),
		AllowOrigin:          cfg.CORSAllowOrigin,
		LogRetentionDays:     cfg.LogRetentionDays,
		ManageAccountLogging: true,
		APIKeyValue:          r.sharedAPIKey(ctx, cfg, inRegion),
	}
	if r.readCache != nil {
		api.Reads = r.readCache.Reader
	}
	if r.opts.Features.NoProviderWebhook {
		api.Routes = withoutProviderRoutes(contract.Routes)
	} else {
		api.Inbox = &components.InboxArgs{Region: cfg.Region, BucketName: r.archive.BucketName,
			BucketArn: r.archive.BucketArn, KMSKeyArn: r.archive.KMSKeyArn}
	}
	var err error
	if r.api, err = components.NewAPI(ctx, r.opts.name("api"), api, inRegion); err != nil || !cfg.IsHome() {
		return err
	}
	_, err = components.NewClientKeySecret(ctx, r.opts.name("api-key"), &components.ClientKeySecretArgs{
		Name: r.opts.apiKeySecretName(), Value: r.api.APIKeyValue, ReplicaRegions: cfg.OtherRegions(),
	}, inRegion)
	return err
}

// withoutProviderRoutes are the routes but the provider's webhook and inbox.
func withoutProviderRoutes(routes []*contract.Route) []*contract.Route {
	return slices.DeleteFunc(slices.Clone(routes), func(r *contract.Route) bool {
		return r == &contract.ProviderWebhook || r == &contract.ProviderInbox
	})
}

func (r *region) readCacheAlarms() *components.ReadCacheAlarms {
	if r.readCache == nil {
		return nil
	}
	return &components.ReadCacheAlarms{ReaderFunctionName: r.readCache.ReaderFunction, InvalidatorFunctionName: r.readCache.InvalidatorFunction}
}

// sharedAPIKey is the API key value a region's key must have so that a
// client's key works in every region: nil in the home region, whose key API
// Gateway generates and whose stack writes it to the app's API key secret
// (replicated to every other region); elsewhere the value read from this
// region's replica of that secret (so the home stack goes first, as it must
// for the table).
func (r *region) sharedAPIKey(ctx *pulumi.Context, cfg stackconfig.Config, inRegion pulumi.InvokeOption) pulumi.StringInput {
	if cfg.IsHome() {
		return nil
	}
	v := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{
		SecretId: pulumi.String(r.opts.apiKeySecretName()),
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
	args := &components.FailoverArgs{
		App:      r.opts.componentApp(),
		Hostname: cfg.APIHostname,
		ZoneID:   cfg.HostedZoneID,
		Region:   cfg.Region,
		Position: cfg.FailoverPosition(),
		Readers:  cfg.Regions,
		API:      r.api,
		TTL:      cfg.DNSTTLSeconds,
	}
	if r.feed != nil {
		args.Feed = &components.FailoverFeed{APIID: r.feed.APIID, StageName: r.feed.StageName}
	}
	var err error
	r.dns, err = components.NewFailover(ctx, r.opts.name("dns"), args, inRegion)
	return err
}
