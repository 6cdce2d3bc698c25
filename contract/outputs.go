package contract

// Stack output names: every region stack exports them (stacks/) and the
// tools read them back (the offline plan, the DR drill from
// `pulumi stack output --json`).
const (
	OutputRegion                   = "region"
	OutputActiveRegion             = "activeRegion"
	OutputIsActive                 = "isActive"
	OutputHomeRegion               = "homeRegion"
	OutputTableRole                = "tableRole"
	OutputTableName                = "tableName"
	OutputTableArn                 = "tableArn"
	OutputTableBillingMode         = "tableBillingMode"
	OutputArchiveBucketName        = "archiveBucketName"
	OutputArchiveBucketArn         = "archiveBucketArn"
	OutputArchiveKMSKeyArn         = "archiveKmsKeyArn"
	OutputArchiveReplicaRegion     = "archiveReplicaRegion"
	OutputArchiveReplicaBucketName = "archiveReplicaBucketName"
	OutputFunctionName             = "functionName"
	OutputAPIURL                   = "apiUrl"
	OutputAPIKeyID                 = "apiKeyId"
	OutputAlarmTopicArn            = "alarmTopicArn"
	OutputDashboardName            = "dashboardName"
	OutputArtifactSHA256           = "artifactSha256"
	OutputCapacityCheck            = "capacityCheck"
	OutputTableBilling             = "tableBilling"
	OutputWebhookURL               = "webhookUrl"
	OutputIntakeQueueURL           = "intakeQueueUrl"
	OutputIntakeDLQURL             = "intakeDlqUrl"
	OutputDrainFunctionName        = "drainFunctionName"
	OutputIntakeModel              = "intakeModel"
	OutputFeedModel                = "feedModel"
	OutputWebhookInboxURL          = "webhookInboxUrl"
	OutputWebhookSecretArn         = "webhookSecretArn"
	// OutputAPIKeySecretName names the Secrets Manager secret that holds
	// the one API key value every region accepts (APIKeySecretName).
	OutputAPIKeySecretName = "apiKeySecretName"
	// OutputInboxFailuresURL is the queue that keeps inbox events the
	// function failed after Lambda's asynchronous retries (replay --inbox).
	OutputInboxFailuresURL = "inboxFailuresQueueUrl"
	// The dispatcher feed: the wss:// URL dispatchers connect to (with
	// ?token=), its token secret, its connections table and its DLQ.
	OutputFeedURL              = "feedUrl"
	OutputFeedSecretArn        = "feedSecretArn"
	OutputFeedConnectionsTable = "feedConnectionsTable"
	OutputFeedDLQURL           = "feedDlqUrl"
	// OutputFeedSwarmFunction is the swarm function, which replay
	// --stream-failures invokes with the batches its mapping discarded.
	OutputFeedSwarmFunction = "feedSwarmFunctionName"
	// DNS failover outputs, present when the stack manages the shared hostname.
	OutputAPIHostname   = "apiHostname"
	OutputHostedZoneID  = "hostedZoneId"
	OutputHealthCheckID = "healthCheckId"
	OutputGateCheckID   = "gateCheckId"
	// OutputFailoverOrder is access911:failoverOrder, the chain's order.
	OutputFailoverOrder = "failoverOrder"
	// OutputRegionalHostname always reaches this region's API.
	OutputRegionalHostname   = "regionalHostname"
	OutputRegionalDomainName = "regionalDomainName"
	OutputFeedHostname       = "feedHostname" // wss://<it>/?token=... follows the active region
)

// Table roles in a stack's tableRole output.
const (
	TableRoleOwner   = "owner"
	TableRoleReplica = "replica"
)

// APIKeySecretName is the Secrets Manager secret, in the home region with a
// replica in every other serving region, that holds the API key our own
// clients send (x-api-key). The home stack writes the value API Gateway
// generated for its key; every other stack reads its replica and gives its
// key the same value, so a client's key works in whichever region serves.
const APIKeySecretName = "access911/api-key"

// APIKeyHeader is the header API Gateway reads a client's API key from
// (the REST API's apiKeySource HEADER).
const APIKeyHeader = "x-api-key"

// ArchiveReplicationRuleID is the archive bucket's replication rule: the
// RuleId dimension of S3's OperationsPendingReplication metric, which the
// drill reads before turning a recovered region back on.
const ArchiveReplicationRuleID = "replicate-all-calls"
