// Package stackconfig reads and validates one region stack's configuration:
// the access911 keys Pulumi.yaml declares, with the values the engine passes
// (project-level values and defaults already applied, as `pulumi up` does).
// It imports no Pulumi package, so tools read a stack's configuration the
// way the program does without linking the Pulumi program.
package stackconfig

import (
	"slices"
	"strconv"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// Namespace is the project's configuration namespace (the project name).
const Namespace = "access911"

// Configuration keys. Pulumi.yaml declares each access911 key with its type,
// description and default or value; TestProjectDeclaresEveryKey keeps the
// two in step.
const (
	KeyAWSRegion = "aws:region"

	// Shared by every stack: written once, as project-level values in
	// Pulumi.yaml (see SharedKeys).
	KeyRegions       = Namespace + ":regions"
	KeyActiveRegion  = Namespace + ":activeRegion"
	KeyHomeRegion    = Namespace + ":homeRegion"
	KeyNormalLoadRps = Namespace + ":normalLoadRps"
	KeyTableName     = Namespace + ":tableName"
	KeyAPIHostname   = Namespace + ":apiHostname"
	KeyHostedZoneID  = Namespace + ":hostedZoneId"
	KeyFailoverOrder = Namespace + ":failoverOrder"

	KeyArchiveReplicaRegion      = Namespace + ":archiveReplicaRegion"
	KeyArchiveEUResidency        = Namespace + ":archiveEuResidency"
	KeyLambdaReservedConcurrency = Namespace + ":lambdaReservedConcurrency"
	KeyLambdaMemoryMB            = Namespace + ":lambdaMemoryMb"
	KeyLambdaTimeoutSeconds      = Namespace + ":lambdaTimeoutSeconds"
	KeyAPIThrottleBurst          = Namespace + ":apiThrottleBurst"
	KeyAPIThrottleRateRps        = Namespace + ":apiThrottleRateRps"
	KeyExpectedP99Ms             = Namespace + ":expectedP99Ms"
	KeyCapacityCheck             = Namespace + ":capacityCheck"
	KeyAlarmEmail                = Namespace + ":alarmEmail"
	KeyCORSAllowOrigin           = Namespace + ":corsAllowOrigin"
	KeyLogRetentionDays          = Namespace + ":logRetentionDays"
	KeyDNSTTLSeconds             = Namespace + ":dnsTtlSeconds"

	KeyIntakeMode               = Namespace + ":intakeMode"
	KeyIntakeMaxReceiveCount    = Namespace + ":intakeMaxReceiveCount"
	KeyIntakeBatchSize          = Namespace + ":intakeBatchSize"
	KeyIntakeBatchWindowSeconds = Namespace + ":intakeBatchWindowSeconds"
	KeyDrainMaxConcurrency      = Namespace + ":drainMaxConcurrency"
	KeySpikeMinutes             = Namespace + ":spikeMinutes"

	KeyFeedConnections       = Namespace + ":feedConnections"
	KeyFeedPartitions        = Namespace + ":feedPartitions"
	KeyFeedQueues            = Namespace + ":feedQueues"
	KeyFeedPartitionsPerArea = Namespace + ":feedPartitionsPerArea"
	KeyFeedAreas             = Namespace + ":feedAreas"
	KeyFeedSupervisors       = Namespace + ":feedSupervisors"
	KeyFeedQueryBatchSize    = Namespace + ":feedQueryBatchSize"
	KeyFeedQueryConcurrency  = Namespace + ":feedQueryConcurrency"
	KeyFeedPostRateLimit     = Namespace + ":feedPostRateLimit"
	KeyFeedDeliveryTargetMs  = Namespace + ":feedDeliveryTargetMs"

	KeyReadCache                = Namespace + ":readCache"
	KeyReadCacheTTLSeconds      = Namespace + ":readCacheTtlSeconds"
	KeyReadCacheQueryTTLSeconds = Namespace + ":readCacheQueryTtlSeconds"
	KeyReadCacheMaxECPUPerSec   = Namespace + ":readCacheMaxEcpuPerSecond"
	KeyReadCacheMaxDataGB       = Namespace + ":readCacheMaxDataGb"

	KeySpikeHourCostCeilingUSD = Namespace + ":spikeHourCostCeilingUsd"
	KeyStoredCallsPerDay       = Namespace + ":storedCallsPerDay"

	// KeyWebhookSecret optionally sets the provider's webhook secret from a
	// Pulumi secret (pulumi config set --secret). It is not one of Keys():
	// nothing prints or parses it, and the program refuses it in plain text.
	KeyWebhookSecret = Namespace + ":webhookSecret"
	// KeyFeedSecret likewise sets the secret dispatcher tokens are signed
	// with (or put it outside Pulumi, as for the webhook's).
	KeyFeedSecret = Namespace + ":feedSecret"
)

// SharedKeys must hold the same value in every stack. They are set once, in
// Pulumi.yaml, and a stack file that sets one is refused by the offline
// plan; the program itself checks only what one stack can see.
var SharedKeys = []string{
	KeyRegions, KeyActiveRegion, KeyHomeRegion, KeyNormalLoadRps,
	KeyTableName, KeyAPIHostname, KeyHostedZoneID, KeyFailoverOrder,
	// Every dispatcher follows the active region: each region is sized for all.
	KeyFeedConnections, KeyFeedAreas, KeyFeedSupervisors,
}

// Defaults are the values of keys a stack may leave out, as Pulumi.yaml
// declares them (`default:`) and the engine applies them; Parse applies the
// same when a caller passes no value. The seed's numbers come from capacity,
// where each is declared once with its seed line. Keys without a default
// (the shared ones, set as project values) are required.
var Defaults = map[string]string{
	KeyTableName:                 "access911-calls",
	KeyArchiveReplicaRegion:      "",
	KeyArchiveEUResidency:        "true",
	KeyLambdaReservedConcurrency: strconv.Itoa(capacity.ReservedConcurrency),
	KeyLambdaMemoryMB:            strconv.Itoa(capacity.MemoryMB),
	KeyLambdaTimeoutSeconds:      strconv.Itoa(capacity.TimeoutSeconds),
	KeyAPIThrottleBurst:          strconv.Itoa(capacity.ThrottleBurst),
	KeyAPIThrottleRateRps:        strconv.Itoa(capacity.ThrottleRateRps),
	KeyExpectedP99Ms:             strconv.Itoa(int(capacity.DefaultP99Duration.Milliseconds())),
	KeyCapacityCheck:             capacity.ModeEnforce,
	KeyAlarmEmail:                "",
	KeyCORSAllowOrigin:           contract.DefaultAllowOrigin,
	KeyLogRetentionDays:          "30",
	KeyAPIHostname:               "",
	KeyHostedZoneID:              "",
	KeyDNSTTLSeconds:             "30",
	KeyIntakeMode:                contract.IntakeDirect,
	KeyIntakeMaxReceiveCount:     strconv.Itoa(capacity.DefaultMaxReceiveCount),
	KeyIntakeBatchSize:           strconv.Itoa(capacity.DefaultDrainBatchSize),
	KeyIntakeBatchWindowSeconds:  "1",
	KeyDrainMaxConcurrency:       "0",
	KeySpikeMinutes:              "60",
	KeyFeedConnections:           strconv.Itoa(capacity.FeedConnections),
	KeyFeedPartitions:            strconv.Itoa(capacity.FeedPartitions),
	KeyFeedQueues:                strconv.Itoa(capacity.FeedQueues),
	KeyFeedPartitionsPerArea:     strconv.Itoa(capacity.FeedPartitionsPerArea),
	KeyFeedAreas:                 strconv.Itoa(capacity.FeedAreas),
	KeyFeedSupervisors:           strconv.Itoa(capacity.FeedSupervisors),
	KeyFeedQueryBatchSize:        strconv.Itoa(capacity.FeedQueryBatchSize),
	KeyFeedQueryConcurrency:      strconv.Itoa(capacity.FeedQueryConcurrency),
	KeyFeedPostRateLimit:         strconv.Itoa(capacity.FeedPostRateLimit),
	KeyFeedDeliveryTargetMs:      strconv.Itoa(int(capacity.FeedDeliveryTarget.Milliseconds())),
	KeyReadCache:                 ReadCacheNone,
	KeyReadCacheTTLSeconds:       strconv.Itoa(contract.ReadCacheTTLSeconds),
	KeyReadCacheQueryTTLSeconds:  strconv.Itoa(contract.ReadCacheQueryTTLSeconds),
	KeyReadCacheMaxECPUPerSec:    strconv.Itoa(capacity.ReadCacheMaxECPUPerSecond),
	KeyReadCacheMaxDataGB:        strconv.Itoa(capacity.ReadCacheMaxDataGB),
	KeySpikeHourCostCeilingUSD:   strconv.Itoa(capacity.SpikeHourCostCeilingUSD),
	KeyStoredCallsPerDay:         strconv.Itoa(capacity.StoredCallsPerDay),
}

// knownKeys lists every access911 key the program reads.
var knownKeys = []string{
	KeyRegions, KeyActiveRegion, KeyHomeRegion, KeyNormalLoadRps,
	KeyTableName, KeyArchiveReplicaRegion, KeyArchiveEUResidency,
	KeyLambdaReservedConcurrency, KeyLambdaMemoryMB, KeyLambdaTimeoutSeconds,
	KeyAPIThrottleBurst, KeyAPIThrottleRateRps, KeyExpectedP99Ms, KeyCapacityCheck,
	KeyAlarmEmail, KeyCORSAllowOrigin, KeyLogRetentionDays,
	KeyAPIHostname, KeyHostedZoneID, KeyFailoverOrder, KeyDNSTTLSeconds,
	KeyIntakeMode, KeyIntakeMaxReceiveCount, KeyIntakeBatchSize, KeyIntakeBatchWindowSeconds,
	KeyDrainMaxConcurrency, KeySpikeMinutes,
	KeyFeedConnections, KeyFeedAreas, KeyFeedSupervisors, KeyFeedPartitions, KeyFeedPartitionsPerArea, KeyFeedQueues, KeyFeedQueryBatchSize, KeyFeedQueryConcurrency,
	KeyFeedPostRateLimit, KeyFeedDeliveryTargetMs,
	KeyReadCache, KeyReadCacheTTLSeconds, KeyReadCacheQueryTTLSeconds, KeyReadCacheMaxECPUPerSec, KeyReadCacheMaxDataGB,
	KeySpikeHourCostCeilingUSD, KeyStoredCallsPerDay,
}

// Keys lists every access911 configuration key the program reads.
func Keys() []string { return slices.Clone(knownKeys) }
